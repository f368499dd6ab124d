"""A YAML reader for files a stranger may have written: plain data only, bounded.

Scenario and sweep files are YAML, and YAML can do more than a teacher needs:
tags that build Python objects or bytes, aliases that expand a few lines into
gigabytes ("billion laughs"), nesting deep enough to overflow Python's stack,
and repeated keys of which silently the last wins. :func:`load_yaml` reads
one document of plain values (mappings, lists, text, numbers, true/false,
null) and refuses everything else with a :class:`~capsim.errors.ScenarioError`
naming the file and line. One pass over PyYAML's event stream (which is not
recursive) checks the limits below before anything is built.

The limits are far above any real scenario or sweep and are fixed:

- :data:`MAX_BYTES` — file size (1 MiB);
- :data:`MAX_DEPTH` — nesting of lists and mappings (64);
- :data:`MAX_ALIASES` — ``*alias`` uses (1,000);
- :data:`MAX_NODES` — values after expanding every alias (200,000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from capsim.errors import Problem, ScenarioError
from capsim.i18n import t

MAX_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_ALIASES = 1_000
MAX_NODES = 200_000

_CORE = "tag:yaml.org,2002:"
#: Tags a file may spell out (``!!str 5``); every other tag is refused.
PLAIN_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))


@dataclass
class _Open:
    """A list or mapping still being read."""

    is_map: bool
    anchor: str | None
    size: int = 1
    items: int = 0
    keys: set[str] = field(default_factory=set)


def _fail(source: str, mark: Any, message: str) -> ScenarioError:
    line = None if mark is None else mark.line + 1
    return ScenarioError([Problem(source, line, "", message)])


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def check_events(text: str, source: str) -> None:
    """Walk the event stream once and refuse what :func:`load_yaml` does not read."""
    sizes: dict[str, int] = {}
    stack: list[_Open] = []
    aliases = 0
    total = 0
    documents = 0

    def add(size: int, ev: Any, key: str | None) -> None:
        nonlocal total
        total += size
        if total > MAX_NODES:
            msg = t("the file expands to more than {n} values (through aliases); capsim "
                    "refuses it", None, n=f"{MAX_NODES:,}")
            raise _fail(source, ev.start_mark, msg)
        if stack:
            top = stack[-1]
            if top.is_map and top.items % 2 == 0 and key is not None:
                if key in top.keys and key != "<<":
                    msg = t("the key {key!r} appears twice in the same mapping; keep one "
                            "(YAML would silently use the last)", None, key=_cut(key))
                    raise _fail(source, ev.start_mark, msg)
                top.keys.add(key)
            top.items += 1
            top.size += size

    for ev in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(ev, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _fail(source, ev.start_mark,
                            t("the file holds more than one YAML document (---); give one", None))
        elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            _check_tag(ev, source)
            if len(stack) >= MAX_DEPTH:
                msg = t("lists and mappings are nested more than {n} deep", None, n=MAX_DEPTH)
                raise _fail(source, ev.start_mark, msg)
            stack.append(_Open(isinstance(ev, yaml.MappingStartEvent), ev.anchor))
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            done = stack.pop()
            if done.anchor is not None:
                sizes[done.anchor] = done.size
            add(done.size, ev, None)
        elif isinstance(ev, yaml.ScalarEvent):
            _check_tag(ev, source)
            if ev.anchor is not None:
                sizes[ev.anchor] = 1
            add(1, ev, ev.value)
        elif isinstance(ev, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _fail(source, ev.start_mark,
                            t("more than {n} aliases (*name); capsim refuses it", None,
                              n=f"{MAX_ALIASES:,}"))
            if ev.anchor not in sizes:
                open_ = any(o.anchor == ev.anchor for o in stack)
                name = _cut(str(ev.anchor))
                msg = (t("the alias *{name} refers to the value that contains it (a loop)",
                         None, name=name) if open_ else
                       t("the alias *{name} names no anchor defined before it", None, name=name))
                raise _fail(source, ev.start_mark, msg)
            add(sizes[ev.anchor], ev, None)


def _check_tag(ev: Any, source: str) -> None:
    tag = getattr(ev, "tag", None)
    if tag is None or tag == "!" or tag in PLAIN_TAGS:
        return
    raise _fail(source, ev.start_mark,
                t("the tag {tag} is not allowed; capsim reads plain values only (text, numbers, "
                  "true/false, null, lists, mappings): remove the tag", None,
                  tag=_cut(_tag_name(tag))))


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The one document in ``text`` as plain data, and its node tree (for line numbers).

    Raises ``ScenarioError`` (file and line) for invalid YAML and for anything
    outside the limits in this module's docstring.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise ScenarioError([Problem(
            source, None, "",
            t("the file is {size} MiB; capsim reads YAML files up to {max} MiB", None,
              size=f"{size / (1 << 20):.1f}", max=MAX_BYTES >> 20))])
    try:
        check_events(text, source)
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            _check_resolved(root, source)
            data = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        msg = t("not valid YAML: {problem}", None, problem=_cut(str(problem), 200))
        raise _fail(source, mark, msg) from None
    return data, root


def _check_resolved(root: yaml.Node | None, source: str) -> None:
    """Refuse values YAML reads as dates or sets: say how to write them as text."""
    todo = [] if root is None else [root]
    seen: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in PLAIN_TAGS:
            raise _fail(source, node.start_mark,
                        t("{value!r} reads as a {kind} in YAML, which capsim does not use; "
                          "put it in quotes if it is text", None, value=_cut(str(node.value)),
                          kind=_tag_name(node.tag)[2:])
                        if isinstance(node, yaml.ScalarNode) else
                        t("a {tag} value is not allowed here", None, tag=_tag_name(node.tag)))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                todo.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)


__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml"]

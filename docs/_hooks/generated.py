"""MkDocs hook: pages that are generated from the code, never pasted.

A page asks for generated content with a marker on a line of its own:

- ``<!-- generated: cli -->`` — every ``capsim`` command, its usage, arguments
  and options, read from the typer app (so ``--help`` and the site agree);
- ``<!-- generated: scenario-schema -->`` — every field of a scenario file,
  read from the JSON Schema ``capsim schema`` prints;
- ``<!-- generated: layers -->`` — the import layers that
  ``tests/test_architecture.py`` enforces.

The same functions are imported by ``tests/test_docs.py``, which checks that
the markers are where the pages say and that the generated text is not empty.
Links from the pages to files outside ``docs/`` (scenarios, notebooks,
benchmarks) are served as extra files so ``mkdocs build --strict`` can tell a
broken link from a link to the repository.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)
REPO_DIRS = ("scenarios", "notebooks", "benchmarks")
"""Repository folders whose files the pages may link to; copied into the site."""


# --- the command line ----------------------------------------------------------------


def _md_text(text: str) -> str:
    """Help text as a table cell: no pipes, no ``[x]`` read as a Markdown link."""
    return text.replace("|", "/").replace("[", "\\[").replace("]", "\\]")


def _param_row(p: Any) -> str:
    import click

    if isinstance(p, click.Argument):
        name = f"`{p.human_readable_name}`"
    else:
        name = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
    text = " ".join((getattr(p, "help", None) or "").split())
    return f"| {name} | {_md_text(text)} |"


def _command_md(cmd: Any, path: list[str], ctx: Any) -> list[str]:
    import click

    full = " ".join(path)
    out = [f"### `{full}`", ""]
    help_text = (cmd.help or "").strip()
    if help_text:
        out += [_md_text(help_text.split("\f")[0].strip()), ""]
    sub_ctx = click.Context(cmd, info_name=path[-1], parent=ctx)
    usage = " ".join(cmd.collect_usage_pieces(sub_ctx))
    out += ["```text", f"{full} {usage}".rstrip(), "```", ""]
    params = [p for p in cmd.params if not getattr(p, "hidden", False)]
    if params:
        out += ["| argument / option | meaning |", "|---|---|"]
        out += [_param_row(p) for p in params] + [""]
    subs = getattr(cmd, "commands", {})
    for name in subs:
        out += _command_md(subs[name], [*path, name], sub_ctx)
    return out


def cli_reference() -> str:
    """Markdown for every command of ``capsim``, from the typer app itself."""
    import click
    import typer.main

    from capsim.cli import app

    group = typer.main.get_command(app)
    ctx = click.Context(group, info_name="capsim")
    lines: list[str] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        lines += _command_md(cmd, ["capsim", name], ctx)
    return "\n".join(lines)


# --- the scenario file ---------------------------------------------------------------


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in spec:
            return " or ".join(_type_of(s) for s in spec[key])
    t = spec.get("type", "")
    if t == "array" and "items" in spec:
        return f"list of {_type_of(spec['items'])}"
    if t == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"map of {_type_of(spec['additionalProperties'])}"
    if "enum" in spec:
        return " / ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    return str(t or "any")


def _object_md(title: str, spec: dict[str, Any]) -> list[str]:
    out = [f"### {title}", ""]
    if spec.get("description"):
        out += [" ".join(spec["description"].split()), ""]
    props = spec.get("properties", {})
    if props:
        required = set(spec.get("required", []))
        out += ["| field | type | default | meaning |", "|---|---|---|---|"]
        for name, p in props.items():
            default = "required" if name in required else (
                f"`{json.dumps(p['default'], ensure_ascii=False)}`" if "default" in p else "")
            desc = " ".join((p.get("description") or "").split()).replace("|", "/")
            out.append(f"| `{name}` | {_type_of(p)} | {default} | {desc} |")
        out.append("")
    return out


def scenario_reference() -> str:
    """Markdown for every field of a scenario file, from its JSON Schema."""
    from capsim.scenario import Scenario

    schema = Scenario.model_json_schema(by_alias=True)
    lines = _object_md("Scenario", schema)
    for name, spec in sorted(schema.get("$defs", {}).items()):
        lines += _object_md(name, spec)
    return "\n".join(lines)


# --- the layers ----------------------------------------------------------------------


def layers_table() -> str:
    """The import contract of ``tests/test_architecture.py`` as a table, top layer first."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_capsim_architecture", ROOT / "tests" / "test_architecture.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    rows = ["| layer | modules (may import only their own layer and those below) |", "|---|---|"]
    for name, prefixes in reversed(mod.LAYERS):
        rows.append(f"| {name} | {', '.join(f'`{p}`' for p in prefixes)} |")
    return "\n".join(rows)


GENERATORS = {"cli": cli_reference, "scenario-schema": scenario_reference,
              "layers": layers_table}


def expand(markdown: str) -> str:
    """Replace every ``<!-- generated: NAME -->`` marker with its generated Markdown."""
    def one(m: re.Match[str]) -> str:
        try:
            return GENERATORS[m.group(1)]()
        except KeyError:
            raise ValueError(f"unknown generated block {m.group(1)!r}") from None
    return MARKER.sub(one, markdown)


# --- MkDocs events -------------------------------------------------------------------


def repo_links(markdown: str, src_uri: str) -> str:
    """Links written for the repository (``../scenarios/x.yaml`` from ``docs/``) made site-relative.

    On GitHub a page in ``docs/`` reaches ``scenarios/`` through ``../``; in the
    site those files sit beside the pages (see :func:`on_files`), one level up less.
    """
    depth = src_uri.count("/")
    up = "../" * (depth + 1)
    for folder in REPO_DIRS:
        markdown = markdown.replace(f"]({up}{folder}/", f"]({'../' * depth}{folder}/")
    return markdown


CJK_BREAK = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\n"
                       r"(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def join_cjk_lines(markdown: str) -> str:
    """Join a paragraph's lines where both sides are Chinese (outside code blocks).

    A line break inside a paragraph renders as a space, which Chinese text
    does not have; the source keeps short lines for readable diffs.
    """
    parts = re.split(r"(^```.*?^```$)", markdown, flags=re.M | re.S)
    return "".join(p if p.startswith("```") else CJK_BREAK.sub("", p) for p in parts)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    text = repo_links(expand(markdown), page.file.src_uri)
    return join_cjk_lines(text) if page.file.src_uri.endswith(".zh.md") else text


def on_files(files: Any, config: Any) -> Any:
    """Serve the repository files the pages link to (scenarios, notebooks, benchmarks)."""
    from mkdocs.structure.files import File

    site = config["site_dir"]
    for folder in REPO_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if (path.is_file() and "__pycache__" not in path.parts
                    and path.suffix not in (".pyc", ".md")):
                rel = path.relative_to(ROOT).as_posix()
                files.append(File(rel, str(ROOT), site, use_directory_urls=False))
    return files

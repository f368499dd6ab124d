"""Every sentence a student reads, in English and Simplified Chinese.

One catalogue: ``capsim/locale/zh_CN/LC_MESSAGES/capsim.po`` (gettext, kept
with Babel). The msgid is the English sentence itself, with ``{fields}``;
:func:`t` looks a sentence up and fills the fields in.

Two rules keep output both translatable and deterministic:

* Presentation code (CLI, report, plots) calls ``t(msgid, lang, **fields)``
  with the reader's language.
* The core (policies, checker, scenario validation) writes its sentences in
  English, ``t(msgid, "en", **fields)``, because they end up in files
  (history.jsonl, result.json) whose bytes must not depend on who ran the
  command. The msgid still goes into the catalogue, so presentation code can
  turn a stored English sentence into Chinese with :func:`localize`, which
  reads the sentence back against the catalogue's templates.

:func:`tr` is the older word table's API (``tr("stale reads", "zh")``): each
key maps to an English msgid, and the translation comes from the same
catalogue. New code uses :func:`t`.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
from pathlib import Path
from typing import Any

LANGS = ("en", "zh")
_LOCALE_DIR = Path(__file__).parent / "locale"
_GETTEXT_LANG = {"zh": "zh_CN"}

#: Old word-table keys -> English msgids (the Chinese lives in the .po).
_WORDS: dict[str, str] = {
    "policy": "policy",
    "ops": "operations",
    "ok/fail/info": "ok / fail / info",
    "availability": "availability",
    "availability during partition": "  during partition",
    "availability outside partition": "  outside partition",
    "linearizable": "linearizable",
    "stale reads": "stale reads",
    "p99 latency": "p99 latency",
    "convergence": "convergence after heal",
    "yes": "yes",
    "no": "no",
    "unknown": "unknown",
    "never": "never",
    "n/a": "n/a",
    "consistency": "consistency",
    "partition tolerance": "partition tolerance",
    "partitioned": "partitioned",
    "down": "down",
    "time (s)": "time (s)",
    "stale": "stale",
    "ok": "ok",
    "fail": "fail",
    "info": "info (unknown)",
    "violation": "not linearizable",
    "read": "read",
    "write": "write",
    "cas": "cas",
    "run": "run",
    "story": "what happened",
}
#: The Chinese a module passed to :func:`add_words`, used only for a word the .po
#: lacks (a safety net: the catalogue test checks capsim's own words are all there).
_FALLBACK: dict[str, dict[str, str]] = {}


def tr(key: str, lang: str | None = "en") -> str:
    """The word for ``key`` in ``lang`` (the old word-table API, now catalogue-backed)."""
    msgid = _WORDS.get(key, key)
    text = t(msgid, lang)
    if text == msgid and resolve_lang(lang) != "en":
        return _FALLBACK.get(msgid, {}).get(resolve_lang(lang), text)
    return text


def add_words(words: dict[str, dict[str, str]]) -> None:
    """Let a module (plots, lab) register labels as ``{key: {"en": …, "zh": …}}``.

    The English becomes the msgid; the Chinese belongs in the .po (the
    catalogue test checks every registered word has it there).
    """
    for k, v in words.items():
        en = v.get("en", k)
        _WORDS[k] = en
        _FALLBACK.setdefault(en, {}).update({lang: s for lang, s in v.items() if lang != "en"})


def word_msgids() -> dict[str, str]:
    """Key -> English msgid of every word registered so far (for the catalogue tests)."""
    return dict(_WORDS)


def resolve_lang(lang: str | None = None) -> str:
    """The language to speak: the argument, else ``CAPSIM_LANG``, else the locale.

    Only ``en`` and ``zh`` exist; anything else (``fr``, an empty string) is
    English, so a student's odd locale never breaks a command.
    """
    if lang is None:
        lang = os.environ.get("CAPSIM_LANG") or ""
        if not lang:
            for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
                if os.environ.get(var):
                    lang = os.environ[var]
                    break
    lang = lang.lower()
    return "zh" if lang.startswith("zh") else "en"


@functools.cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue (``locale/<ll_CC>/LC_MESSAGES/capsim.mo``) of ``lang``."""
    code = _GETTEXT_LANG.get(lang)
    if code is None:
        return gettext.NullTranslations()
    return gettext.translation(
        "capsim", localedir=_LOCALE_DIR, languages=[code], fallback=True
    )


def t(msgid: str, lang: str | None = None, /, **fields: object) -> str:
    """One user-facing sentence in the reader's language, with ``{fields}`` filled in.

    ``msgid`` is the English sentence itself (gettext style), so code reads
    naturally and a missing translation degrades to English, never to a key.
    Chinese lives in ``capsim/locale/zh_CN/LC_MESSAGES/capsim.po``; after
    editing it run ``pybabel compile -D capsim -d capsim/locale``.
    """
    text = _catalogue(resolve_lang(lang)).gettext(msgid) if msgid else msgid
    return text.format(**fields) if fields else text


# --- reading stored English sentences back ---------------------------------

_FIELD = re.compile(r"\{(\w+)\}")
#: What a field's value looks like, by the field's name, so the words around
#: it decide where it ends: one token (a value, a node, a count), a clock
#: reading (``t=3.00 s``) or a bare duration (``3.00 s``). Other fields are
#: clauses (``.+?``); names ending in ``_opt`` are optional clauses: empty, or
#: starting with a space (`` from G2``).
_TOKEN_FIELDS = frozenset({
    "value", "node", "key", "src", "f", "expected", "new", "held", "wanted", "process",
    "owner", "holder", "n", "heard", "need", "acks", "seconds", "r", "w", "steps", "policy",
    "url", "sha_url", "sha", "got", "want", "tool",
})
_CLOCK_FIELDS = frozenset({"time", "other_time", "start"})
_DURATION_FIELDS = frozenset({"end"})
_OPTIONAL_SUFFIX = "_opt"
#: A field named ``items`` holds clauses joined by ``"; "``, each localised on its own.


def _pattern(msgid: str) -> re.Pattern[str] | None:
    parts = _FIELD.split(msgid)
    literal = "".join(parts[0::2])
    if len(literal.strip()) < 2:
        return None  # no words of its own: it would match anything
    out = []
    seen: set[str] = set()
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(re.escape(part))
        elif part in seen:
            out.append(f"(?P={part})")
        else:
            seen.add(part)
            if part in _TOKEN_FIELDS:
                out.append(f"(?P<{part}>\\S+)")
            elif part in _CLOCK_FIELDS:
                out.append(f"(?P<{part}>t=\\S+ s)")
            elif part in _DURATION_FIELDS:
                out.append(f"(?P<{part}>\\S+ s)")
            elif part.endswith(_OPTIONAL_SUFFIX):  # empty, or a clause after a space
                out.append(f"(?P<{part}>(?: .+?)?)")
            else:
                out.append(f"(?P<{part}>.+?)")
    return re.compile("".join(out), re.DOTALL)


@functools.cache
def _templates(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, msgstr) for every catalogue entry with fields, most specific first."""
    cat = _catalogue(lang)
    entries = getattr(cat, "_catalog", {})
    found = []
    for msgid, msgstr in entries.items():
        if not isinstance(msgid, str) or not msgid or "{" not in msgid or not msgstr:
            continue
        pat = _pattern(msgid)
        if pat is not None:
            literal = len(_FIELD.sub("", msgid))
            found.append((literal, msgid, pat, msgstr))
    found.sort(key=lambda e: (-e[0], e[1]))
    return tuple((pat, msgstr) for _, _, pat, msgstr in found)


def localize(text: str, lang: str | None = None) -> str:
    """A stored English sentence (``t(msgid, "en", …)``) in the reader's language.

    The sentence is matched against the catalogue's templates and its fields
    are localised in turn (a clause inside a sentence is a template too).
    Text the catalogue does not know (a name, a value, a teacher's own
    scenario description) comes back unchanged.
    """
    code = resolve_lang(lang)
    if code == "en" or not text:
        return text
    return _localize(text, code, 0)


def _localize(text: str, lang: str, depth: int) -> str:
    direct = _catalogue(lang).gettext(text)
    if direct != text:
        return direct
    if depth > 6 or len(text) < 3:
        return text
    for pat, msgstr in _templates(lang):
        m = pat.fullmatch(text)
        if m is None:
            continue
        fields = {k: _localize_field(k, v, lang, depth) for k, v in m.groupdict().items()}
        try:
            return msgstr.format(**fields)
        except (KeyError, IndexError, ValueError):
            continue
    return text


def _localize_field(name: str, value: str, lang: str, depth: int) -> str:
    if not value or name in _TOKEN_FIELDS or name in _CLOCK_FIELDS or name in _DURATION_FIELDS:
        return value  # data (a value, a node, a time): never translated, even if it is "read"
    if name == "items":  # a "; "-separated list of clauses
        sep = t("; ", lang)
        return sep.join(_localize(part, lang, depth + 1) for part in value.split("; "))
    return _localize(value, lang, depth + 1)


def localize_figure(fig: Any, lang: str | None = None) -> None:
    """Say every text of a drawn matplotlib figure (labels, titles, legend) in ``lang``.

    For pictures whose labels are English sentences from the catalogue (PBS
    and sweep plots): one pass at the end, so a label added later is covered
    as soon as its sentence is in the .po. Duck-typed: no matplotlib import.
    """
    code = resolve_lang(lang)
    if code == "en":
        return
    for artist in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "set_text")):
        text = artist.get_text()
        if isinstance(text, str) and text.strip():
            new = localize(text, code)
            if new != text:
                artist.set_text(new)


def localize_lines(text: str, lang: str | None = None) -> str:
    """:func:`localize` line by line (errors listing several problems)."""
    return "\n".join(localize(line, lang) for line in text.split("\n"))


__all__ = ["LANGS", "add_words", "localize", "localize_figure", "localize_lines", "resolve_lang",
           "t", "tr"]

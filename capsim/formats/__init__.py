"""History file formats: capsim's JSON Lines, Jepsen's ``history.edn`` and ``history.txt``.

``read_history(path)`` is the front door: it tells the format from the
content (``detect_format``), parses, and checks that invokes and completions
pair up, raising :class:`capsim.errors.HistoryFormatError` with the file and
line when they do not. ``capsim.formats.edn.write_edn`` exports a history for
Knossos/Jepsen tools.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from capsim.errors import HistoryFormatError
from capsim.history import History

FORMATS: tuple[str, ...] = ("jsonl", "edn", "txt")

_BY_SUFFIX = {".jsonl": "jsonl", ".json": "jsonl", ".edn": "edn", ".txt": "txt", ".log": "txt"}
_TXT_LINE = re.compile(r"(?:^|\s)(?:-?\d+|:\w[\w.-]*)\t:(?:invoke|ok|fail|info)\t:")


def detect_format(text: str, name: str | Path | None = None) -> str:
    """Say which of :data:`FORMATS` ``text`` is in, from its first lines.

    The content decides; the file name's suffix (``name``) only breaks the
    tie when the content says nothing (an empty file, or only log noise).
    """
    for i, line in enumerate(text.splitlines()):
        if i > 200:
            break
        s = line.strip()
        if not s or s.startswith(";"):
            continue
        if _TXT_LINE.search(line):
            return "txt"
        if s.startswith(("[", "(")) or re.match(r"\{\s*:", s):
            return "edn"
        if s.startswith("{"):
            try:
                if isinstance(json.loads(s), dict):
                    return "jsonl"
            except json.JSONDecodeError:
                pass
            if re.match(r'\{\s*"', s):
                return "jsonl"
    if name is not None:
        suffix = Path(name).suffix.lower()
        if suffix in _BY_SUFFIX:
            return _BY_SUFFIX[suffix]
    if not text.strip():
        return "jsonl"
    source = str(name) if name is not None else "<history>"
    raise HistoryFormatError(
        source,
        None,
        "cannot tell the format (capsim JSON Lines, Jepsen EDN or Jepsen txt); "
        "pass --format jsonl, edn or txt",
    )


def _parser(fmt: str) -> Callable[[str, str], History]:
    if fmt == "jsonl":
        from capsim.formats.jsonl import parse_jsonl

        return parse_jsonl
    if fmt == "edn":
        from capsim.formats.edn import parse_edn

        return parse_edn
    if fmt == "txt":
        from capsim.formats.txt import parse_txt

        return parse_txt
    raise ValueError(f"unknown history format {fmt!r}; choose auto, {', '.join(FORMATS)}")


def parse_history(text: str, fmt: str = "auto", source: str = "<history>") -> History:
    """Parse history text in ``fmt`` (``auto`` detects it)."""
    if fmt == "auto":
        fmt = detect_format(text, source)
    return _parser(fmt)(text, source)


def read_text(path: str | Path) -> str:
    """A history file's text, or a ``HistoryFormatError`` a user can act on."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise HistoryFormatError(str(p), None, "no such file") from None
    except IsADirectoryError:
        raise HistoryFormatError(str(p), None, "is a folder, not a history file") from None
    except OSError as exc:
        raise HistoryFormatError(str(p), None, f"cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise HistoryFormatError(str(p), line, "not UTF-8 text") from None


def read_history(path: str | Path, fmt: str = "auto") -> History:
    """Read a history file in any of :data:`FORMATS` (``auto`` detects it)."""
    return parse_history(read_text(path), fmt, str(path))


__all__ = ["FORMATS", "detect_format", "parse_history", "read_history", "read_text"]

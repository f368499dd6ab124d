"""capsim's own history format: one JSON object per line (see :mod:`capsim.history`)."""

from __future__ import annotations

from pathlib import Path

from capsim import atomic
from capsim.formats._common import validated
from capsim.history import History


def parse_jsonl(text: str, source: str = "<history>") -> History:
    """Parse capsim JSON Lines; raise ``HistoryFormatError`` naming the bad line."""
    events = History.from_jsonl(text, source=source)
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    return validated(list(events), lines, source)


def to_jsonl(history: History) -> str:
    return history.to_jsonl()


def write_jsonl(history: History, path: str | Path) -> None:
    """Write ``history`` atomically: a reader never sees half a file."""
    atomic.write_text(path, history.to_jsonl())

"""Command output shown in the docs is produced by capsim, never pasted.

A page shows a command's output with a marker line and the block under it::

    <!-- output: capsim run --no-write --no-plot -->
    ```text
    …what capsim prints…
    ```

``tests/test_docs.py`` runs every marked command (from the repository root,
in-process through typer's ``CliRunner``, English, 130 columns) and fails if
the block differs from what it prints. After a change that alters output,
regenerate the blocks instead of editing them::

    python docs/_hooks/outputs.py --update
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BLOCK = re.compile(
    r"^<!-- output: (?P<cmd>[^\n]+?) -->\n```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$", re.M | re.S
)
WIDTH = 130


@dataclass(frozen=True)
class OutputBlock:
    page: Path
    command: str
    shown: str
    start: int
    end: int


def blocks(pages: list[Path] | None = None) -> list[OutputBlock]:
    """Every marked output block of the docs (and the README)."""
    found = []
    for page in pages or sorted([*DOCS.rglob("*.md"), ROOT / "README.md"]):
        text = page.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            found.append(OutputBlock(page, m.group("cmd"), m.group("body"), m.start("body"),
                                     m.end("body")))
    return found


def produce(command: str) -> str:
    """What ``command`` (a ``capsim …`` line) prints, as a reader's terminal shows it."""
    from typer.testing import CliRunner

    from capsim.cli import app

    argv = shlex.split(command)
    if argv[:1] != ["capsim"]:
        raise ValueError(f"an output block must run capsim, not {command!r}")
    env = {"COLUMNS": str(WIDTH), "CAPSIM_LANG": "en", "NO_COLOR": "1", "TERM": "dumb"}
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, argv[1:], env=env)
    finally:
        os.chdir(old)
    text = result.output
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def update() -> int:
    """Rewrite every block with what its command prints now; returns how many changed."""
    changed = 0
    by_page: dict[Path, list[OutputBlock]] = {}
    for b in blocks():
        by_page.setdefault(b.page, []).append(b)
    for page, bs in by_page.items():
        text = page.read_text(encoding="utf-8")
        for b in sorted(bs, key=lambda b: b.start, reverse=True):
            new = produce(b.command)
            if new != b.shown:
                changed += 1
                text = text[: b.start] + new + text[b.end:]
        page.write_text(text, encoding="utf-8")
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python docs/_hooks/outputs.py --update")
    print(f"{update()} block(s) rewritten")

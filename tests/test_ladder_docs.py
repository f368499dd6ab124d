"""docs/consistency.md's table of separating examples is the checkers' own output."""

from __future__ import annotations

from .ladder_cases import END, START, table
from .paths import ROOT


def test_the_separating_examples_table_matches_the_checkers() -> None:
    doc = (ROOT / "docs" / "consistency.md").read_text(encoding="utf-8")
    current = doc[doc.index(START): doc.index(END) + len(END)]
    assert current == table(), "run: python -m tests.ladder_cases --write"


def test_the_table_has_every_textbook_case() -> None:
    from .ladder_cases import CASES

    doc = (ROOT / "docs" / "consistency.md").read_text(encoding="utf-8")
    for c in CASES:
        assert f"| **{c.name}**" in doc

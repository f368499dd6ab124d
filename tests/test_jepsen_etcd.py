"""capsim agrees with Porcupine on the 103 Jepsen etcd histories (issue 21 §2).

The logs and the verdicts Porcupine's own test expects are in
``tests/data/jepsen-etcd`` (see its README). Most are checked with
``explain=False`` (the verdict only) to keep the test quick; a few get the
full call, whose evidence must itself be a history that cannot be ordered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from capsim.check.linearizable import WITNESS_CAP, check_linearizable
from capsim.formats.txt import parse_txt
from capsim.history import History

from .histories import only_ops

DATA = Path(__file__).resolve().parent / "data" / "jepsen-etcd"


def _expected() -> dict[str, bool]:
    out = {}
    for line in (DATA / "expected-verdicts.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, verdict = line.split()
            out[name] = verdict == "linearizable"
    return out


EXPECTED = _expected()


def _history(name: str) -> History:
    path = DATA / f"{name}.log"
    return parse_txt(path.read_text(), str(path))


def test_the_corpus_is_all_here() -> None:
    assert len(list(DATA.glob("etcd_*.log"))) == 103
    assert len(EXPECTED) == 102
    assert sum(EXPECTED.values()) == 23


def test_every_verdict_agrees_with_porcupine() -> None:
    wrong = {}
    for name, expected in EXPECTED.items():
        got = check_linearizable(_history(name), explain=False).linearizable
        if got is not expected:
            wrong[name] = got
    assert wrong == {}




@pytest.mark.parametrize("name", ["etcd_000", "etcd_057", "etcd_099"])
def test_the_full_call_says_no_with_evidence(name: str) -> None:
    """etcd_057 and etcd_099 are the two whose witness took half a second to shrink."""
    history = _history(name)
    result = check_linearizable(history)
    quick = check_linearizable(history, explain=False)
    assert result.linearizable is False and quick.linearizable is False
    assert result.explanation
    assert result.break_time is not None
    assert result.ops, "the full call names the operations that cannot be ordered"
    if len(result.ops) <= WITNESS_CAP:
        # The named operations alone already cannot be put in order.
        assert check_linearizable(only_ops(history, set(result.ops))).linearizable is False
        assert result.key_result("x").minimal is not None


@pytest.mark.parametrize("name", ["etcd_002", "etcd_095"])
def test_the_full_call_says_yes(name: str) -> None:
    """etcd_002 is the corpus's hardest linearizable log; 095 has no expectation upstream."""
    result = check_linearizable(_history(name))
    assert result.linearizable is True
    assert result.ops == ()

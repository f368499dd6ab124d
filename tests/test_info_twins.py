"""Identical unanswered ops are tried earliest-first; the verdict stays exact.

The search only ever applies the earliest pending one of a group of identical
``info`` writes / cas (issue 21). These histories are made to hold many such
twins (two values, a high share of timeouts), and the verdict must equal the
brute force that tries every order and every subset of the info ops.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from capsim.check.linearizable import check_linearizable
from capsim.history import History

from .histories import build, drawn_op, only_ops
from .test_linearizable import _brute_force

_FEW = st.sampled_from(["a", "b"])


@st.composite
def twin_histories(draw: st.DrawFn) -> History:
    ops: list[Any] = []
    for i in range(draw(st.integers(2, 7))):
        start = draw(st.integers(0, 10))
        end = start + draw(st.integers(1, 5))
        f = draw(st.sampled_from(["read", "read", "write", "write", "write", "cas"]))
        outcome = draw(st.sampled_from(["ok", "ok", "info", "info", "pending"]))
        if f == "read" and outcome != "ok":
            outcome = "ok"
        kw: dict[str, Any] = {"type": "info" if outcome == "pending" else outcome}
        stop = None if outcome == "pending" else end
        ops.append(drawn_op(draw, _FEW, f, f"p{i}", start, stop, **kw))
    return build(*ops)


@settings(max_examples=2000)
@given(twin_histories(), st.sampled_from([None, "a", "b"]))
def test_twins_keep_the_verdict_equal_to_brute_force(h: History, init: Any) -> None:
    res = check_linearizable(h, initial={"x": init})
    assert res.linearizable is _brute_force(h, init)
    if res.linearizable is False:
        assert _brute_force(only_ops(h, set(res.ops)), init) is False


_THREE = st.sampled_from(["a", "b", "c"])


@st.composite
def info_heavy_histories(draw: st.DrawFn) -> History:
    """Mostly unanswered writes and cas of three values, and reads that need them.

    The search prunes by dominance (fewer unanswered ops fired is never worse)
    and refuses to overwrite a value a later read still needs when nothing
    left can write it again; both must keep the verdict exact.
    """
    ops: list[Any] = []
    for i in range(draw(st.integers(2, 7))):
        start = draw(st.integers(0, 10))
        end = start + draw(st.integers(1, 5))
        f = draw(st.sampled_from(["read", "read", "write", "write", "cas"]))
        outcome = "ok" if f == "read" else draw(st.sampled_from(["ok", "info", "pending"]))
        kw: dict[str, Any] = {"type": "info" if outcome == "pending" else outcome}
        stop = None if outcome == "pending" else end
        ops.append(drawn_op(draw, _THREE, f, f"p{i}", start, stop, **kw))
    return build(*ops)


@settings(max_examples=1500)
@given(info_heavy_histories(), st.sampled_from([None, "a", "c"]))
def test_pruning_keeps_the_verdict_equal_to_brute_force(h: History, init: Any) -> None:
    res = check_linearizable(h, initial={"x": init})
    assert res.linearizable is _brute_force(h, init)
    assert check_linearizable(h, initial={"x": init}, explain=False).linearizable is (
        res.linearizable)
    if res.linearizable is False:
        assert _brute_force(only_ops(h, set(res.ops)), init) is False

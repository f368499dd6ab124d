"""The linearizability checker on hand-written histories, and against brute force."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capsim.check.linearizable import check_linearizable
from capsim.history import History
from tests.histories import Op, build, cas, drawn_op, only_ops, r, w
from tests.paths import ROOT

V0 = {"x": "v0"}


def _bench() -> Any:
    path = ROOT / "benchmarks" / "bench_checker.py"
    spec = importlib.util.spec_from_file_location("bench_checker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_checker", module)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# The textbook cases
# --------------------------------------------------------------------------


def test_seed_story_stale_read_is_explained_in_one_sentence() -> None:
    h = build(w("alice", "v1", 2.0, 2.1, node="G1"), r("bob", "v0", 3.0, 3.05, node="G2"))
    res = check_linearizable(h, initial=V0)
    assert res.linearizable is False
    assert res.key == "x"
    assert res.explanation == (
        "bob started a read on G2 at t=3.00 s and got v0, but alice's write of v1 to G1 had "
        "already "
        "been acknowledged at t=2.10 s."
    )
    write_idx, read_idx = 0, 2
    assert res.ops == (write_idx, read_idx)
    assert [d.process for d in res.op_details] == ["alice", "bob"]
    # The write fits; the read is where it breaks.
    assert res.prefix_ops == (write_idx,)
    assert res.break_op == read_idx
    assert res.break_time == pytest.approx(3.05)


def test_read_after_acknowledged_write_sees_it_and_concurrent_read_may_not() -> None:
    h = build(
        w("alice", "v1", 2.0, 2.1, node="G1"),
        r("carol", "v0", 2.05, 2.2),  # overlaps the write: may go before it
        r("bob", "v1", 3.0, 3.05, node="G2"),
    )
    res = check_linearizable(h, initial=V0)
    assert res.linearizable is True
    assert res.explanation.startswith("All 3 operations (1 key) fit one")
    assert res.ops == () and res.break_time is None


def test_concurrent_writes_seen_in_either_order_are_linearizable() -> None:
    h = build(
        w("a", "v1", 0, 10),
        w("b", "v2", 0, 10),
        r("c", "v1", 1, 2),
        r("d", "v2", 3, 4),
    )
    assert check_linearizable(h).linearizable is True
    h2 = build(
        w("a", "v1", 0, 10),
        w("b", "v2", 0, 10),
        r("c", "v2", 1, 2),
        r("d", "v1", 3, 4),
    )
    assert check_linearizable(h2).linearizable is True


def test_two_readers_seeing_the_writes_in_opposite_orders_is_not() -> None:
    h = build(
        w("a", "v1", 0, 10),
        w("b", "v2", 0, 10),
        r("c", "v1", 1, 2),
        r("d", "v2", 1, 2),
        r("c", "v2", 3, 4),
        r("d", "v1", 3, 4),
    )
    res = check_linearizable(h)
    assert res.linearizable is False
    # Every one of the six is needed: drop any and an order exists.
    assert len(res.ops) == 6
    assert res.explanation.startswith(
        "These 6 operations on x cannot be put in any one-at-a-time order that matches both "
        "what they returned and when they ran (x started with no value): a wrote v1 "
        "(from t=0.00 s to 10.00 s); b wrote v2"
    )
    assert "d read v1 (from t=3.00 s to 4.00 s)." in res.explanation


def test_reads_going_back_to_an_older_value() -> None:
    h = build(
        w("a", "v1", 0, 1),
        w("c", "v2", 2, 10),
        r("b", "v2", 3, 4),
        r("d", "v1", 5, 6),
    )
    res = check_linearizable(h)
    assert res.linearizable is False
    assert res.explanation == (
        "d started a read at t=5.00 s and got v1, but b had already read the newer value v2 at "
        "t=4.00 s "
        "(v1 was written first: its write ended at t=1.00 s, before c's write of v2 began "
        "at t=2.00 s)."
    )


def test_read_of_a_value_never_written() -> None:
    h = build(w("alice", "v1", 0, 1, node="G1"), r("bob", "v7", 2, 3, node="G2"))
    res = check_linearizable(h, initial=V0)
    assert res.linearizable is False
    assert res.explanation == (
        "bob read v7 from G2 at t=3.00 s, but no operation ever wrote v7 (x started as v0)."
    )
    assert res.ops == (2,)


def test_stale_read_names_the_overwritten_write_too() -> None:
    h = build(w("carol", "v0", 0, 1), w("alice", "v1", 2, 3), r("bob", "v0", 4, 5))
    res = check_linearizable(h)
    assert res.linearizable is False
    assert res.explanation == (
        "bob started a read at t=4.00 s and got v0, but alice's write of v1 had already been "
        "acknowledged at "
        "t=3.00 s. The only write of v0 (carol's, acknowledged at t=1.00 s) had finished "
        "before that write began."
    )


def test_rewriting_the_old_value_makes_the_read_fine() -> None:
    h = build(
        w("carol", "v0", 0, 1),
        w("alice", "v1", 2, 3),
        w("dave", "v0", 3.5, 3.8),
        r("bob", "v0", 4, 5),
    )
    assert check_linearizable(h).linearizable is True


def test_cas_successes() -> None:
    h = build(cas("a", 0, 1, 0, 1), r("b", 1, 2, 3), cas("c", 1, 2, 4, 5), r("b", 2, 6, 7))
    assert check_linearizable(h, initial={"x": 0}).linearizable is True


def test_cas_that_could_not_have_matched() -> None:
    h = build(cas("a", 0, 1, 0, 1), cas("b", 0, 2, 2, 3))
    res = check_linearizable(h, initial={"x": 0})
    assert res.linearizable is False
    assert res.explanation == (
        "b's compare-and-set from 0 to 2, started at t=2.00 s, succeeded, but a's "
        "compare-and-set from "
        "0 to 1 had already been acknowledged at t=1.00 s."
    )


def test_cas_of_a_value_never_held() -> None:
    h = build(cas("a", 5, 6, 0, 1))
    res = check_linearizable(h, initial={"x": 0})
    assert res.linearizable is False
    assert res.explanation == (
        "a's compare-and-set from 5 to 6 succeeded at t=1.00 s, but x never held 5: no "
        "operation wrote it (x started as 0)."
    )


def test_failed_cas_did_not_happen() -> None:
    # Had the cas happened, the read of 0 would be impossible.
    h = build(cas("a", 0, 6, 0, 1, type="fail"), r("b", 0, 2, 3))
    assert check_linearizable(h, initial={"x": 0}).linearizable is True


def test_info_cas_may_take_effect_later_or_never() -> None:
    took = build(cas("a", 0, 1, 0, 1, type="info"), r("b", 0, 2, 3), r("b", 1, 4, 5))
    assert check_linearizable(took, initial={"x": 0}).linearizable is True
    never = build(cas("a", 0, 1, 0, 1, type="info"), r("b", 0, 2, 3), r("b", 0, 4, 5))
    assert check_linearizable(never, initial={"x": 0}).linearizable is True


def test_info_write_that_takes_effect_later() -> None:
    h = build(
        w("alice", "v1", 0, 1, type="info"),
        r("bob", "v0", 2, 3),
        r("bob", "v1", 40, 41),
    )
    assert check_linearizable(h, initial=V0).linearizable is True


def test_info_write_that_never_takes_effect() -> None:
    h = build(w("alice", "v1", 0, 1, type="info"), r("bob", "v0", 2, 3), r("bob", "v0", 40, 41))
    assert check_linearizable(h, initial=V0).linearizable is True


def test_write_never_answered_counts_like_info() -> None:
    h = build(w("alice", "v1", 0, None), r("bob", "v1", 5, 6))
    assert check_linearizable(h, initial=V0).linearizable is True


def test_info_write_cannot_take_effect_twice() -> None:
    h = build(
        w("alice", "v1", 0, 1, type="info"),
        r("alice", "v1", 2, 3),
        r("bob", "v0", 4, 5),
    )
    res = check_linearizable(h, initial=V0)
    assert res.linearizable is False
    assert res.explanation == (
        "bob started a read at t=4.00 s and got v0, but alice had already read the newer value "
        "v1 at t=3.00 s "
        "(x started as v0)."
    )


def test_info_write_cannot_take_effect_before_it_was_sent() -> None:
    h = build(r("bob", "v1", 0, 1), w("alice", "v1", 2, 3, type="info", node="G1"))
    res = check_linearizable(h, initial=V0)
    assert res.linearizable is False
    assert res.explanation == (
        "bob read v1 at t=1.00 s, but the only write of v1 (alice's to G1) started only "
        "later, at t=2.00 s."
    )


def test_info_reads_constrain_nothing() -> None:
    h = build(w("a", "v1", 0, 1), r("b", "v0", 2, 3, type="info"))
    assert check_linearizable(h, initial=V0).linearizable is True


def test_failed_write_is_ignored() -> None:
    h = build(w("alice", "v9", 0, 1, type="fail"), r("bob", "v0", 2, 3))
    assert check_linearizable(h, initial=V0).linearizable is True
    seen = build(w("alice", "v9", 0, 1, type="fail"), r("bob", "v9", 2, 3))
    res = check_linearizable(seen, initial=V0)
    assert res.linearizable is False
    assert "no operation ever wrote v9" in res.explanation


def test_keys_are_checked_independently() -> None:
    ok_each = build(w("a", "v1", 0, 1, key="x"), r("b", "v0", 2, 3, key="y"))
    assert check_linearizable(ok_each, initial={"x": "v0", "y": "v0"}).linearizable is True
    # As one register this would be a stale read:
    one = build(w("a", "v1", 0, 1), r("b", "v0", 2, 3))
    assert check_linearizable(one, initial=V0).linearizable is False
    h = build(
        w("a", "v1", 0, 1, key="x"),
        r("b", "v1", 2, 3, key="x"),
        w("a", "v1", 4, 5, key="y"),
        w("c", "v2", 6, 7, key="y"),
        r("b", "v1", 8, 9, key="y"),
    )
    res = check_linearizable(h)
    assert res.linearizable is False
    assert res.key == "y"
    assert res.key_result("x").linearizable is True
    assert res.key_result("y").linearizable is False
    assert res.explanation.startswith(
        "Key y: b started a read at t=8.00 s and got v1, but c's write of v2"
    )
    doc = res.to_dict()
    assert list(doc["keys"]) == ["x", "y"]


def test_initial_value_defaults_to_none() -> None:
    h = build(r("a", None, 0, 1), w("b", "v1", 2, 3), r("a", "v1", 4, 5))
    assert check_linearizable(h).linearizable is True
    assert check_linearizable(h, initial=V0).linearizable is False


def test_values_compare_like_json() -> None:
    h = build(w("a", [1, 2], 0, 1), r("b", [1, 2], 2, 3), w("a", True, 4, 5), r("b", 1, 6, 7))
    res = check_linearizable(h)
    assert res.linearizable is False  # True is not 1
    assert "no operation ever wrote 1" in res.explanation


def test_equal_times_keep_history_order() -> None:
    # The write's ack and the read's invoke share t=2.0; the file lists the ack first.
    h = build(w("alice", "v1", 1.0, 2.0), r("bob", "v0", 2.0, 3.0))
    assert check_linearizable(h, initial=V0).linearizable is False


def test_result_is_json_and_deterministic() -> None:
    h = build(w("alice", "v1", 0, 1, type="info"), r("bob", "v0", 2, 3), w("c", "v2", 4, 5))
    a = check_linearizable(h, initial=V0).to_dict()
    b = check_linearizable(h, initial=V0).to_dict()
    assert a == b
    text = json.dumps(a)
    assert json.loads(text)["linearizable"] is True


def test_malformed_cas_value_is_reported() -> None:
    from capsim.history import Event

    h = History(
        [
            Event(0, 0.0, "a", None, "invoke", "cas", "x", 5),
            Event(1, 1.0, "a", None, "ok", "cas", "x", 5),
        ]
    )
    with pytest.raises(ValueError, match=r"event 0: a cas value must be \[expected, new\]"):
        check_linearizable(h)


# --------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------


def test_step_budget_gives_unknown_and_says_which() -> None:
    h = _bench().generate(400, 5, seed=3)
    res = check_linearizable(h, initial={"x": 0}, budget_steps=50)
    assert res.linearizable == "unknown"
    assert res.reason == "the step budget (50 steps) ran out while checking key x"
    assert res.explanation.startswith("No verdict: the step budget (50 steps) ran out")
    assert check_linearizable(h, initial={"x": 0}).linearizable is True


def test_time_budget_gives_unknown_and_says_which() -> None:
    h = _bench().generate(2000, 10, seed=4)
    res = check_linearizable(h, initial={"x": 0}, budget_seconds=0.0)
    assert res.linearizable == "unknown"
    assert res.reason == "the time budget (0 s) ran out while checking key x"


def test_a_violation_wins_over_a_budget_that_ran_out() -> None:
    h = build(
        r("b", "v7", 0, 1, key="a"),
        *[w(f"p{i}", f"v{i}", i, i + 0.5, key="b") for i in range(30)],
    )
    res = check_linearizable(h, budget_steps=3)
    assert res.linearizable is False
    assert res.key == "a"
    assert res.key_result("b").linearizable == "unknown"


# --------------------------------------------------------------------------
# Generated histories
# --------------------------------------------------------------------------


def test_simulated_atomic_register_histories() -> None:
    bench = _bench()
    for seed in range(3):
        good = bench.generate(300, 5, seed=seed)
        assert check_linearizable(good, initial={"x": 0}).linearizable is True
        bad = bench.generate(300, 5, seed=seed, violate=True)
        res = check_linearizable(bad, initial={"x": 0})
        assert res.linearizable is False
        assert "had already been acknowledged" in res.explanation
        assert len(res.ops) == 3


def _brute_force(h: History, init: Any = None) -> bool:
    """Linearizable? By trying every order (and every subset of info ops)."""
    order = sorted(range(len(h)), key=lambda i: (h[i].time, i))
    rank = {id(h[i]): n for n, i in enumerate(order)}
    ops = []
    for op in h.operations():
        if op.type == "fail" or (op.f == "read" and op.type != "ok"):
            continue
        ret = rank[id(op.complete)] if op.type == "ok" else None
        value = tuple(op.invoke.value) if op.f == "cas" else op.value
        ops.append((op.f, value, rank[id(op.invoke)], ret))
    required = [o for o in ops if o[3] is not None]
    optional = [o for o in ops if o[3] is None]

    def fits(sel: list[Any], done: frozenset[int], state: Any) -> bool:
        if len(done) == len(sel):
            return True
        for i, (f, v, call, _) in enumerate(sel):
            if i in done:
                continue
            if any(j not in done and o[3] is not None and o[3] < call for j, o in enumerate(sel)):
                continue
            if f == "read":
                if v != state:
                    continue
                new = state
            elif f == "write":
                new = v
            else:
                if v[0] != state:
                    continue
                new = v[1]
            if fits(sel, done | {i}, new):
                return True
        return False

    return any(
        fits(required + list(extra), frozenset(), init)
        for k in range(len(optional) + 1)
        for extra in itertools.combinations(optional, k)
    )


_VALUES = st.sampled_from(["a", "b", "c", None])


@st.composite
def small_histories(draw: st.DrawFn) -> History:
    ops = []
    for i in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, 12))
        end = start + draw(st.integers(1, 6))
        f = draw(st.sampled_from(["read", "read", "write", "write", "cas"]))
        outcome = draw(st.sampled_from(["ok", "ok", "ok", "ok", "info", "fail", "pending"]))
        kw: dict[str, Any] = {"type": "info" if outcome == "pending" else outcome}
        stop = None if outcome == "pending" else end
        ops.append(drawn_op(draw, _VALUES, f, f"p{i}", start, stop, **kw))
    return build(*ops)


@settings(max_examples=300, deadline=None)
@given(small_histories())
def test_verdict_matches_brute_force_and_witness_holds(h: History) -> None:
    res = check_linearizable(h)
    assert res.linearizable is _brute_force(h)
    if res.linearizable is False:
        # The operations named are, on their own, already impossible to order.
        assert _brute_force(only_ops(h, set(res.ops))) is False


@st.composite
def sequential_histories(draw: st.DrawFn) -> tuple[list[Op], Any]:
    """One op at a time on a true register: each write/cas writes a fresh value."""
    state: Any = "v0"
    t = 0.0
    ops: list[Op] = []
    fresh = 1
    for _ in range(draw(st.integers(1, 25))):
        t += draw(st.floats(0.01, 1.0))
        dur = draw(st.floats(0.01, 1.0))
        who = draw(st.sampled_from(["alice", "bob", "carol"]))
        f = draw(st.sampled_from(["read", "read", "write", "cas"]))
        if f == "read":
            ops.append(r(who, state, t, t + dur))
        elif f == "write":
            state = f"v{fresh}"
            fresh += 1
            ops.append(w(who, state, t, t + dur))
        else:
            expected = draw(st.sampled_from([state, f"v{fresh + 7}"]))
            new = f"v{fresh}"
            fresh += 1
            ok = expected == state
            ops.append(cas(who, expected, new, t, t + dur, type="ok" if ok else "fail"))
            state = new if ok else state
        t += dur
    return ops, "v0"


@settings(max_examples=150, deadline=None)
@given(sequential_histories())
def test_sequential_register_histories_are_linearizable(case: tuple[list[Op], Any]) -> None:
    ops, init = case
    assert check_linearizable(build(*ops), initial={"x": init}).linearizable is True


@settings(max_examples=150, deadline=None)
@given(sequential_histories(), st.data())
def test_swapping_two_reads_of_different_writes_breaks_it(
    case: tuple[list[Op], Any], data: st.DataObject
) -> None:
    ops, init = case
    reads = [i for i, o in enumerate(ops) if o.f == "read"]
    pairs = [(i, j) for i in reads for j in reads if i < j and ops[i].value != ops[j].value]
    if not pairs:
        return
    i, j = data.draw(st.sampled_from(pairs))
    swapped = list(ops)
    swapped[i] = r(ops[i].process, ops[j].value, ops[i].start, ops[i].end)
    swapped[j] = r(ops[j].process, ops[i].value, ops[j].start, ops[j].end)
    res = check_linearizable(build(*swapped), initial={"x": init})
    assert res.linearizable is False
    assert res.explanation


@pytest.mark.parametrize("info_rate", [0.0, 0.02])
def test_twenty_clients_break_at_the_stale_read(info_rate: float) -> None:
    """With 20 concurrent clients the search looks ahead (issue 21 §2).

    It refuses to overwrite a value a later read still needs, which proves
    the NO near the start of the history; the report must still say where a
    reader sees it break (at the stale read, after most of the history fits)
    and name the three operations of the stale read.
    """
    bench = _bench()
    bad = bench.generate(2_000, 20, seed=2_020, violate=True, info_rate=info_rate)
    res = check_linearizable(bad, initial={"x": 0})
    assert res.linearizable is False
    assert len(res.ops) == 3 and res.key_result("x").minimal is True
    assert "had already been acknowledged" in res.explanation
    stale = next(o for o in res.op_details if o.f == "read")
    assert res.break_op == stale.index
    assert len(res.prefix_ops) > 1_500
    quick = check_linearizable(bad, initial={"x": 0}, explain=False)
    assert quick.break_op == res.break_op and quick.prefix_ops == res.prefix_ops
    good = bench.generate(2_000, 20, seed=2_020, info_rate=info_rate)
    assert check_linearizable(good, initial={"x": 0}).linearizable is True

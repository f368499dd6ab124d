"""raft under generated faults: linearizable (cas too), one leader per term, live majorities."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from capsim.check.linearizable import check_linearizable
from capsim.policies.raft import Raft
from capsim.scenario import Scenario
from capsim.testing import run
from capsim.testing import strategies as cst
from capsim.testing.raft import figure_8, play, run_checked

from . import broken, claims

RAFT_ANY_FAULTS = cst.scenarios(policy="raft", fs=("read", "write", "cas"), cuts=True,
                                crashes=None, loss=None, workload=None, final_reads=True)
"""raft under anything: partitions, one-way cuts, crashes, loss, concurrent bursts, cas."""

RAFT_PARTITIONED = cst.scenarios(policy="raft", nodes=(3, 5), partitioned=True, crashes=False,
                                 loss=False, bounded_latency=True, max_latency=0.05,
                                 workload=True, fs=("read", "write", "cas"))

# Each raft run simulates heartbeats and elections, so it costs ~10x a cp run:
# a fifth of the profile's examples keeps the file near 30 s on one core in ci
# (the thorough profile runs 600).
FEWER = settings(max_examples=max(20, settings.default.max_examples // 5))


@FEWER
@given(RAFT_ANY_FAULTS)
def test_raft_is_linearizable_with_read_write_and_cas(scenario: Scenario) -> None:
    """Under raft every history is linearizable, cas included, whatever the faults."""
    claims.check_cp_consistent(scenario, "raft")


@FEWER
@given(RAFT_ANY_FAULTS)
def test_never_two_leaders_in_a_term_nor_a_lost_commit(scenario: Scenario) -> None:
    """Election Safety and State Machine Safety, checked after every state change."""
    history, steps = run_checked(scenario, Raft)
    assert steps > 0
    assert check_linearizable(history, initial=scenario.initial).linearizable is True


def check_majority_available(scenario: Scenario, policy: str = "raft") -> None:
    """Once the majority side of a partition has a leader, its nodes answer every request.

    An operation that starts on a node of the majority side while a leader of
    that side leads (and still does when the operation ends), at least one
    message delay after it was elected (its first heartbeat has then told
    every follower), and that ends before the partition does, is ``ok`` (a
    cas may fail on its value; it is answered). And the majority side does
    elect: within 5 election timeouts of the partition's start, if the
    partition lasts that long.
    """
    result = run(scenario, policy=policy)
    hi = Raft.Params().election_timeout[1]
    told = claims.upper_latency(scenario)
    majority = len(scenario.nodes) // 2 + 1
    spans: list[tuple[str, float, float]] = []  # (leader, from, to)
    open_: dict[str, float] = {}
    for e in sorted(result.roles, key=lambda r: r.time):
        if e.role == "leader":
            open_.setdefault(e.node, e.time)
        elif e.node in open_:
            spans.append((e.node, open_.pop(e.node), e.time))
    spans += [(n, t0, scenario.duration) for n, t0 in open_.items()]
    for f in result.faults:
        if f.kind != "partition":
            continue
        side = next((g for g in f.groups if len(g) >= majority), None)
        if side is None:
            continue
        leaders = [(n, a, b) for n, a, b in spans if n in side and b > f.start and a < f.end]
        if f.end - f.start > 5 * hi + 0.5:
            assert any(a <= f.start + 5 * hi for _, a, _ in leaders), (
                f"the majority side {', '.join(side)} of {f.label} had no leader within "
                f"{5 * hi:g} s of t={f.start:g}")
        for op in result.history.operations():
            if op.node not in side or not (f.start <= op.start and op.end < f.end):
                continue
            if any(a + told <= op.start and op.end <= b for _, a, b in leaders):
                assert op.type == "ok" or (op.f == "cas" and op.type == "fail"), (
                    f"{op.node} is on the majority side of {f.label} and a leader led it, "
                    f"yet {claims.describe(op)}")


@FEWER
@given(RAFT_PARTITIONED)
def test_raft_is_available_on_a_majority_side_after_an_election(scenario: Scenario) -> None:
    check_majority_available(scenario)


def scripts(n: int) -> st.SearchStrategy[list[tuple[str, object]]]:
    """Runs chosen step by step: any timer, any delivery among any nodes, crashes, writes."""
    nodes = [f"S{i}" for i in range(1, n + 1)]
    one = st.sampled_from(nodes)
    step = st.one_of(
        st.tuples(st.just("timeout"), one),
        st.tuples(st.just("deliver"), st.frozensets(one, min_size=2)),
        st.tuples(st.just("write"), one),
        st.tuples(st.just("crash"), one),
        st.tuples(st.just("recover"), one),
    )
    return st.lists(step, min_size=1, max_size=40)


@FEWER
@given(st.integers(min_value=2, max_value=5).flatmap(lambda n: st.tuples(st.just(n), scripts(n))))
def test_safety_holds_whatever_is_delivered_when(case: tuple[int, list]) -> None:
    """Election Safety and State Machine Safety when the test, not a clock, picks each step."""
    n, steps = case
    play(Raft, n, steps)


def test_the_figure_8_bug_is_caught() -> None:
    """The broken raft of broken.py loses a committed entry in Figure 8's run; raft does not."""
    figure_8(Raft)
    try:
        figure_8(broken.Figure8Raft)
    except AssertionError as exc:
        assert "committed entry was overwritten" in str(exc)
    else:  # pragma: no cover - the point of the test
        raise AssertionError("the Figure 8 bug went unnoticed")

"""Bugs the properties found in capsim's core, pinned by the scenarios that showed them."""

from __future__ import annotations

from capsim import parse_scenario, simulate
from capsim.check.linearizable import check_linearizable

from . import broken

# Two clients of G1 write at the same instant; latencies vary, so the two
# writes' messages can overtake each other on the way to G2 and G3.
SAME_COORDINATOR = parse_scenario({
    "name": "same-coordinator",
    "duration": 6.0,
    "nodes": ["G1", "G2", "G3"],
    "initial": {"x": "v0"},
    "network": {"latency": {"dist": "uniform", "low": 0.01, "high": 0.1}},
    "clients": [{"name": "a", "node": "G1"}, {"name": "b", "node": "G1"},
                {"name": "c", "node": "G2"}, {"name": "d", "node": "G3"}],
    "operations": [
        {"at": 1.0, "client": "a", "write": {"x": "v1"}},
        {"at": 1.0, "client": "b", "write": {"x": "v2"}},
        {"at": 3.0, "client": "c", "read": "x"},
        {"at": 3.5, "client": "d", "read": "x"},
    ],
})


def _final_values(result: object) -> set[object]:
    final = {(t.node, t.key): t.value for t in result.trace}  # type: ignore[attr-defined]
    return set(final.values())


def test_cp_concurrent_writes_at_one_coordinator_get_distinct_versions() -> None:
    """cp stays linearizable when one node coordinates two writes at once
    (it used to give both the same version)."""
    for seed in range(20):
        result = simulate(SAME_COORDINATOR, policy="cp", seed=seed)
        verdict = check_linearizable(result.history, initial=SAME_COORDINATOR.initial)
        assert verdict.linearizable is True, (seed, verdict.explanation)
        assert len(_final_values(result)) == 1, seed


def test_the_old_cp_fails_the_same_scenario() -> None:
    """The pre-fix cp (kept as a fixture) leaves G2 and G3 disagreeing forever on some seeds."""
    bad = [seed for seed in range(20)
           if check_linearizable(simulate(SAME_COORDINATOR, policy=broken.SameVersionCP,
                                          seed=seed).history,
                                 initial=SAME_COORDINATOR.initial).linearizable is False]
    assert bad


# A request sent at the very instant its node recovers: the checks count the
# node as live then (a crash spans [crash, recover)), so the engine must too.
RECOVER_AND_READ = parse_scenario({
    "name": "recover-and-read",
    "duration": 4.0,
    "nodes": ["G1", "G2"],
    "initial": {"x": "v0"},
    "nemesis": [{"at": 0.2, "crash": "G1"}, {"at": 2.4, "recover": "G1"},
                {"at": 3.0, "partition": [["G1"], ["G2"]]}],
    "clients": [{"name": "c1", "node": "G1"}, {"name": "c2", "node": "G2"}],
    "operations": [
        {"at": 0.1, "client": "c1", "read": "x"},
        {"at": 2.4, "client": "c1", "read": "x"},
        {"at": 3.0, "client": "c2", "write": {"x": "v1"}},
        {"at": 3.0, "client": "c1", "read": "x"},
    ],
})


def test_faults_take_effect_before_requests_at_the_same_instant() -> None:
    """A request at the instant of a recovery reaches a live node, and one at the
    instant of a partition a cut-off one."""
    result = simulate(RECOVER_AND_READ, policy="ap")
    ops = result.history.operations()
    assert [op.type for op in ops] == ["ok", "ok", "ok", "ok"]
    assert result.checks["availability"]["overall"] == 1.0
    # The partition at t=3.0 is in force for the write at t=3.0: G1 reads v0.
    assert ops[-1].value == "v0"

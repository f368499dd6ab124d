"""``capsim explore`` over raft: 2 replicas, 1–2 operations, bounded depth.

The explorer (issue 14) is built on another branch; this test skips until
``capsim.explore`` exists. Raft's heartbeats and elections never stop, so
its state space is infinite: the search is bounded (depth, states) and must
end without a linearizability counterexample. The explorer fires timers in
any order, so this covers every order of elections, heartbeats and
deliveries up to the bound (index reads; lease reads are *not* safe there).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from capsim import parse_scenario

explore_mod = pytest.importorskip("capsim.explore")


def _scenario(ops: list[dict[str, Any]]) -> Any:
    return parse_scenario({
        "name": "raft-explore", "seed": 1, "duration": 3.0, "nodes": ["G1", "G2"],
        "initial": {"x": "v0"}, "policy": "raft",
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": ops,
    })


def _explore(scenario: Any) -> Any:
    fn = explore_mod.explore
    accepted = inspect.signature(fn).parameters
    bounds = {"max_depth": 14, "max_states": 20_000, "time_limit": 30.0}
    return fn(scenario, "raft", **{k: v for k, v in bounds.items() if k in accepted})


@pytest.mark.parametrize("ops", [
    [{"at": 1.0, "client": "alice", "write": {"x": "v1"}}],
    [{"at": 1.0, "client": "alice", "write": {"x": "v1"}},
     {"at": 1.5, "client": "bob", "read": "x"}],
])
def test_raft_has_no_counterexample_in_any_explored_schedule(ops: list[dict[str, Any]]) -> None:
    result = _explore(_scenario(ops))
    found = getattr(result, "counterexample", None)
    assert found is None, f"explore found a schedule that breaks raft: {found}"

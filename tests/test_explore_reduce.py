"""Reductions keep answers exact: with and without sleep sets, the same states,
the same verdicts and the same shortest counterexample lengths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from capsim.explore.properties import PROPERTIES, Checker
from capsim.explore.reduce import bfs_sleep, independent
from capsim.explore.run import build_model
from capsim.explore.search import bfs
from capsim.scenario import parse_scenario

EXAMPLES = max(15, settings().max_examples // 20)
LIMIT = 4000


@st.composite
def small_scenarios(draw: Any) -> dict[str, Any]:
    nodes = ["G1", "G2", "G3"][: draw(st.integers(2, 3))]
    n_clients = draw(st.integers(1, 2))
    clients = [{"name": f"c{i}", "node": draw(st.sampled_from(nodes))} for i in range(n_clients)]
    ops = []
    value = 0
    for c in clients:
        for k in range(draw(st.integers(1, 2))):
            if draw(st.booleans()):
                value += 1
                ops.append({"at": 1 + k, "client": c["name"], "write": {"x": f"v{value}"}})
            else:
                ops.append({"at": 1 + k, "client": c["name"], "read": "x"})
    fault = draw(st.sampled_from(["none", "partition", "crash"]))
    nemesis: list[dict[str, Any]] = []
    if fault == "partition":
        nemesis = [{"at": 0.5, "partition": [[nodes[0]], nodes[1:]]}, {"at": 1.5, "heal": True}]
    elif fault == "crash":
        victim = draw(st.sampled_from(nodes))
        nemesis = [{"at": 0.5, "crash": victim}, {"at": 1.5, "recover": victim}]
    ops.sort(key=lambda o: o["at"])
    return {"name": "random", "duration": 10, "nodes": nodes, "initial": {"x": "v0"},
            "clients": clients, "operations": ops, "nemesis": nemesis}


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_scenarios(), policy=st.sampled_from(["cp", "ap", "quorum", "lock",
                                                       "abd-no-writeback"]),
       drops=st.integers(0, 1), any_faults=st.sampled_from([None, None, 1]))
def test_sleep_sets_change_no_state_and_no_answer(spec: dict[str, Any], policy: str,
                                                  drops: int, any_faults: int | None) -> None:
    sc = parse_scenario(spec, source="<test>")
    props = list(PROPERTIES)

    def model() -> Any:
        return build_model(sc, policy, drops=drops, properties=props, any_faults=any_faults)

    m1, m2 = model(), model()
    plain = bfs(m1, Checker([]), max_states=LIMIT, keep_states=True)
    assume(plain.complete)
    reduced = bfs_sleep(m2, Checker([]), keep_states=True)
    # Snapshots and fault configurations are interned per model in discovery order:
    # compare states by content, not by id.
    assert {content(m2, s) for s in reduced.states or []} == \
        {content(m1, s) for s in plain.states or []}
    assert reduced.progress.transitions <= plain.progress.transitions
    a = bfs(model(), Checker(props))
    b = bfs_sleep(model(), Checker(props))
    assert {p: len(f.path) for p, f in a.found.items()} == \
        {p: len(f.path) for p, f in b.found.items()}


def content(model: Any, s: Any) -> Any:
    return (tuple(model.snapshot(i) for i in s.policies), s.flight, s.timers,
            (model.blocked[s.faults], model.down[s.faults], s.faults if model.any_faults is None
             else None), s.clients, s.drops, s.keys, s.stale, s.budget)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (("deliver", ("G1", "G2", "k", "{}")), ("deliver", ("G1", "G3", "k", "{}")), True),
    (("deliver", ("G1", "G2", "k", "{}")), ("deliver", ("G3", "G2", "k", "{}")), False),
    (("drop", ("G1", "G2", "k", "{}")), ("drop", ("G1", "G3", "k", "{}")), False),
    (("lost", ("G1", "G2", "k", "{}")), ("deliver", ("G3", "G2", "k", "{}")), True),
    (("invoke", 0), ("deliver", ("G1", "G2", "k", "{}")), False),
    (("timer", ("G1", "1")), ("timer", ("G2", "1")), False),
])
def test_independence(a: Any, b: Any, expected: bool) -> None:
    assert independent(a, b) is expected and independent(b, a) is expected

"""The explanation's set of operations is 1-minimal (issue 19 §3).

README: "the smallest set of operations that cannot be ordered". What is
promised, precisely: leaving out any single operation of the set no longer
proves the violation (``minimal: true``), unless the checker's budget ran out
first (then ``minimal: false`` says so).
"""

from __future__ import annotations

from typing import Any

import pytest

from capsim import simulate
from capsim.check import linearizable as lin_mod
from capsim.check.linearizable import check_linearizable
from capsim.history import History
from capsim.scenario import parse_scenario_text

from .histories import only_ops

QUORUM = """\
name: qmin
duration: 12
nodes: [A, B, C, D, E]
initial: {x: v0}
network: {latency: {dist: exponential, mean: 0.03, shift: 0.01}, loss: 0.1}
policy: quorum
params: {quorum: {n: 5, r: 1, w: 1}}
nemesis:
  - {at: 2, partition: [[A, B], [C, D, E]]}
  - {at: 8, heal: true}
workload: {rate: 40, reads: 0.6, clients: 10}
"""




def _produces(op: Any) -> Any:
    return op.invoke.value[1] if op.f == "cas" else op.invoke.value


def _observes(op: Any) -> Any:
    return op.value if op.f == "read" else op.invoke.value[0]


def _assert_one_minimal(history: History, guilty: list[int], initial: dict[str, Any]) -> None:
    whole = only_ops(history, set(guilty))
    assert check_linearizable(whole, initial=initial).linearizable is False
    ops = {o.invoke.index: o for o in whole.operations()}
    for i in guilty:
        rest = set(guilty) - {i}
        gone = ops[i]
        needed = {_observes(o) for j, o in ops.items() if j in rest and o.f != "write"
                  and o.type == "ok"}
        if gone.f != "read" and _produces(gone) in needed:
            continue  # a kept op read what it wrote: leaving it out proves nothing
        assert check_linearizable(only_ops(history, rest), initial=initial).linearizable is True, i


@pytest.mark.parametrize("attempts", [lin_mod.SHRINK_ATTEMPTS, 1])
def test_the_explained_set_is_one_minimal_even_when_the_shrink_budget_runs_out(
    monkeypatch: pytest.MonkeyPatch, attempts: int
) -> None:
    monkeypatch.setattr(lin_mod, "SHRINK_ATTEMPTS", attempts)
    sc = parse_scenario_text(QUORUM)
    r = simulate(sc, linearizability=False)
    res = check_linearizable(r.history, initial=sc.initial)
    assert res.linearizable is False
    key = res.key_result(res.key)
    assert key.minimal is True
    assert res.to_dict()["keys"][res.key]["minimal"] is True
    _assert_one_minimal(r.history, list(res.ops), dict(sc.initial))
    assert len(res.ops) <= 6

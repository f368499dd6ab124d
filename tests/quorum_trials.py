"""PBS's write-then-read trials, run through the full simulator.

A trial writes a fresh key and, ``t`` ms after the write is acknowledged (its
*commit*), reads it back from the same client; the read is consistent if it
returns the value just written. That is the PBS paper's t-visibility
experiment, played by the SimPy engine, the network with a latency preset and
the ``quorum`` policy, instead of by the Monte Carlo's array arithmetic.

A scenario's schedule gives absolute times, but "t after commit" depends on
when the commit happens. The engine's client issues its operations one after
another, taking each from its plan only when the previous one has completed,
so a plan that is a generator can compute the read's time at that moment:
``env.now`` is then the commit time. Many clients run trials in parallel;
each trial has its own key, so trials do not interact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from capsim.policies.quorum import Quorum, QuorumParams
from capsim.scenario import parse_scenario
from capsim.sim.engine import Engine
from capsim.sim.workload import PlannedOp


@dataclass(frozen=True)
class Visibility:
    """Per t (ms): how many trials read the write back, out of how many."""

    consistent: dict[float, int]
    trials: dict[float, int]

    def p(self, t: float) -> float:
        return self.consistent[t] / self.trials[t]


def run_trials(
    latency: str,
    ts_ms: Sequence[float],
    per_t: int,
    *,
    seed: int,
    n: int = 3,
    r: int = 1,
    w: int = 1,
    coordinator: str = "client",
    clients: int = 30,
) -> Visibility:
    """``per_t`` trials at each t of ``ts_ms`` under ``latency`` (a preset name)."""
    nodes = [f"G{i + 1}" for i in range(n)]
    scenario = parse_scenario({
        "name": "pbs-trials",
        "duration": 1e6,  # long enough for any trial; the run stops when events run out
        "nodes": nodes,
        "network": {"latency": latency},
        "policy": "quorum",
        "params": {"quorum": {"n": n, "r": r, "w": w, "coordinator": coordinator}},
        "timeout": 60.0,  # never give up: PBS has no timeouts
        "clients": [{"name": f"c{i}", "node": nodes[i % n]} for i in range(clients)],
    })
    params = QuorumParams(n=n, r=r, w=w, coordinator=coordinator)  # type: ignore[arg-type]
    engine = Engine(scenario, Quorum, params, seed, record_messages=False)
    trials = [(j, float(ts_ms[j % len(ts_ms)])) for j in range(per_t * len(ts_ms))]

    def plan(name: str, home: str, mine: list[tuple[int, float]]) -> Iterator[PlannedOp]:
        for j, t in mine:
            yield PlannedOp(0.0, name, home, "write", f"k{j}", f"v{j}")
            # Pulled only once the write has completed: env.now is its commit time.
            yield PlannedOp(engine.env.now + t / 1000.0, name, home, "read", f"k{j}", None)

    for i in range(clients):
        name = f"c{i}"
        engine.plans[name] = plan(name, nodes[i % n], trials[i::clients])  # type: ignore[assignment]
    engine.run()
    read: dict[str, object] = {}
    for op in engine.history().operations():
        assert op.type == "ok", f"a trial did not complete: {op}"
        if op.f == "read":
            read[op.key] = op.value
    consistent = dict.fromkeys(map(float, ts_ms), 0)
    count = dict.fromkeys(map(float, ts_ms), 0)
    for j, t in trials:
        count[t] += 1
        consistent[t] += read[f"k{j}"] == f"v{j}"
    return Visibility(consistent, count)

"""capsim's engine vs bare SimPy: messages delivered per second.

Baseline: SimPy's own "event latency" pattern (a Cable whose put() spawns a
process that waits the sampled latency, then puts into a Store), with three
node processes passing tokens round a ring. capsim: the same ring as a
sans-I/O policy run by capsim's Engine and Network (latency sampling, cut
and loss checks, message journal, effect dispatch). Both draw one latency
per hop from random.Random. Prints medians of several runs and the ratio
capsim ÷ bare (target >= 0.5 at N = 200,000).

    python benchmarks/bench_engine.py [N] [REPEATS]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from typing import Any

import simpy

from capsim import parse_scenario
from capsim.policies.base import Policy, Send
from capsim.sim.engine import Engine

NODES = ["G1", "G2", "G3"]
TOKENS = 30
MEAN = 0.01


def bare_simpy(n: int, seed: int = 1) -> float:
    env = simpy.Environment()
    rng = random.Random(seed)
    inbox = {name: simpy.Store(env) for name in NODES}
    sent = [0]

    def wire(store: simpy.Store, msg: Any, delay: float):
        yield env.timeout(delay)
        yield store.put(msg)

    def node(me: int):
        nxt = inbox[NODES[(me + 1) % len(NODES)]]
        box = inbox[NODES[me]]
        while True:
            msg = yield box.get()
            if sent[0] >= n:
                continue
            sent[0] += 1
            env.process(wire(nxt, msg, rng.expovariate(1 / MEAN)))

    for i in range(len(NODES)):
        env.process(node(i))
    for t in range(TOKENS):
        inbox["G1"].put(t)
    t0 = time.perf_counter()
    env.run()
    dt = time.perf_counter() - t0
    assert sent[0] == n
    return n / dt


class Ring(Policy):
    """Pass every token to the next node until ``n`` messages were sent."""

    name = "ring"
    budget = 0
    sent = 0

    def start(self, now: float) -> list[Any]:
        if self.node != "G1":
            return []
        return [self._send(t) for t in range(TOKENS)]

    def _send(self, token: int) -> Send:
        Ring.sent += 1
        nxt = NODES[(NODES.index(self.node) + 1) % len(NODES)]
        return Send(nxt, {"t": token}, "ring")

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Any]:
        if Ring.sent >= Ring.budget:
            return []
        return [self._send(msg["t"])]

    def on_request(self, now: float, req: Any) -> list[Any]:  # pragma: no cover
        return []

    def value_of(self, key: str) -> Any:
        return None


def capsim_engine(n: int, seed: int = 1, record: bool = True) -> float:
    sc = parse_scenario({
        "name": "bench", "duration": 1e9, "nodes": NODES, "policy": "cp",
        "network": {"latency": {"dist": "exponential", "mean": MEAN}},
    })
    Ring.budget, Ring.sent = n, 0
    eng = Engine(sc, Ring, Ring.Params(), seed, record_messages=record)
    t0 = time.perf_counter()
    eng.run()
    dt = time.perf_counter() - t0
    assert Ring.sent >= n
    return n / dt


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    bare, cap, cap_nojournal, ratios = [], [], [], []
    for i in range(reps):
        b = bare_simpy(n, seed=i)
        c = capsim_engine(n, seed=i)
        bare.append(b)
        cap.append(c)
        ratios.append(c / b)
        cap_nojournal.append(capsim_engine(n, seed=i, record=False))
    print(f"N = {n:,} messages, {reps} runs each (medians)")
    print(f"bare SimPy (Store + latency process):  {statistics.median(bare):>12,.0f} msg/s")
    print(f"capsim Engine + Network (journal on):  {statistics.median(cap):>12,.0f} msg/s")
    off = statistics.median(cap_nojournal)
    print(f"capsim Engine + Network (journal off): {off:>12,.0f} msg/s")
    ratio = statistics.median(ratios)
    print(f"ratio capsim / bare (paired, median):  {ratio:.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()

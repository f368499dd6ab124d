"""Costs that must grow with the work, not with keys or nodes (issue 21 §3).

Prints, for ap: the run time (simulate, all checks) of a 10,000-operation
workload with 1 key and with 1,000 keys (the convergence check used to scale
with keys), and of 1,000 operations on 3, 100 and 2,000 nodes (anti-entropy
used to cost nodes² messages a round). Each row is the median of --runs runs;
the ratios are what count on a shared machine.

    python benchmarks/bench_costs.py [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

from capsim import parse_scenario, simulate


def scenario(nodes: int, keys: int, ops: int, rate: float = 500.0) -> object:
    names = [f"N{i}" for i in range(nodes)]
    duration = ops / rate
    return parse_scenario({
        "name": f"cost-{nodes}n-{keys}k", "duration": duration + 1.0, "nodes": names,
        "network": {"latency": {"dist": "exponential", "mean": 0.005}},
        "params": {"ap": {"sync_interval": 0.1}},
        "nemesis": [{"at": duration / 3, "partition": [names[: max(1, nodes // 2)]]},
                    {"at": duration / 2, "heal": True}],
        "workload": {"rate": rate, "reads": 0.5, "keys": keys, "clients": 10,
                     "end": duration},
        # Past the classroom limits on purpose: these shapes measure scaling.
        "limits": {"nodes": max(100, nodes), "events": 50_000_000},
    })


def timed(sc: object, runs: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        r = simulate(sc, policy="ap")  # type: ignore[arg-type]
        times.append(time.perf_counter() - t0)
        n = len(r.history.operations())
    return statistics.median(times), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller shapes (for a busy machine)")
    a = ap.parse_args()
    big = 2_000 if not a.quick else 500
    rows = [("10k ops, 3 nodes, 1 key", scenario(3, 1, 10_000)),
            ("10k ops, 3 nodes, 1,000 keys", scenario(3, 1_000, 10_000)),
            ("1k ops, 3 nodes", scenario(3, 1, 1_000)),
            ("1k ops, 100 nodes", scenario(100, 1, 1_000)),
            (f"1k ops, {big:,} nodes", scenario(big, 1, 1_000))]
    base = None
    print(f"ap, median of {a.runs} run(s): simulate + all checks")
    print(f"{'shape':<32}{'ops':>8}{'seconds':>10}{'× first':>9}")
    for name, sc in rows:
        t, n = timed(sc, a.runs)
        base = base or t
        print(f"{name:<32}{n:>8}{t:>10.2f}{t / base:>9.2f}")


if __name__ == "__main__":
    main()

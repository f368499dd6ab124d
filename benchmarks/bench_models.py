"""How fast are the consistency-ladder checkers? Prints a table; not a test.

Histories:

* ``atomic``: a true atomic register (one key, 10,000 ops, 10 clients, ~2 %
  unanswered writes, some cas), from ``bench_checker.generate``: every model
  holds; the checkers find one order for everybody (or the linearizability
  fast path) and stop.
* ``stale``: the same with one read made stale: not linearizable, yet every
  model below holds, so each client's view is checked in full (the slow case).
* ``ap``: a capsim run of ``ap`` with 10 generated clients on 4 keys and a
  partition in the middle: models break, the first broken view is reported.

Sequential consistency is timed on Jepsen-sized histories (≈170 events, 5
clients, one key, as in Knossos' etcd set): 102 histories, linearizable and
stale-read variants, average per history.

Run: ``python benchmarks/bench_models.py``. Targets (issue 16): each polynomial
checker < 1 s on 10,000 ops × 10 clients; sequential < 50 ms on average.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_checker import generate

from capsim.check.causal import check_causal
from capsim.check.pram import check_pram
from capsim.check.sequential import check_sequential
from capsim.check.session import check_mr, check_mw, check_ryw, check_wfr
from capsim.history import History

CHECKERS = {"causal": check_causal, "pram": check_pram, "ryw": check_ryw, "mr": check_mr,
            "mw": check_mw, "wfr": check_wfr}


def ap_history(n_ops: int) -> tuple[History, dict[str, str]]:
    from capsim import simulate
    from capsim.scenario import parse_scenario

    duration = n_ops / 500
    sc = parse_scenario({
        "name": "bench-ap", "seed": 3, "duration": duration, "nodes": ["n1", "n2", "n3"],
        "network": {"latency": {"dist": "exponential", "mean": 0.01}},
        "policy": "ap",
        "nemesis": [{"at": duration / 3, "partition": [["n1"], ["n2", "n3"]]},
                    {"at": 2 * duration / 3, "heal": True}],
        "workload": {"rate": 500, "reads": 0.6, "keys": 4, "clients": 10},
    }, source="<bench>")
    res = simulate(sc, linearizability=False)
    return res.history, {}


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    t = time.process_time()
    r = fn(*args, **kw)
    return r, time.process_time() - t


def main() -> None:
    print("CPU seconds of this process (the machine may be shared).")
    cases = [
        ("atomic", generate(10_000, 10, seed=11), {"x": 0}),
        ("stale", generate(10_000, 10, seed=11, violate=True), {"x": 0}),
    ]
    h, init = ap_history(10_000)
    cases.append(("ap", h, init))
    print(f"{'history':<8} {'ops':>6} {'clients':>7} " + " ".join(f"{m:>12}" for m in CHECKERS))
    for name, hist, init in cases:
        ops = hist.operations()
        cells = []
        for fn in CHECKERS.values():
            r, secs = timed(fn, hist, initial=init)
            cells.append(f"{r.verdict:>3} {secs:7.3f} s")
        print(f"{name:<8} {len(ops):>6} {len({o.process for o in ops}):>7} " + " ".join(cells))
    for violate in (False, True):
        times = []
        verdicts = []
        for seed in range(102):
            hh = generate(85, 5, seed=seed, violate=violate) if not violate else None
            if violate:
                try:
                    hh = generate(85, 5, seed=seed, violate=True)
                except RuntimeError:
                    hh = generate(85, 5, seed=seed)
            assert hh is not None
            r, secs = timed(check_sequential, hh, initial={"x": 0})
            times.append(secs)
            verdicts.append(r.verdict)
        kind = "stale" if violate else "atomic"
        print(f"sequential, 102 × ~{len(hh):d}-event 5-client {kind} histories: mean "
              f"{1000 * statistics.mean(times):.1f} ms, max {1000 * max(times):.1f} ms, verdicts "
              f"{ {v: verdicts.count(v) for v in sorted(set(verdicts))} }")


if __name__ == "__main__":
    main()

"""How fast is the PBS Monte Carlo? Target: 1,000,000 trials of one (N, R, W, model) in < 1 s.

Two figures per configuration, each the median of several runs on one core:

* ``simulate``: the whole public call, as ``capsim pbs`` makes it -- draw the
  trials, evaluate them, and sort the windows and latencies for the curve and
  percentiles;
* ``core``: drawing and evaluating only (what the paper method's sweep
  repeats at every t).

Run: ``python benchmarks/bench_pbs.py [--trials N] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from capsim.pbs import MODEL_NAMES, simulate
from capsim.pbs.montecarlo import CHUNK, draw_trials, evaluate


def _median_seconds(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _core(model: str, n: int, r: int, w: int, trials: int) -> None:
    rng = np.random.default_rng(0)
    for start in range(0, trials, CHUNK):
        evaluate(draw_trials(model, n, min(CHUNK, trials - start), rng), r, w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"PBS WARS Monte Carlo, {args.trials:,} trials, median of {args.repeat} runs")
    print(f"numpy {np.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}")
    print(f"{'config':<22} {'simulate s':>10} {'trials/s':>12} {'core s':>8} {'trials/s':>12}")
    configs = [(3, 1, 1, m) for m in MODEL_NAMES] + [(3, 2, 1, "LNKD-DISK"), (10, 3, 3, "WAN")]
    worst = 0.0
    for n, r, w, model in configs:
        simulate(n, r, w, model, trials=10_000)  # warm up allocator and caches
        full = _median_seconds(
            lambda n=n, r=r, w=w, model=model: simulate(n, r, w, model, trials=args.trials),
            args.repeat,
        )
        core = _median_seconds(
            lambda n=n, r=r, w=w, model=model: _core(model, n, r, w, args.trials), args.repeat
        )
        if n == 3:
            worst = max(worst, full)
        label = f"N={n} R={r} W={w} {model}"
        print(
            f"{label:<22} {full:>10.3f} {args.trials / full:>12,.0f} "
            f"{core:>8.3f} {args.trials / core:>12,.0f}"
        )
    verdict = "meets" if worst < 1.0 else "MISSES"
    print(
        f"slowest N=3 simulate(): {worst:.3f} s per {args.trials:,} trials "
        f"-> {verdict} the 1 s target"
    )


if __name__ == "__main__":
    main()

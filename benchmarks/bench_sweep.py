"""How well does `capsim sweep` use two cores? Prints a table; not a test.

400 runs of the seed story (scenarios/partition.yaml, under cp and ap) with a
generated workload, through the sweep executors: 1 worker (in-process, the
baseline) and 2 local worker processes. For each it prints the wall time
(pool start-up included), the sum of the run times measured inside the
workers, the speed-up over 1 worker, and the executor's overhead per run:

    overhead = (wall × workers − Σ in-worker run time) / runs

i.e. the worker-time not spent simulating: starting the pool, pickling
tasks and results, waiting for the parent, and idle workers at the end.
``efficiency`` is the same thing as a fraction, Σ in-worker / (wall ×
workers), and ``workers × efficiency`` is the speed-up the executor allows
when each worker has a core to itself. On a machine shared with other jobs a
busy neighbour slows the runs themselves (ms/run in worker goes up), which
lowers the measured speed-up but not the efficiency. ``cores got`` (CPU
seconds used ÷ wall) shows how much of the machine the benchmark actually
had; the load average and the medians of several repeats are printed too.

Run: ``python benchmarks/bench_sweep.py [--runs 400] [--repeat 5] [--rate 20]``.
Targets (issue 9): speed-up >= 1.8× on 2 cores; overhead < 5 ms per run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

from capsim.sweep.run import Outcome, ProcessExecutor, SerialExecutor, Task
from capsim.sweep.spec import parse_sweep_text

ROOT = Path(__file__).resolve().parents[1]


def make_tasks(runs: int, rate: float) -> list[Task]:
    seeds = max(1, runs // 2)
    text = (
        f"base: {ROOT / 'scenarios' / 'partition.yaml'}\n"
        f"set:\n  workload: {{rate: {rate}, reads: 0.5, clients: 4}}\n"
        f"seeds: {seeds}\nseed: 1\n"
    )
    sweep = parse_sweep_text(text, source="bench")
    return [Task(r.index, r.point.scenario, r.policy, r.seed) for r in sweep.runs[:runs]]


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the pool's workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(tasks: list[Task], workers: int) -> tuple[float, float, float, float, list[Outcome]]:
    """(wall incl. pool start, wall of the runs alone, Σ in-worker s, CPU s, outcomes)."""
    outs: list[Outcome] = []
    c0 = _cpu()
    t0 = time.perf_counter()
    ex = SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    t1 = time.perf_counter()
    with ex:
        ex.run(tasks, outs.extend)
    t2 = time.perf_counter()  # the pool is shut down: its workers' CPU time is counted
    return t2 - t0, t2 - t1, sum(o.seconds for o in outs), _cpu() - c0, outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rate", type=float, default=20.0, help="workload ops per second")
    args = ap.parse_args()

    tasks = make_tasks(args.runs, args.rate)
    SerialExecutor().run(tasks[:4], lambda _: None)  # warm caches and imports
    print(f"{len(tasks)} runs of the seed story + workload (rate {args.rate:g}/s), "
          f"{os.cpu_count()} cores, median of {args.repeat}; "
          f"load average before: {os.getloadavg()[0]:.1f}")

    results: dict[int, list[tuple[float, float, float, float]]] = {1: [], 2: []}
    reference: dict[int, dict[str, object]] | None = None
    for _ in range(args.repeat):
        for workers in (1, 2):
            wall, run_wall, inside, cpu, outs = measure(tasks, workers)
            got = {o.index: o.metrics for o in outs}
            if reference is None:
                reference = got
            assert got == reference, "rows differ between executors"
            results[workers].append((wall, run_wall, inside, cpu))

    def med(workers: int, i: int) -> float:
        return statistics.median(r[i] for r in results[workers])

    base = med(1, 0)
    print(f"{'workers':>7} {'wall s':>8} {'Σ in-worker s':>13} {'ms/run in worker':>16} "
          f"{'speed-up':>8} {'overhead ms/run':>15} {'efficiency':>10} {'cores got':>9}")
    for workers in (1, 2):
        wall, inside = med(workers, 0), med(workers, 2)
        overhead = statistics.median(
            (w * workers - s) / len(tasks) * 1000 for w, _, s, _ in results[workers]
        )
        eff = statistics.median(s / (w * workers) for w, _, s, _ in results[workers])
        cores = statistics.median(c / w for w, _, _, c in results[workers])
        print(f"{workers:>7} {wall:>8.3f} {inside:>13.3f} {inside / len(tasks) * 1000:>16.2f} "
              f"{base / wall:>7.2f}× {overhead:>15.2f} {eff:>9.1%} {cores:>9.2f}")
    excl = statistics.median((rw * 2 - s) / len(tasks) * 1000 for _, rw, s, _ in results[2])
    eff2 = statistics.median(s / (w * 2) for w, _, s, _ in results[2])
    print(f"2 workers: pool start-up excluded, overhead {excl:.2f} ms/run; "
          f"speed-up with a core per worker (2 × efficiency): {2 * eff2:.2f}×")
    print(f"rows identical at 1 and 2 workers: yes; load average after: "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

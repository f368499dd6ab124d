"""How long a student waits for the command line, as ratios to a bare ``python -c pass``.

Each command is started as a fresh process N times (interleaved with the
baseline, so a busy machine slows both alike); the medians and their ratio
are printed. Targets (issue 21): ``capsim --help`` ≤ 5×, ``capsim run
--no-plot`` ≤ 10×; on a quiet machine ``--help`` < 0.15 s and ``capsim run``
with its pictures < 1.5 s.

    python benchmarks/bench_startup.py [--runs 9]

The commands run with ``PYTHONDONTWRITEBYTECODE`` unset and after one
untimed warm-up each, as on a student's machine where Python caches the
compiled modules after the first run (with it set, every start recompiles
capsim's own modules: about 0.2 s more for ``capsim run``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "capsim --help": [sys.executable, "-m", "capsim", "--help"],
    "capsim run --help": [sys.executable, "-m", "capsim", "run", "--help"],
    "capsim run --no-plot": [sys.executable, "-m", "capsim", "run", "--no-plot", "--force"],
    "capsim run": [sys.executable, "-m", "capsim", "run", "--force"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    n = ap.parse_args().runs
    times: dict[str, list[float]] = {k: [] for k in CASES}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory() as cwd:
        for argv in CASES.values():  # warm-up: compiled modules and font caches written
            subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env)
        for _ in range(n):
            for name, argv in CASES.items():
                t0 = time.perf_counter()
                subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env)
                times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["python -c pass"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"median of {n} runs each (interleaved); load average {load:.2f}; "
          f"{os.cpu_count()} CPUs")
    print(f"{'command':<24}{'median s':>10}{'× python':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<24}{med:>10.3f}{med / base:>10.1f}")


if __name__ == "__main__":
    main()

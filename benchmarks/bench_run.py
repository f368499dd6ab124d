"""What `capsim run` spends: simulate vs serialise vs write + plot, at 1k/10k/100k ops.

A 3-node cp workload (one client per node, G3 cut off for the middle fifth
of the run) is run in-process at each size, and each phase is timed:

* simulate  — ``capsim.simulate``: engine and every check;
* serialise — encoding the history as JSON Lines, ``result.json`` and the
  message journal (bytes made, nothing written);
* write — writing the run folder atomically (streamed: it encodes again);
* plot — drawing and writing ``timeline.png``;
* write+plot — what ``capsim run`` does after simulating.

It prints seconds and the ratios to the simulate phase measured in the same
run (the issue's targets: write+plot ≤ 1× simulate at 10k, ≤ 0.5× at 100k).
Then it runs ``capsim run`` (with its timeline) on 10k × 3, 100k × 3 and
100k ops × 7 nodes, each in a fresh process, and prints wall time and peak
memory (max RSS; target ≤ 300 MB at 100k × 7), next to the seed story's as
the fixed cost measured in the same run.

    python benchmarks/bench_run.py              # 1k, 10k, 100k, the shapes and the peaks
    python benchmarks/bench_run.py 1000 10000   # chosen sizes only
    python benchmarks/bench_run.py --ap         # the ap policy instead of cp
    python benchmarks/bench_run.py 1000 --shapes --peak   # also §3's shapes and the peaks
    python benchmarks/bench_run.py 1000 --peak --html     # peaks with report.html written too

Also (issue 21 §3) the shapes whose cost should follow the work: ap with
1 vs 1,000 keys (the convergence check), and 10 vs 100 nodes (anti-entropy).

The machine may be shared: compare ratios, not seconds.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

RATE = 200.0  # ops per simulated second, over all clients


def spec(ops: int, nodes: int = 3, policy: str = "cp", keys: int = 1) -> dict[str, Any]:
    """A scenario of about ``ops`` operations: steady clients, one partition."""
    names = [f"G{i + 1}" for i in range(nodes)]
    duration = ops / RATE
    return {
        "name": f"bench-{ops}",
        "seed": 7,
        "duration": duration,
        "nodes": names,
        "initial": {"x": "v0"},
        "policy": policy,
        "network": {"latency": {"dist": "exponential", "mean": 0.005}},
        "timeout": 0.5,
        "nemesis": [{"at": 0.4 * duration, "partition": [[names[-1]]]},
                    {"at": 0.6 * duration, "heal": True}],
        "workload": {"rate": RATE, "clients": min(nodes, 7), "reads": 0.5, "keys": keys},
    }


def shapes() -> None:
    """Issue 21 §3: costs that should grow with the work, not with keys or nodes²."""
    from capsim import parse_scenario, simulate

    print("\nshapes (simulate only, ap): seconds")
    rows = [("10,000 ops, 1 key, 3 nodes", spec(10_000, 3, "ap", keys=1)),
            ("10,000 ops, 1,000 keys, 3 nodes", spec(10_000, 3, "ap", keys=1000)),
            ("1,000 ops, 1 key, 10 nodes", spec(1_000, 10, "ap")),
            ("1,000 ops, 1 key, 100 nodes", spec(1_000, 100, "ap"))]
    for label, s in rows:
        t0 = time.perf_counter()
        simulate(parse_scenario(s), policy="ap")
        print(f"  {label:<34} {time.perf_counter() - t0:7.2f}", flush=True)


def phases(ops: int, policy: str) -> dict[str, float]:
    from capsim import parse_scenario, simulate
    from capsim.cli.run import write_run
    from capsim.plot import save_run_plots

    sc = parse_scenario(spec(ops, policy=policy))
    t0 = time.perf_counter()
    r = simulate(sc, policy=policy)
    gc.freeze()  # as `capsim run` does once the results are made
    t1 = time.perf_counter()
    if hasattr(r, "messages_lines"):
        for _ in r.history.jsonl_lines():
            pass
        r.to_json()
        for _ in r.messages_lines():
            pass
    else:  # capsim before issue 21 (to measure a baseline with the same script)
        r.history.to_jsonl()
        r.to_json()
        r.messages_jsonl()
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        write_run(r, Path(d))
        t3 = time.perf_counter()
        save_run_plots([r], d)
    t4 = time.perf_counter()
    gc.unfreeze()
    n = len(r.history.operations())
    return {"ops": n, "simulate": t1 - t0, "serialise": t2 - t1, "write": t3 - t2,
            "plot": t4 - t3, "write+plot": t4 - t2}


PEAK_SHAPES = ((10_000, 3), (100_000, 3), (100_000, 7))


def peak_run(ops: int, nodes: int, policy: str, html: bool = False) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``capsim run`` (timeline.png) in a fresh process.

    ``ops == 0`` runs the seed story: the fixed cost (interpreter, capsim,
    matplotlib, one small picture) the other shapes are compared with. The
    child reports its own ``ru_maxrss``, so each shape is measured alone
    (``RUSAGE_CHILDREN`` would give the largest child so far).
    """
    with tempfile.TemporaryDirectory() as d:
        args = ["capsim", "run"]
        if ops:
            path = Path(d) / "scenario.yaml"
            path.write_text(yaml.safe_dump(spec(ops, nodes, policy)), encoding="utf-8")
            args.append(str(path))
        args += ["--policy", policy, "--out", str(Path(d) / "out")]
        if not html:
            args.append("--no-html")
        code = ("import resource, sys; from capsim.cli import main\n"
                f"sys.argv = {args!r}\n"
                "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
                "finally:\n    kb = 1 if sys.platform == 'darwin' else 1024\n"
                "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kb,"
                " file=sys.stderr)\n")
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], check=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
    return wall, int(out.stderr.strip().splitlines()[-1]) / 2**20


def peaks(policy: str, shapes: tuple[tuple[int, int], ...], html: bool) -> None:
    """Peak memory of ``capsim run`` per shape (issue 21: ≤ 300 MB at 100k ops × 7 nodes)."""
    page = "timeline.png and report.html" if html else "timeline.png, --no-html"
    print(f"\ncapsim run, fresh process each, {policy}, {page}: wall, peak RSS "
          "(and its growth over the seed story's, per op)")
    wall0, base = peak_run(0, 2, policy, html)
    print(f"  {'seed story':<22} {wall0:7.1f} s {base:7.0f} MB", flush=True)
    for ops, nodes in shapes:
        wall, mb = peak_run(ops, nodes, policy, html)
        target = "  (target ≤ 300 MB)" if (ops, nodes) == (100_000, 7) else ""
        print(f"  {f'{ops:,} ops × {nodes} nodes':<22} {wall:7.1f} s {mb:7.0f} MB "
              f"(+{mb - base:.0f} MB, {(mb - base) * 2**20 / ops:,.0f} B/op){target}",
              flush=True)


def main(argv: list[str]) -> None:
    policy = "ap" if "--ap" in argv else "cp"
    import matplotlib.figure  # noqa: F401 - a fixed start-up cost, not a per-size one

    from capsim.plot import style

    style.cjk_font()
    sizes = [int(a) for a in argv if a.isdigit()] or [1_000, 10_000, 100_000]
    print(f"capsim run phases, {policy}, 3 nodes (seconds; ratio to simulate in brackets)")
    print(f"{'ops':>8} {'simulate':>9} {'serialise':>15} {'write':>15} {'plot':>15} "
          f"{'write+plot':>15}")
    for n in sizes:
        p = phases(n, policy)
        s = p["simulate"]
        cells = " ".join(f"{p[k]:>7.2f} ({p[k] / s:4.2f}×)"
                         for k in ("serialise", "write", "plot", "write+plot"))
        print(f"{p['ops']:>8,} {s:>9.2f} {cells}", flush=True)
    if len(argv) == 0 or "--shapes" in argv:
        shapes()
    if len(argv) == 0 or "--peak" in argv:
        peaks(policy, PEAK_SHAPES, html="--html" in argv)

if __name__ == "__main__":
    main(sys.argv[1:])

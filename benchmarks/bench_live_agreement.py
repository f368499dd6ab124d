"""Do live runs reach the simulator's verdicts? Prints figures; not a test.

For each shipped scenario (``scenarios/*.yaml``) and each policy of cp, ap,
quorum and lock that the scenario supports, runs the simulator once (it is
deterministic) and ``capsim live`` K times, and prints the fraction of live
runs whose verdicts all equal the simulator's:

- linearizable (yes / no),
- availability during the partition, to within ±5 percentage points
  (or both "n/a" when the scenario has no partition),
- stale reads > 0 (yes / no),
- converged after the heal (yes / no / n/a).

A live run whose harness fails (a replica that would not start, …) counts as
an error, not as a disagreement. The per-verdict columns say which verdict
differed. Run: ``python benchmarks/bench_live_agreement.py [--k 3] [--speed 1]
[--scenario partition --policy cp]`` (about a minute of wall time per K per
policy at speed 1; everything on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from capsim import RunResult, load_scenario, simulate
from capsim.errors import CapsimError
from capsim.live.driver import HarnessError, LiveRun

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ("cp", "ap", "quorum", "lock")
VERDICTS = ("linearizable", "availability", "stale", "converged")


def verdicts(r: RunResult) -> dict[str, Any]:
    c = r.checks
    avail = c["availability"]["during_partition"]
    return {
        "linearizable": (c.get("linearizable") or {}).get("linearizable"),
        "availability": avail,
        "stale": c["stale_reads"]["count"] > 0,
        "converged": (c.get("convergence") or {}).get("converged"),
    }


def same(name: str, live: Any, sim: Any) -> bool:
    if name == "availability" and live is not None and sim is not None:
        return abs(float(live) - float(sim)) <= 0.05 + 1e-9
    return bool(live == sim)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=3, help="live runs per scenario × policy")
    ap.add_argument("--speed", type=float, default=1.0, help="live speed (default 1)")
    ap.add_argument("--scenario", action="append", help="only these (file stems)")
    ap.add_argument("--policy", action="append", help="only these policies")
    args = ap.parse_args()
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    if args.scenario:
        files = [f for f in files if f.stem in args.scenario]
    policies = args.policy or list(POLICIES)
    print(f"live vs simulator: K={args.k} live runs per pair at speed {args.speed:g}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print()
    print("| scenario | policy | agree | errors | linearizable | availability ±5 pp "
          "| stale > 0 | converged | simulator: lin / avail / stale / conv |")
    print("|---|---|---|---|---|---|---|---|---|")
    started = time.monotonic()
    for f in files:
        sc = load_scenario(f)
        for policy in policies:
            try:
                sim = verdicts(simulate(sc, policy=policy))
            except CapsimError as exc:
                print(f"| {f.stem} | {policy} | n/a | | | | | | {str(exc)[:60]} |", flush=True)
                continue
            agree, errors = 0, 0
            per = dict.fromkeys(VERDICTS, 0)
            for _ in range(args.k):
                try:
                    live = verdicts(LiveRun(sc, policy, speed=args.speed).run())
                except HarnessError as exc:
                    errors += 1
                    print(f"  ({f.stem}/{policy}: {exc})", file=sys.stderr)
                    continue
                ok = {v: same(v, live[v], sim[v]) for v in VERDICTS}
                for v in VERDICTS:
                    per[v] += ok[v]
                agree += all(ok.values())
            n = args.k - errors

            def frac(x: int, n: int = n) -> str:
                return f"{x}/{n}" if n else "-"

            avail = "n/a" if sim["availability"] is None else f"{sim['availability']:.0%}"
            print(f"| {f.stem} | {policy} | {frac(agree)} | {errors} | "
                  + " | ".join(frac(per[v]) for v in VERDICTS)
                  + f" | {sim['linearizable']} / {avail} / {sim['stale']} / "
                    f"{sim['converged']} |", flush=True)
    print(f"\n{time.monotonic() - started:.0f} s of wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())

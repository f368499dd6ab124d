"""How big are the state spaces ``capsim explore`` searches, and how fast? Prints a table.

Rows (issue 14): the seed story under cp and ap, with and without a drop;
two clients each writing then reading on two replicas under cp (Stateright's
ABD example counts 544 states for a similar configuration); three replicas
with one writer and one reader under cp with up to one drop; the broken ABD
fixture (time to its first counterexample). Every row checks
linearizability (the incremental frontier) on every transition.

Each row is run plainly, then with sleep sets (``--reduce``), then with the
local-transition memo switched off, so the table says what each bought.

Wall time depends on what else the machine runs; states per CPU second
(``time.process_time``) is printed too, for a shared machine.

Run: ``python benchmarks/bench_explore.py [--quick]``.
Targets: seed story < 1 s per policy; 3-replica cp < 60 s; >= 20,000
distinct states/s on 2-replica configurations.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import capsim.explore.model as model_mod
from capsim.explore.properties import Checker
from capsim.explore.reduce import bfs_sleep
from capsim.explore.run import build_model, explore
from capsim.explore.search import bfs
from capsim.scenario import Scenario, load_scenario, parse_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def seed() -> Scenario:
    return load_scenario(os.path.join(ROOT, "scenarios", "partition.yaml"))


def two_by_two() -> Scenario:
    return parse_scenario({
        "name": "abd-2x2", "duration": 10, "nodes": ["G1", "G2"], "initial": {"x": "v0"},
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": [
            {"at": 1, "client": "alice", "write": {"x": "v1"}},
            {"at": 1, "client": "bob", "write": {"x": "v2"}},
            {"at": 2, "client": "alice", "read": "x"},
            {"at": 2, "client": "bob", "read": "x"}],
    }, source="<bench>")


def three_replicas() -> Scenario:
    return parse_scenario({
        "name": "cp-3", "duration": 10, "nodes": ["G1", "G2", "G3"], "initial": {"x": "v0"},
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": [{"at": 1, "client": "alice", "write": {"x": "v1"}},
                       {"at": 1, "client": "bob", "read": "x"}],
    }, source="<bench>")


def broken_abd() -> Scenario:
    return load_scenario(os.path.join(ROOT, "scenarios", "abd-new-old.yaml"))


def measure(sc: Scenario, policy: str, drops: int, *, reduce: bool = False,
            memo: bool = True) -> dict[str, Any]:
    saved = model_mod.MEMO_LIMIT
    model_mod.MEMO_LIMIT = saved if memo else 0
    try:
        m = build_model(sc, policy, drops=drops)
        t0, c0 = time.perf_counter(), time.process_time()
        out = (bfs_sleep if reduce else bfs)(m, Checker(["linearizable"]))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        model_mod.MEMO_LIMIT = saved
    found = out.found.get("linearizable")
    return {"states": out.progress.states, "transitions": out.progress.transitions,
            "wall": wall, "cpu": cpu, "rate": out.progress.states / wall if wall else 0.0,
            "cpu_rate": out.progress.states / cpu if cpu else 0.0,
            "verdict": "holds" if found is None and out.complete else
            f"broken in {len(found.path)} steps" if found else "incomplete"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Skip the slow variants.")
    args = ap.parse_args()
    rows = [
        ("seed story, cp", seed(), "cp", 0),
        ("seed story, cp, 1 drop", seed(), "cp", 1),
        ("seed story, ap", seed(), "ap", 0),
        ("seed story, ap, 1 drop", seed(), "ap", 1),
        ("2 clients x (write, read), 2 replicas, cp", two_by_two(), "cp", 0),
        ("3 replicas, 1 writer + 1 reader, cp, 1 drop", three_replicas(), "cp", 1),
        ("broken ABD (abd-no-writeback), first counterexample", broken_abd(),
         "abd-no-writeback", 0),
    ]
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores shared with other jobs)")
    head = f"{'configuration':<52} {'variant':<8} {'states':>9} {'transitions':>12} " \
           f"{'states/s':>9} {'wall s':>7} {'per CPU s':>9} {'CPU s':>6}  verdict"
    print(head)
    print("-" * len(head))
    for label, sc, policy, drops in rows:
        variants = [("plain", {}), ("reduce", {"reduce": True}), ("no memo", {"memo": False})]
        if args.quick:
            variants = variants[:1]
        for name, kw in variants:
            r = measure(sc, policy, drops, **kw)
            print(f"{label:<52} {name:<8} {r['states']:>9,} {r['transitions']:>12,} "
                  f"{r['rate']:>9,.0f} {r['wall']:>7.2f} {r['cpu_rate']:>9,.0f} {r['cpu']:>6.2f}"
                  f"  {r['verdict']}")
            label = ""
    # The whole command path (search + counterexample + replay in the simulator):
    for policy in ("cp", "ap"):
        t0 = time.perf_counter()
        res = explore(seed(), policy)
        print(f"explore(seed story, {policy}) end to end: {time.perf_counter() - t0:.3f} s "
              f"({res.states} states)")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

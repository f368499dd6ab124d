"""raft's figures: election time after a leader crash, write latency, availability over time.

1. **Election time** after the leader crashes, over ``--seeds`` seeds (default
   1,000) on 3 and 5 replicas with the default tunables (election timeout
   uniform in [0.5, 1.0] s, heartbeat 0.1 s, 50 ms one-way latency). Each
   seed is run twice: once to see who leads at t=2, once crashing that node
   at t=2 (runs are deterministic, so both agree up to the crash). The time
   is from the crash to the next node becoming leader. Beside it, the
   textbook expectation: the first of the N-1 followers' timers to run out
   (each uniform in [lo, hi], started at the last heartbeat), plus a pre-vote
   and a vote round trip (mean, median and p99 of that "book" time); split
   votes add whole rounds on top (the ">1 round" column: elections longer than
   one round can take).
2. **Write latency** in round trips (RTT = 2 × 50 ms), no faults: a client
   next to the leader, and one next to a follower (which forwards).
3. **Availability over time** during a partition that leaves the leader in a
   minority (5 replicas, leader + 1 | 3): the fraction of requests answered
   ok, per 0.25 s bin of answer time, on each side, over ``--runs`` seeds, drawn to
   ``--plot`` (PNG).

Run: ``python benchmarks/bench_raft.py [--seeds 1000] [--runs 40] [--plot FILE]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from capsim import parse_scenario, simulate
from capsim.policies.raft import RaftParams
from capsim.result import RunResult

LATENCY = 0.05
RTT = 2 * LATENCY
CRASH_AT = 2.0


def _nodes(n: int) -> list[str]:
    return [f"G{i}" for i in range(1, n + 1)]


def _scenario(n: int, seed: int, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "name": "bench-raft", "seed": seed, "duration": 4.0, "nodes": _nodes(n),
        "initial": {"x": "v0"}, "policy": "raft",
        "network": {"latency": {"dist": "constant", "value": LATENCY}},
    }
    data.update(extra)
    return parse_scenario(data)


def _run(sc: Any) -> RunResult:
    return simulate(sc, record_messages=False, linearizability=False)


def leader_at(r: RunResult, t: float) -> str | None:
    """The node that is leader at time ``t`` (the latest to become leader before it)."""
    role: dict[str, str] = {}
    for e in r.roles:
        if e.time > t:
            break
        role[e.node] = e.role
    leaders = [n for n, x in role.items() if x == "leader"]
    return leaders[0] if len(leaders) == 1 else None


def election_times(n: int, seeds: int) -> list[float]:
    out = []
    for seed in range(seeds):
        leader = leader_at(_run(_scenario(n, seed, duration=CRASH_AT)), CRASH_AT)
        if leader is None:
            continue
        r = _run(_scenario(n, seed, duration=CRASH_AT + 6.0,
                           nemesis=[{"at": CRASH_AT, "crash": leader}]))
        after = [e["time"] for e in r.checks["leadership"]["elections"]
                 if e["time"] > CRASH_AT]
        if after:
            out.append(after[0] - CRASH_AT)
    return out


def expectation(n: int, q: float | None = None) -> float:
    """First of n-1 uniform [lo, hi] timers (its mean, or its quantile q) + 2 RTT."""
    lo, hi = RaftParams().election_timeout
    k = n - 1
    first = lo + (hi - lo) / (k + 1) if q is None else lo + (hi - lo) * (1 - (1 - q) ** (1 / k))
    return first + 2 * RTT


def quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def write_latency(n: int) -> dict[str, float]:
    """Median latency in RTTs of writes, cas and reads at the leader and at a follower."""
    probe = _run(_scenario(n, 1, duration=2.0))
    leader = leader_at(probe, 2.0)
    assert leader is not None
    follower = next(x for x in _nodes(n) if x != leader)
    ops = []
    t = 2.0
    for i in range(20):
        for who in ("lead", "follow"):
            ops.append({"at": round(t, 3), "client": who, "write": {"x": f"v{i}-{who}"}})
            t += 0.5
            ops.append({"at": round(t, 3), "client": who, "read": "x"})
            t += 0.5
    sc = _scenario(n, 1, duration=t + 2.0, operations=ops,
                   clients=[{"name": "lead", "node": leader},
                            {"name": "follow", "node": follower}])
    out: dict[str, float] = {}
    for read in ("index", "lease"):
        r = simulate(sc, params={"read": read}, record_messages=False)
        by: dict[str, list[float]] = {}
        for op in r.history.operations():
            if op.type == "ok":
                by.setdefault(f"{op.f} @{op.process}", []).append((op.end - op.start) / RTT)
        for k, v in by.items():
            out[f"{k} ({read} reads)" if k.startswith("read") else k] = statistics.median(v)
    return out


def availability(runs: int, n: int = 5, bin_s: float = 0.25) -> tuple[list[float], dict]:
    """Per-bin fraction of answers that were ok, on the leader's (minority) side and the other.

    Binned by when the answer came (a client waits for one request at a time,
    so while its node forwards to a lost leader it sends nothing new: binning
    by start would leave holes where the timeouts are).
    """
    start, end, duration = 2.0, 6.0, 8.0
    bins = [round(i * bin_s, 6) for i in range(int(duration / bin_s))]
    tally: dict[str, list[list[int]]] = {s: [[0, 0] for _ in bins] for s in ("minority",
                                                                              "majority")}
    for seed in range(runs):
        leader = leader_at(_run(_scenario(n, seed, duration=start)), start)
        if leader is None:
            continue
        buddy = next(x for x in _nodes(n) if x != leader)
        minority = {leader, buddy}
        sc = _scenario(n, seed, duration=duration,
                       nemesis=[{"at": start, "partition": [sorted(minority)]},
                                {"at": end, "heal": True}],
                       workload={"rate": 100, "reads": 0.5, "clients": 10, "start": 1.0,
                                 "end": duration - 1.0})
        r = _run(sc)
        for op in r.history.operations():
            if op.complete is None or op.end >= duration:
                continue
            b = int(op.end / bin_s)
            side = "minority" if op.node in minority else "majority"
            tally[side][b][1] += 1
            tally[side][b][0] += op.type == "ok"
    frac = {s: [ok / tot if tot else float("nan") for ok, tot in rows]
            for s, rows in tally.items()}
    return bins, frac


def _pct(x: float) -> str:
    return " no answers" if x != x else f"{x:11.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--plot", default="raft-availability.png")
    args = parser.parse_args()

    print(f"1. election time after a leader crash ({args.seeds} seeds, timeouts "
          f"{list(RaftParams().election_timeout)} s, heartbeat {RaftParams().heartbeat} s, "
          f"one-way latency {LATENCY * 1000:.0f} ms)")
    print(f"{'replicas':>8} {'runs':>5} {'mean s':>7} {'median s':>9} {'p99 s':>7} "
          f"{'max s':>7} {'book mean':>10} {'book median':>12} {'book p99':>9} {'>1 round':>9} "
          f"{'cpu s':>6}")
    for n in (3, 5):
        t0 = time.process_time()
        xs = election_times(n, args.seeds)
        cpu = time.process_time() - t0
        # Longer than any single round can take (the last timer, two round trips
        # and the heartbeat in flight at the crash): a split vote, or a lost round.
        hi = RaftParams().election_timeout[1]
        more = sum(x > hi + 2 * RTT + LATENCY + 1e-9 for x in xs) / len(xs)
        print(f"{n:>8} {len(xs):>5} {statistics.fmean(xs):>7.3f} {statistics.median(xs):>9.3f} "
              f"{quantile(xs, 0.99):>7.3f} {max(xs):>7.3f} {expectation(n):>10.3f} "
              f"{expectation(n, 0.5):>12.3f} {expectation(n, 0.99):>9.3f} {more:>9.1%} "
              f"{cpu:>6.1f}")

    print(f"\n2. latency in round trips (RTT {RTT * 1000:.0f} ms), no faults, median")
    for n in (3, 5):
        for k, v in sorted(write_latency(n).items()):
            print(f"   {n} replicas  {k:<32} {v:.2f} RTT")

    print(f"\n3. availability during a minority-leader partition (5 replicas, t=2..6, "
          f"{args.runs} seeds, 100 req/s)")
    bins, frac = availability(args.runs)
    for t, a, b in zip(bins, frac["minority"], frac["majority"], strict=True):
        if 1.0 <= t < 7.0:
            print(f"   t={t:4.2f}  leader's side {_pct(a)}   majority side {_pct(b)}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.axvspan(2.0, 6.0, color="#F2E3E3", label="partition: leader + 1 | 3")
    ax.step(bins, frac["majority"], where="post", label="majority side (3 replicas)",
            color="#0072B2")
    ax.step(bins, frac["minority"], where="post", label="old leader's side (2 replicas)",
            color="#D55E00")
    ax.set_xlim(1.0, 7.0)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("answers that were ok")
    ax.set_title("raft: availability when the leader ends up in the minority")
    ax.legend(loc="center left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()

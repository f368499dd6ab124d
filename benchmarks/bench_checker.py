"""How fast is the linearizability checker? Prints a table; not a test.

Histories come from a true atomic register driven by concurrent clients with
random, overlapping operations (seeded): each operation takes effect at a
random instant between its call and its answer, so the history is
linearizable. Some writes get no answer (``info``): they take effect later,
or never, and their client continues as a fresh process, as in Jepsen. The
non-linearizable variant turns one late read stale (it returns a value that a
later, acknowledged write had already replaced), so the checker must search
almost the whole history before it can say no, then shrink and explain.

Run: ``python benchmarks/bench_checker.py [--repeat 5] [--quick]``.
Target (issue 3): 10,000 ops with 5 processes in under 1 s on one core.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from capsim.check.linearizable import check_linearizable
from capsim.history import Event, History


@dataclass
class _Op:
    process: str
    f: str
    value: Any
    start: float
    end: float
    point: float | None  # when it takes effect; None: never
    type: str = "ok"


def generate(
    n_ops: int,
    processes: int,
    seed: int,
    *,
    info_rate: float = 0.02,
    cas_rate: float = 0.05,
    read_rate: float = 0.55,
    violate: bool = False,
    distinct: int | None = None,
) -> History:
    """A history of one register ``x`` (initially ``0``) under ``processes`` clients.

    ``distinct``: writes draw from that many values (as Jepsen's etcd tests
    do, values 0-4), so many writes share a value; default: every write is new.
    """
    rng = random.Random(seed)
    ops: list[_Op] = []
    clocks = [rng.uniform(0.0, 0.01) for _ in range(processes)]
    names = [f"p{i}" for i in range(processes)]
    fresh = processes
    next_value = 1
    for _ in range(n_ops):
        slot = min(range(processes), key=lambda i: clocks[i])
        start = clocks[slot]
        end = start + rng.expovariate(1 / 0.010)
        u = rng.random()
        if u < read_rate:
            f, value = "read", None
        elif u < read_rate + cas_rate:
            if distinct:
                f, value = "cas", [rng.randrange(distinct), rng.randrange(distinct)]
            else:
                f, value = "cas", [rng.randrange(max(1, next_value - 3), next_value + 1),
                                   next_value]
                next_value += 1
        elif distinct:
            f, value = "write", rng.randrange(distinct)
        else:
            f, value = "write", next_value
            next_value += 1
        op = _Op(names[slot], f, value, start, end, rng.uniform(start, end))
        if f != "read" and rng.random() < info_rate:
            op.type = "info"
            # No answer: it takes effect a little later than usual, or never.
            op.point = None if rng.random() < 0.5 else rng.uniform(start, end + 0.05)
            names[slot] = f"p{fresh}"
            fresh += 1
        ops.append(op)
        clocks[slot] = end + rng.expovariate(1 / 0.002)

    state: Any = 0
    for op in sorted((o for o in ops if o.point is not None), key=lambda o: o.point or 0.0):
        if op.f == "read":
            op.value = state
        elif op.f == "write":
            state = op.value
        elif state == op.value[0]:
            state = op.value[1]
        elif op.type == "ok":
            op.type = "fail"
    if violate:
        _make_stale(ops)
    return _events(ops)


def _make_stale(ops: list[_Op]) -> None:
    """Make one read at ~90 % of the history return an overwritten value.

    The read ``r`` gets a value ``v`` such that an acknowledged write ``w`` of
    another value ended before ``r`` began, and every write (or cas) of ``v``
    called before ``r`` ended had been answered before ``w`` began: certainly
    not linearizable, even when many writes share values.
    """
    writers = [o for o in ops if o.f != "read" and o.type != "fail"]
    middle = ops[len(ops) * 9 // 10].start
    for target in sorted(ops, key=lambda o: abs(o.start - middle)):
        if target.f != "read" or target.type != "ok":
            continue
        acked = [o for o in writers if o.f == "write" and o.type == "ok"
                 and o.end < target.start and o.value != target.value]
        last_end: dict[Any, float] = {}  # per value: when its last write was answered
        for o in writers:
            if o.start < target.end:
                v = o.value if o.f == "write" else o.value[1]
                end = o.end if o.type == "ok" else float("inf")
                last_end[v] = max(last_end.get(v, -1.0), end)
        for w in reversed(acked[-5:]):
            for v, end in last_end.items():
                if end < w.start and v != w.value and v != target.value:
                    target.value = v
                    return
    raise RuntimeError("no read to make stale")


def _events(ops: list[_Op]) -> History:
    raw: list[tuple[float, int, Event]] = []
    for o in ops:
        inv = None if o.f == "read" else o.value
        raw.append((o.start, 1, Event(0, o.start, o.process, None, "invoke", o.f, "x", inv)))  # type: ignore[arg-type]
        done = o.value if o.f != "read" or o.type == "ok" else None
        raw.append((o.end, 0, Event(0, o.end, o.process, None, o.type, o.f, "x", done)))  # type: ignore[arg-type]
    raw.sort(key=lambda t: (t[0], t[1]))
    return History(
        Event(i, e.time, e.process, e.node, e.type, e.f, e.key, e.value)
        for i, (_, _, e) in enumerate(raw)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per history (median shown)")
    parser.add_argument("--quick", action="store_true", help="1,000-op histories only")
    args = parser.parse_args()
    sizes = [1_000] if args.quick else [1_000, 10_000]
    print("CPU seconds are this process's own (robust on a busy machine); wall is elapsed.")
    print(
        f"{'ops':>7} {'procs':>5} {'kind':<16} {'verdict':<8} {'info':>5} "
        f"{'cpu s':>7} {'wall s':>7} {'ops/s':>9} {'steps':>8} {'named':>5}"
    )
    for n in sizes:
        for procs in (5, 10):
            for violate in (False, True):
                history = generate(n, procs, seed=n + procs, violate=violate)
                ops = history.operations()
                n_info = sum(1 for o in ops if o.type == "info")
                cpu, wall = [], []
                result = None
                for _ in range(args.repeat):
                    c0, w0 = time.process_time(), time.perf_counter()
                    result = check_linearizable(history, initial={"x": 0})
                    cpu.append(time.process_time() - c0)
                    wall.append(time.perf_counter() - w0)
                assert result is not None
                if result.linearizable is not (not violate):
                    raise SystemExit(f"wrong verdict {result.linearizable!r} for {n}/{procs}")
                c, w = statistics.median(cpu), statistics.median(wall)
                kind = "non-linearizable" if violate else "linearizable"
                print(
                    f"{n:>7} {procs:>5} {kind:<16} {result.linearizable!s:<8} {n_info:>5} "
                    f"{c:>7.3f} {w:>7.3f} {len(ops) / c:>9,.0f} {result.steps:>8} "
                    f"{len(result.ops):>5}"
                )
                if violate and n == sizes[-1] and procs == 5:
                    print(f"        explanation: {result.explanation}")


if __name__ == "__main__":
    main()

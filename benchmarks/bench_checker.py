"""How fast is the linearizability checker? Prints a table; not a test.

Histories come from a true atomic register driven by concurrent clients with
random, overlapping operations (seeded): each operation takes effect at a
random instant between its call and its answer, so the history is
linearizable. Some writes get no answer (``info``): they take effect later,
or never, and their client continues as a fresh process, as in Jepsen. The
non-linearizable variant turns one late read stale (it returns a value that a
later, acknowledged write had already replaced), so the checker must search
almost the whole history before it can say no, then shrink and explain.

Run: ``python benchmarks/bench_checker.py [--repeat 3] [--quick] [--distinct 5]``.
Shapes (issue 21): 2k/10k/50k ops x 5/10/20 processes, linearizable and not
(one corrupted read), without and with ``info`` ops; each timed as the full
call (search + shrink + explanation) and as the search only (``explain=False``).
Target per shape: within 2x of the best of (capsim before issue 21, Porcupine)
from the issue's table, or under 1 s, whichever is larger. The 102 etcd Jepsen
histories of the issue's first row are not in this repository.
"""

from __future__ import annotations

import argparse
import inspect
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


#: The issue's figures (one run on the shared 2-core machine), per shape
#: (ops, processes, non-linearizable): (Porcupine s, capsim before issue 21 s).
#: None: not measured / did not finish. The target for a shape is
#: max(2 x the best of the two, 1 s).
ISSUE_FIGURES: dict[tuple[int, int, bool], tuple[float | None, float | None]] = {
    (2_000, 20, True): (109.6, 3.0),
    (10_000, 5, True): (0.116, 52.3),
    (10_000, 10, True): (2.14, 51.7),
    (50_000, 5, True): (1.9, None),
    (50_000, 10, True): (66.9, None),
    (50_000, 20, False): (None, 1.56),
}


def _target(n: int, procs: int, violate: bool) -> float:
    figures = [f for f in ISSUE_FIGURES.get((n, procs, violate), (None, None)) if f is not None]
    return max(2 * min(figures), 1.0) if figures else 1.0


def _timed(history: History, repeat: int, **kw: Any) -> tuple[float, float, Any]:
    cpu, wall = [], []
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = check_linearizable(history, initial={"x": 0}, **kw)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per history (median shown)")
    parser.add_argument("--quick", action="store_true", help="2,000-op histories only")
    parser.add_argument("--sizes", type=int, nargs="*", help="op counts (default 2k 10k 50k)")
    parser.add_argument("--procs", type=int, nargs="*", help="process counts (default 5 10 20)")
    parser.add_argument("--distinct", type=int, default=None,
                        help="writes draw from this many values (default: every write new)")
    args = parser.parse_args()
    sizes = args.sizes or ([2_000] if args.quick else [2_000, 10_000, 50_000])
    procs_list = args.procs or [5, 10, 20]
    has_explain = "explain" in inspect.signature(check_linearizable).parameters
    print("Machine: shared; CPU seconds are this process's own, wall is elapsed.")
    print("full = search + shrink + explanation; search = explain=False (verdict only).")
    print("target = max(2 x best of (Porcupine, capsim before) from issue 21, 1 s).")
    print(
        f"{'ops':>6} {'procs':>5} {'info':>5} {'kind':<8} {'verdict':<7} "
        f"{'full cpu':>8} {'full wall':>9} {'search':>7} {'full/srch':>9} {'target':>7} "
        f"{'named':>5} {'minimal':>7}"
    )
    misses = 0
    for n in sizes:
        for procs in procs_list:
            for info_rate in (0.0, 0.02):
                for violate in (False, True):
                    history = generate(n, procs, seed=n + procs, violate=violate,
                                       info_rate=info_rate, distinct=args.distinct)
                    ops = history.operations()
                    n_info = sum(1 for o in ops if o.type == "info")
                    c, w, result = _timed(history, args.repeat)
                    if has_explain:
                        sc, _sw, quick = _timed(history, args.repeat, explain=False)
                        if quick.linearizable != result.linearizable:
                            raise SystemExit(f"explain=False changed the verdict at {n}/{procs}")
                        search = f"{sc:>7.3f}"
                        ratio = f"{c / sc:>9.2f}" if sc > 0 else f"{'-':>9}"
                    else:
                        search, ratio = f"{'-':>7}", f"{'-':>9}"
                    if result.linearizable is not (not violate):
                        raise SystemExit(
                            f"wrong verdict {result.linearizable!r} for {n}/{procs}")
                    target = _target(n, procs, violate)
                    misses += c > target
                    kind = "broken" if violate else "fine"
                    minimal = getattr(result.keys[0], "minimal", None)
                    print(
                        f"{n:>6} {procs:>5} {n_info:>5} {kind:<8} "
                        f"{result.linearizable!s:<7} {c:>8.3f} {w:>9.3f} {search} {ratio} "
                        f"{target:>7.2f} {len(result.ops):>5} {minimal!s:>7}"
                        f"{'  MISS' if c > target else ''}",
                        flush=True,
                    )
    print(f"shapes over target: {misses}")


if __name__ == "__main__":
    main()

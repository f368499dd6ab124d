"""How fast is the linearizability checker? Prints a table; not a test.

Histories come from a true atomic register driven by concurrent clients with
random, overlapping operations (seeded): each operation takes effect at a
random instant between its call and its answer, so the history is
linearizable. Some writes get no answer (``info``): they take effect later,
or never, and their client continues as a fresh process, as in Jepsen. The
non-linearizable variant turns one late read stale (it returns a value that a
later, acknowledged write had already replaced), so the checker must search
almost the whole history before it can say no, then shrink and explain.

Run: ``python benchmarks/bench_checker.py [--repeat 3] [--quick] [--distinct 5]
[--porcupine] [--etcd DIR] [--before REF]``.
Shapes (issue 21): 2k/10k/50k ops x 5/10/20 processes, linearizable and not
(one corrupted read), without and with ``info`` ops; each timed as the full
call (search + shrink + explanation) and as the search only (``explain=False``).

``--porcupine`` builds the Go program in ``benchmarks/porcupine/`` against a
local Porcupine source (``--porcupine-src``, or ``$CAPSIM_PORCUPINE_SRC``: a
source tree or a git directory of github.com/anishathalye/porcupine) into a
temporary directory, writes every generated history as Jepsen log lines, and
prints Porcupine's time for the same history beside capsim's (the check only;
``--porcupine-timeout`` per history). Without ``go`` it says "not measured".
``--etcd DIR`` adds the corpus row: every ``etcd_*.log`` of DIR (Porcupine's
Jepsen etcd logs; a copy is in ``tests/data/jepsen-etcd``), in total and
etcd_099 alone, as capsim full / search only / Porcupine. ``--before REF``
also times the checker of git revision REF, loaded beside the current one.

Target per shape: within 2x of the best of (capsim before issue 21 from the
issue's table, Porcupine measured in this run, else the issue's figure), or
under 1 s, whichever is larger. The corpus target: capsim's full call at most
1x Porcupine's time measured in this run.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capsim.check.linearizable import check_linearizable
from capsim.formats.txt import parse_txt
from capsim.history import Event, History

ROOT = Path(__file__).resolve().parent.parent
PORCUPINE_SRC = "/work/.mirror/anishathalye+porcupine/repo"
Checker = Callable[..., Any]


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
        value: Any
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


def _target(n: int, procs: int, violate: bool, porcupine: float | None) -> float:
    """max(2 x the best of (capsim before issue 21, Porcupine), 1 s) for one shape.

    Porcupine's time measured in this run wins over the issue's figure for it.
    """
    pc, before = ISSUE_FIGURES.get((n, procs, violate), (None, None))
    if porcupine is not None:
        pc = porcupine
    figures = [f for f in (pc, before) if f is not None]
    return max(2 * min(figures), 1.0) if figures else 1.0


def _timed(
    check: Checker, history: History, repeat: int, initial: dict[str, Any], **kw: Any
) -> tuple[float, float, Any]:
    """Median CPU and wall seconds of ``check(history)`` over ``repeat`` runs, and its result."""
    cpu, wall = [], []
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = check(history, initial=initial, **kw)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), result


def _edn(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_edn(x) for x in v) + "]"
    return str(v)


def write_jepsen_log(history: History, path: Path) -> None:
    """Write ``history`` as Jepsen log lines, which capsim and the Porcupine harness both read.

    Processes become integers (their digits); an ``info`` answer is written as
    ``:timed-out``, as Jepsen does.
    """
    lines = []
    for e in history:
        proc = int("".join(ch for ch in str(e.process) if ch.isdigit()))
        if e.type == "info":
            value = ":timed-out"
        elif e.type == "invoke" and e.f == "read":
            value = "nil"
        else:
            value = _edn(e.value)
        lines.append(f"INFO  jepsen.util - {proc}\t:{e.type}\t:{e.f}\t{value}\n")
    path.write_text("".join(lines))


# --------------------------------------------------------------------------
# Porcupine and the checker of another revision
# --------------------------------------------------------------------------


class Porcupine:
    """Porcupine, built from ``benchmarks/porcupine`` against a local source tree."""

    def __init__(self, src: str, timeout: float, mem_gb: float, workdir: Path) -> None:
        self.timeout = timeout
        self.mem_gb = mem_gb
        self.binary: Path | None = None
        self.why = ""
        go = shutil.which("go")
        if go is None:
            self.why = "not measured: no go"
            return
        tree = Path(src)
        if not (tree / "go.mod").exists():
            # A git directory (a mirror): export its HEAD, which has no dependencies.
            tree = workdir / "porcupine-src"
            tree.mkdir()
            archive = subprocess.run(["git", "--git-dir", src, "archive", "HEAD"],
                                     capture_output=True, check=False)
            if archive.returncode != 0:
                self.why = f"not measured: no Porcupine source at {src}"
                return
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        build = workdir / "porcupine-bench"
        build.mkdir()
        shutil.copy(ROOT / "benchmarks" / "porcupine" / "main.go", build / "main.go")
        (build / "go.mod").write_text(
            "module capsim.bench/porcupine\n\ngo 1.19\n\n"
            "require github.com/anishathalye/porcupine v0.0.0\n\n"
            f"replace github.com/anishathalye/porcupine => {tree.resolve()}\n"
        )
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off",
               "GOCACHE": str(workdir / "gocache")}
        done = subprocess.run([go, "build", "-o", "porcupine-bench", "."], cwd=build, env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            self.why = "not measured: go build failed: " + done.stderr.strip()[-300:]
            return
        self.binary = build / "porcupine-bench"

    def check(self, files: list[Path], init: str = "nil", repeat: int = 1) -> list[dict[str, Any]]:
        """Porcupine's verdict and check time per file ("oom"/"killed" when it could not finish)."""
        assert self.binary is not None
        limit = int(self.mem_gb * 2**30)

        def cap_memory() -> None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        cmd = [str(self.binary), "-init", init, "-timeout", str(self.timeout),
               "-repeat", str(repeat), *map(str, files)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  preexec_fn=cap_memory,
                                  timeout=(self.timeout + 30) * len(files) * repeat + 30)
        except subprocess.TimeoutExpired:
            return [{"file": str(f), "result": "killed", "seconds": None} for f in files]
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or len(rows) < len(files):
            why = "oom" if "out of memory" in done.stderr else "crashed"
            rows += [{"file": str(f), "result": why, "seconds": None} for f in files[len(rows):]]
        return rows


def load_before(ref: str) -> Checker:
    """``check_linearizable`` as of git revision ``ref``, loaded beside the current one."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:capsim/check/linearizable.py"],
                            capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "linearizable_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("capsim.check._linearizable_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    check: Checker = module.check_linearizable
    return check


def _porc_cell(row: dict[str, Any] | None) -> tuple[str, float | None]:
    if row is None:
        return f"{'-':>8}", None
    if row.get("seconds") is None or row["result"] == "unknown":
        return f"{row['result']:>8}", None
    return f"{row['seconds']:>8.3f}", float(row["seconds"])


# --------------------------------------------------------------------------
# The etcd corpus
# --------------------------------------------------------------------------


def etcd_corpus(directory: Path, repeat: int, porcupine: Porcupine | None,
                before: Checker | None) -> None:
    """The corpus row: all etcd logs in total, and etcd_099 alone."""
    files = sorted(directory.glob("etcd_*.log"))
    if not files:
        raise SystemExit(f"no etcd_*.log in {directory}")
    t0 = time.perf_counter()
    histories = {f: parse_txt(f.read_text(), str(f)) for f in files}
    parse = time.perf_counter() - t0
    print(f"\netcd corpus: {len(files)} Jepsen logs from {directory} (parse {parse:.3f} s)")

    def run(check: Checker, subset: list[Path], **kw: Any) -> tuple[float, dict[Path, Any]]:
        """Median over ``repeat`` of the total wall seconds, and each verdict."""
        totals, verdicts = [], {}
        for _ in range(repeat):
            total = 0.0
            for f in subset:
                w0 = time.perf_counter()
                verdicts[f] = check(histories[f], **kw).linearizable
                total += time.perf_counter() - w0
            totals.append(total)
        return statistics.median(totals), verdicts

    broken_total: int | None = None
    rows: list[tuple[str, list[Path]]] = [("all", files)]
    rows += [("etcd_099", [f]) for f in files if f.name == "etcd_099.log"]
    print(f"{'histories':<10} {'full':>8} {'search':>8} {'before':>8} {'porcupine':>9} "
          f"{'full/porc':>9} {'target':>7}")
    for name, subset in rows:
        full, verdicts = run(check_linearizable, subset)
        if broken_total is None:
            broken_total = sum(1 for v in verdicts.values() if v is False)
        search, quick = run(check_linearizable, subset, explain=False)
        if quick != verdicts:
            raise SystemExit("explain=False changed a verdict on the etcd corpus")
        old = f"{run(before, subset)[0]:>8.3f}" if before else f"{'-':>8}"
        porc, ratio, mark = None, f"{'-':>9}", ""
        if porcupine is not None and porcupine.binary is not None:
            results = porcupine.check(subset, "nil", repeat)
            if all(r.get("seconds") is not None for r in results):
                porc = sum(float(r["seconds"]) for r in results)
                ratio = f"{full / porc:>9.2f}"
                if name == "all":  # the issue's target is for the whole corpus
                    mark = "" if full <= porc else "  MISS"
            differ = [f.name for f, r in zip(subset, results, strict=True)
                      if r["result"] in ("ok", "illegal")
                      and (r["result"] == "ok") is not (verdicts[f] is True)]
            if differ:
                print(f"  capsim and Porcupine disagree on: {', '.join(differ)}")
        pcell = f"{porc:>9.3f}" if porc is not None else f"{'-':>9}"
        target = "1x porc" if name == "all" else "-"
        print(f"{name:<10} {full:>8.3f} {search:>8.3f} {old} {pcell} {ratio} "
              f"{target:>7}{mark}", flush=True)
    print(f"capsim: {broken_total} of {len(files)} not linearizable "
          f"(wall seconds, check only; medians of {repeat})")


# --------------------------------------------------------------------------
# Generated shapes
# --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per history (median shown)")
    parser.add_argument("--quick", action="store_true", help="2,000-op histories only")
    parser.add_argument("--sizes", type=int, nargs="*", help="op counts (default 2k 10k 50k)")
    parser.add_argument("--procs", type=int, nargs="*", help="process counts (default 5 10 20)")
    parser.add_argument("--distinct", type=int, default=None,
                        help="writes draw from this many values (default: every write new)")
    parser.add_argument("--porcupine", action="store_true",
                        help="time Porcupine (Go) on the same histories, in the same run")
    parser.add_argument("--porcupine-src",
                        default=os.environ.get("CAPSIM_PORCUPINE_SRC", PORCUPINE_SRC),
                        help="Porcupine source tree or git dir (env CAPSIM_PORCUPINE_SRC)")
    parser.add_argument("--porcupine-timeout", type=float, default=60.0,
                        help="seconds Porcupine may take per history")
    parser.add_argument("--porcupine-mem-gb", type=float, default=8.0,
                        help="address-space limit of the Porcupine process (GiB)")
    parser.add_argument("--etcd", type=Path, default=None,
                        help="directory of Jepsen etcd logs: print the corpus row")
    parser.add_argument("--no-shapes", action="store_true",
                        help="only the etcd corpus row (with --etcd)")
    parser.add_argument("--before", default=None,
                        help="also time capsim/check/linearizable.py of this git revision")
    parser.add_argument("--before-budget", type=float, default=60.0,
                        help="seconds the --before checker may take per history")
    args = parser.parse_args()
    sizes = args.sizes or ([2_000] if args.quick else [2_000, 10_000, 50_000])
    procs_list = args.procs or [5, 10, 20]
    has_explain = "explain" in inspect.signature(check_linearizable).parameters
    workdir = Path(tempfile.mkdtemp(prefix="bench-checker-"))
    porcupine = None
    if args.porcupine:
        porcupine = Porcupine(args.porcupine_src, args.porcupine_timeout,
                              args.porcupine_mem_gb, workdir)
        print(f"Porcupine: {porcupine.why or 'built from ' + args.porcupine_src}")
    before = load_before(args.before) if args.before else None
    print("Machine: shared; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.etcd is not None:
        etcd_corpus(args.etcd, args.repeat, porcupine, before)
    if args.no_shapes:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    print("\nfull = search + shrink + explanation; search = explain=False (verdict only);")
    print("CPU seconds of this process; porc = Porcupine's check, wall seconds;")
    print("target = max(2 x best of (Porcupine, capsim before issue 21), 1 s).")
    print(
        f"{'ops':>6} {'procs':>5} {'info':>5} {'kind':<6} {'verdict':<7} "
        f"{'full':>7} {'wall':>7} {'search':>7} {'before':>7} {'porc':>8} {'target':>7} "
        f"{'named':>5} {'minimal':>7}"
    )
    misses = 0
    initial = {"x": 0}
    for n in sizes:
        for procs in procs_list:
            for info_rate in (0.0, 0.02):
                for violate in (False, True):
                    history = generate(n, procs, seed=n + procs, violate=violate,
                                       info_rate=info_rate, distinct=args.distinct)
                    ops = history.operations()
                    n_info = sum(1 for o in ops if o.type == "info")
                    c, w, result = _timed(check_linearizable, history, args.repeat, initial)
                    if has_explain:
                        sc, _sw, quick = _timed(check_linearizable, history, args.repeat,
                                                initial, explain=False)
                        if quick.linearizable != result.linearizable:
                            raise SystemExit(f"explain=False changed the verdict at {n}/{procs}")
                        search = f"{sc:>7.3f}"
                    else:
                        search = f"{'-':>7}"
                    if result.linearizable is not (not violate):
                        raise SystemExit(
                            f"wrong verdict {result.linearizable!r} for {n}/{procs}")
                    old = f"{'-':>7}"
                    if before is not None:
                        bc, _bw, bres = _timed(before, history, args.repeat, initial,
                                               budget_seconds=args.before_budget)
                        old = (f"{bc:>7.3f}" if bres.linearizable != "unknown"
                               else f"{'>' + format(args.before_budget, 'g'):>7}")
                    prow = None
                    if porcupine is not None and porcupine.binary is not None:
                        log = workdir / f"h-{n}-{procs}-{info_rate}-{violate}.log"
                        write_jepsen_log(history, log)
                        prow = porcupine.check([log], "0", args.repeat)[0]
                        log.unlink()
                        if prow["result"] in ("ok", "illegal") and (
                            (prow["result"] == "ok") is not (result.linearizable is True)
                        ):
                            print(f"  Porcupine says {prow['result']} at {n}/{procs}")
                    pcell, porc = _porc_cell(prow)
                    target = _target(n, procs, violate, porc)
                    misses += c > target
                    kind = "broken" if violate else "fine"
                    minimal = getattr(result.keys[0], "minimal", None)
                    print(
                        f"{n:>6} {procs:>5} {n_info:>5} {kind:<6} "
                        f"{result.linearizable!s:<7} {c:>7.3f} {w:>7.3f} {search} {old} {pcell} "
                        f"{target:>7.2f} {len(result.ops):>5} {minimal!s:>7}"
                        f"{'  MISS' if c > target else ''}",
                        flush=True,
                    )
    if porcupine is not None and porcupine.binary is None:
        print(f"Porcupine {porcupine.why}")
    print(f"shapes over target: {misses}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Running a sweep: executors (in-process, local processes, Dask) and the journal.

Every executor runs the same :func:`run_chunk` on the same tasks; a run's
result depends only on its scenario, policy and seed, so the rows are the
same whichever executor and worker count ran them. Runs travel in chunks
sized from the measured run time (about a quarter of a second of work each),
so the cost of sending a task is spread over many short runs, while the
progress bar and Ctrl-C stay responsive when runs are long.

Finished rows are appended to ``runs.jsonl`` in the output folder as each
chunk completes: an interrupted sweep keeps them, and ``--resume`` skips
every run whose fingerprint is already there. The tables are written only at
the end, each atomically.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim.errors import CapsimError, OutputExistsError
from capsim.sweep.files import JOURNAL, META, OWN_FILES, RESULTS_CSV

if TYPE_CHECKING:
    from concurrent.futures import Future

    from capsim.scenario import Scenario
    from capsim.sweep.spec import Sweep

_OWN_FILES = OWN_FILES

_MAX_CHUNK = 64


@dataclass(frozen=True)
class Task:
    """What a worker needs for one run (the scenario is shared by the runs of a point)."""

    index: int
    scenario: Scenario
    policy: str
    seed: int


@dataclass(frozen=True)
class Outcome:
    """One finished run: its metrics, and how long it took inside the worker."""

    index: int
    metrics: dict[str, Any]
    seconds: float


def run_task(task: Task) -> Outcome:
    """Simulate one run and flatten its checks into metrics."""
    from capsim.sim import simulate

    t0 = time.perf_counter()
    result = simulate(task.scenario, policy=task.policy, seed=task.seed, record_messages=False)
    metrics = result.metrics()
    return Outcome(task.index, metrics, time.perf_counter() - t0)


def run_chunk(tasks: Sequence[Task]) -> list[Outcome]:
    """The unit of work every executor ships: several runs, one round trip."""
    return [run_task(t) for t in tasks]


def _capsim_version() -> str:
    from capsim._version import __version__

    return __version__


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what to
    # do, so a worker finishes its chunk instead of printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _noop() -> int:
    return os.getpid()


# --- executors ---------------------------------------------------------------

OnChunk = Callable[[list[Outcome]], None]


class Executor:
    """Runs tasks and hands each finished chunk to ``on_chunk`` (in the calling thread)."""

    description = "in-process"
    slots = 1

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers or connections; safe to call twice."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """``--workers 1``: runs in this process, one at a time (no pickling, easy to debug)."""

    description = "1 worker (in-process)"

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk) -> None:
        for t in tasks:
            on_chunk([run_task(t)])


class _FuturesExecutor(Executor):
    """Shared driving loop: keep every slot busy, size chunks from measured run times."""

    target_seconds = 0.25

    def _submit(self, chunk: list[Task]) -> Any:
        raise NotImplementedError

    def _wait(self, pending: set[Any]) -> set[Any]:
        raise NotImplementedError

    def _abort(self, pending: set[Any], on_chunk: OnChunk) -> None:
        raise NotImplementedError

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk) -> None:
        queue = deque(tasks)
        pending: set[Any] = set()
        spent = 0.0
        done = 0

        def chunk_size() -> int:
            if done == 0:
                return 1
            mean = max(spent / done, 1e-6)
            size = min(self.target_seconds / mean, math.ceil(len(queue) / (2 * self.slots)))
            return max(1, min(int(size), _MAX_CHUNK))

        def fill() -> None:
            while queue and len(pending) < 2 * self.slots:
                n = chunk_size()
                pending.add(self._submit([queue.popleft() for _ in range(min(n, len(queue)))]))

        try:
            fill()
            while pending:
                for fut in self._wait(pending):
                    pending.discard(fut)
                    outs: list[Outcome] = fut.result()
                    spent += sum(o.seconds for o in outs)
                    done += len(outs)
                    on_chunk(outs)
                fill()
        except BaseException:
            self._abort(pending, on_chunk)
            raise


class ProcessExecutor(_FuturesExecutor):
    """Local worker processes (``concurrent.futures.ProcessPoolExecutor``)."""

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.slots = workers
        self.description = f"{workers} local worker processes"
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=_mp_context(), initializer=_ignore_sigint
        )
        # Start every worker now, before the caller starts a progress thread,
        # and so that a broken environment fails before the first run.
        for f in [self._pool.submit(_noop) for _ in range(workers)]:
            f.result()

    def _submit(self, chunk: list[Task]) -> Future[list[Outcome]]:
        return self._pool.submit(run_chunk, chunk)

    def _wait(self, pending: set[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        return set(done)

    def _abort(self, pending: set[Any], on_chunk: OnChunk) -> None:
        # Drop what has not started; keep what the workers are finishing
        # (a chunk is about a quarter of a second), so those rows survive.
        running = [f for f in pending if not f.cancel()]
        with contextlib.suppress(BaseException):
            for f in running:
                if f.exception() is None:
                    on_chunk(f.result())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _mp_context() -> Any:
    """How to start workers: fork where it is safe and cheap, else forkserver or spawn.

    fork copies the already-imported parent, so workers start in
    milliseconds. From Python 3.12 forking a process that has threads
    (numpy's BLAS starts some) is deprecated, so there a fork server with
    capsim preloaded gives nearly the same start-up without the risk.
    """
    methods = mp.get_all_start_methods()
    if sys.platform.startswith("linux") and sys.version_info < (3, 12) and "fork" in methods:
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["capsim.sweep.run", "capsim.sim"])
        return ctx
    return mp.get_context("spawn")


class DaskExecutor(_FuturesExecutor):
    """An existing Dask distributed cluster (``--scheduler tcp://host:8786``).

    Its workers need the same capsim installed (checked on connect), since
    they import :func:`run_chunk` by name.
    """

    target_seconds = 0.5

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise CapsimError(
                "--scheduler needs dask.distributed: pip install -e '.[dask]'"
            ) from None
        try:
            self._client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CapsimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            try:
                self._client.wait_for_workers(1, timeout=timeout)
            except (TimeoutError, OSError):
                raise CapsimError(f"the Dask cluster at {address} has no workers") from None
            try:
                versions = self._client.run(_capsim_version)
            except Exception as exc:
                raise CapsimError(
                    f"the workers of {address} cannot run capsim ({exc}); install capsim "
                    "there too"
                ) from None
            mine = _capsim_version()
            other = sorted({v for v in versions.values() if v != mine})
            if other:
                raise CapsimError(
                    f"the workers of {address} run capsim {', '.join(other)}, this is "
                    f"{mine}; results would differ, install the same version there"
                )
            self.slots = max(1, sum(self._client.nthreads().values()))
        except BaseException:
            self._client.close()
            raise
        self.description = f"Dask at {address} ({self.slots} worker threads)"
        from distributed import as_completed

        self._completed = as_completed(loop=self._client.loop)

    def _submit(self, chunk: list[Task]) -> Any:
        fut = self._client.submit(run_chunk, chunk, pure=False)
        self._completed.add(fut)
        return fut

    def _wait(self, pending: set[Any]) -> set[Any]:
        # as_completed follows the futures' own client (distributed.wait would
        # look for a default client, which we do not install).
        done = {next(self._completed)}
        done.update(self._completed.next_batch(block=False))
        return done

    def _abort(self, pending: set[Any], on_chunk: OnChunk) -> None:
        # Keep chunks that already came back; cancel the rest on the cluster.
        with contextlib.suppress(BaseException):
            self._client.cancel([f for f in pending if not f.done()])
            for f in pending:
                if f.status == "finished":
                    on_chunk(f.result())

    def close(self) -> None:
        if self._client.status != "closed":
            self._client.close()


def check_options(workers: int | None, scheduler: str | None) -> None:
    """Reject contradictory executor options before anything is started or written."""
    if scheduler is not None and workers is not None:
        raise CapsimError("--workers is for local processes; with --scheduler the "
                          "cluster decides (leave --workers out)")
    if workers is not None and workers < 1:
        raise CapsimError(f"--workers must be at least 1 (got {workers})")


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  runs: int | None = None) -> Executor:
    """The executor the CLI options ask for: Dask, local processes, or in-process."""
    check_options(workers, scheduler)
    if scheduler is not None:
        return DaskExecutor(scheduler)
    n = workers if workers is not None else (os.cpu_count() or 1)
    if runs is not None:
        n = max(1, min(n, runs))
    return SerialExecutor() if n == 1 else ProcessExecutor(n)


# --- a whole sweep -------------------------------------------------------------


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished rows are in the journal."""

    def __init__(self, done: int, total: int, journal: Path) -> None:
        self.done = done
        self.total = total
        self.journal = journal
        super().__init__(f"{done} of {total} runs finished")


@dataclass
class SweepResult:
    """What ``run_sweep`` wrote and how it went."""

    out: Path
    columns: list[str]
    rows: list[dict[str, Any]]
    ran: int
    reused: int
    seconds: float
    run_seconds: float
    files: list[Path] = field(default_factory=list)
    executor: str = ""


def _read_journal(path: Path) -> dict[str, dict[str, Any]]:
    """Finished runs by fingerprint; a line cut short by a crash is skipped."""
    out: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
            out[str(rec["id"])] = rec
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return out


def prepare_output(out: Path, *, force: bool, resume: bool) -> dict[str, dict[str, Any]]:
    """Check the output folder and return the finished runs ``--resume`` may reuse.

    A folder that holds a sweep is left alone unless ``--resume`` (continue
    it) or ``--force`` (start over) says otherwise; any other non-empty
    folder needs ``--force``, and even then only capsim's own files in it
    are removed (by :func:`_clear_output`, once the workers are up). Nothing
    is changed here.
    """
    if force and resume:
        raise CapsimError("--force starts over and --resume continues; pass one of them")
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} is a file; --out needs a folder")
    journal = out / JOURNAL
    entries = [p for p in out.iterdir() if not p.name.startswith(".")] if out.is_dir() else []
    if entries and not force:
        if not journal.is_file():
            hint = "--force to start over" if (out / RESULTS_CSV).exists() else (
                "--force to write into it anyway")
            raise OutputExistsError(f"{out} already exists and is not empty; pass {hint}")
        if not resume:
            n = len(_read_journal(journal))
            raise OutputExistsError(
                f"{out} already holds a sweep ({n} finished runs); pass --resume to continue "
                "it (finished runs are kept) or --force to start over"
            )
    return _read_journal(journal) if resume else {}


def _clear_output(out: Path, *, force: bool) -> None:
    if force and out.is_dir():
        for name in (*_plot_files(out), *_OWN_FILES):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _plot_files(out: Path) -> list[str]:
    try:
        meta = json.loads((out / META).read_text(encoding="utf-8"))
        return [str(p) for p in meta.get("plots", []) if "/" not in str(p)]
    except (OSError, ValueError, AttributeError):
        return []


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    resume: bool = False,
    plots: bool = True,
    on_start: Callable[[int, int, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every run not already finished, then write the tables (and plots).

    ``on_start(total, done, executor)`` is called once the workers are up;
    ``on_progress(done, total)`` after every finished chunk. Ctrl-C raises
    :class:`SweepInterrupted` after the finished rows are safely journaled.
    """
    from capsim.sweep.results import write_outputs

    t0 = time.perf_counter()
    out = Path(out)
    check_options(workers, scheduler)
    finished = prepare_output(out, force=force, resume=resume)
    by_id = {r.run_id: r for r in sweep.runs}
    metrics: dict[int, dict[str, Any]] = {}
    run_seconds = 0.0
    for rid, rec in finished.items():
        run = by_id.get(rid)
        if run is not None:
            metrics[run.index] = rec["metrics"]
    reused = len(metrics)
    todo = [Task(r.index, r.point.scenario, r.policy, r.seed)
            for r in sweep.runs if r.index not in metrics]
    total = len(sweep.runs)
    journal_path = out / JOURNAL
    description = "nothing to run"

    if todo:
        executor = make_executor(workers, scheduler, runs=len(todo))
        description = executor.description
        try:
            _clear_output(out, force=force)
            journal = open(journal_path, "a", encoding="utf-8")  # noqa: SIM115
        except BaseException:
            executor.close()
            raise
        with executor, journal:
            if on_start is not None:
                on_start(total, len(metrics), executor.description)

            def on_chunk(outs: list[Outcome]) -> None:
                nonlocal run_seconds
                lines = []
                for o in outs:
                    run = sweep.runs[o.index]
                    lines.append(json.dumps(
                        {"id": run.run_id, "run": o.index, "metrics": o.metrics},
                        separators=(",", ":"), allow_nan=True,
                    ) + "\n")
                    metrics[o.index] = o.metrics
                    run_seconds += o.seconds
                journal.write("".join(lines))
                journal.flush()
                if on_progress is not None:
                    on_progress(len(metrics), total)

            try:
                executor.run(todo, on_chunk)
            except KeyboardInterrupt:
                journal.flush()
                raise SweepInterrupted(len(metrics), total, journal_path) from None
    else:
        _clear_output(out, force=force)
        if on_start is not None:
            on_start(total, len(metrics), description)

    columns, rows, files = write_outputs(sweep, out, metrics, plots=plots)
    return SweepResult(
        out=out, columns=columns, rows=rows, ran=total - reused, reused=reused,
        seconds=time.perf_counter() - t0, run_seconds=run_seconds, files=files,
        executor=description,
    )

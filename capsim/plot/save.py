"""Writing a run's pictures into its folder, each file atomically."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim.plot import style

if TYPE_CHECKING:
    from capsim.result import RunResult


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validate and deduplicate formats, keeping their order."""
    out: list[str] = []
    for f in formats:
        f = f.strip().lower().lstrip(".")
        if f not in style.FORMATS:
            raise ValueError(f"plot format {f!r} is not one of {', '.join(style.FORMATS)}")
        if f not in out:
            out.append(f)
    return tuple(out)


def figure_bytes(fig: Any, fmt: str) -> bytes:
    """Render ``fig`` as ``fmt``; no timestamps, so the same run gives the same file."""
    buf = io.BytesIO()
    meta: dict[str, Any] = {}
    if fmt == "svg":
        meta = {"Date": None}
    elif fmt == "pdf":
        meta = {"CreationDate": None, "ModDate": None}
    import matplotlib

    # Save-time settings are read when saving, not when drawing: set them here.
    with matplotlib.rc_context({"svg.hashsalt": "capsim", "svg.fonttype": "path",
                                "pdf.fonttype": 42}):
        fig.savefig(buf, format=fmt, dpi=style.DPI, metadata=meta, facecolor="white")
    return buf.getvalue()


def planned_files(results: Sequence[RunResult], folder: str | Path,
                  formats: Sequence[str] = ("png",), messages: bool = False) -> list[Path]:
    """The files :func:`save_run_plots` would write, without drawing anything."""
    d = Path(folder)
    fmts = check_formats(formats)
    names = ["timeline"] + (["messages"] if messages else [])
    out: list[Path] = []
    if len(results) == 1:
        out += [d / f"{n}.{f}" for n in names for f in fmts]
    else:
        for r in results:
            out += [d / r.policy / f"{n}.{f}" for n in names for f in fmts]
        out += [d / f"compare.{f}" for f in fmts]
    return out


#: Runs with more history events than this are drawn in this process, one
#: picture at a time: a forked worker would copy the run's memory, and the
#: issue's memory target for big runs matters more than a second core.
PARALLEL_MAX_EVENTS = 20_000

# What forked drawing workers read: set just before the pool forks, so the
# results travel by copy-on-write memory instead of being pickled.
_SHARED: tuple[list[RunResult], tuple[str, ...], str] | None = None


def _draw(job: tuple[str, int], results: Sequence[RunResult], lang: str) -> Any:
    from capsim.plot.compare import compare
    from capsim.plot.messages import messages as draw_messages
    from capsim.plot.timeline import timeline

    kind, i = job
    if kind == "compare":
        return compare(results, lang=lang)
    if kind == "messages":
        return draw_messages(results[i], lang=lang)
    return timeline(results[i], lang=lang)


def _render(job: tuple[str, int]) -> list[bytes]:
    """Draw one picture in every format (runs in a worker, or in this process)."""
    assert _SHARED is not None
    results, fmts, lang = _SHARED
    fig = _draw(job, results, lang)
    return [figure_bytes(fig, f) for f in fmts]


def drawing_workers(results: Sequence[RunResult], jobs: int) -> int:
    """How many processes draw a run's pictures: 1 unless forking is cheap and safe.

    A classroom run's pictures cost about a third of a second each, most of
    ``capsim run``'s time; on a multi-core Linux machine they are drawn side
    by side in forked workers (which inherit matplotlib already imported).
    Not where fork is unsafe or unavailable (macOS, Windows), not from a
    process with other threads (a notebook kernel, a server), and not for big
    runs (see :data:`PARALLEL_MAX_EVENTS`).
    """
    import os
    import sys
    import threading

    if jobs < 2 or sys.platform != "linux" or threading.active_count() > 1:
        return 1
    if sum(len(r.history) for r in results) > PARALLEL_MAX_EVENTS:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(jobs, cpus, 4))


def save_run_plots(
    results: Sequence[RunResult],
    folder: str | Path,
    formats: Sequence[str] = ("png",),
    messages: bool = False,
    lang: str = "en",
    workers: int | None = None,
) -> list[Path]:
    """Draw a run's pictures into ``folder`` laid out like its run folder.

    One result: ``timeline.<fmt>`` (and ``messages.<fmt>``) in ``folder``.
    Several: the same per policy in ``folder/<policy>/``, plus
    ``compare.<fmt>`` in ``folder``. Returns the paths written.
    ``workers``: processes drawing side by side (default: see
    :func:`drawing_workers`); the files are the same bytes either way.
    """
    global _SHARED
    from capsim.atomic import write_bytes

    results = list(results)
    if not results:
        raise ValueError("save_run_plots() needs at least one result")
    fmts = check_formats(formats)
    style.resolve_lang(lang)  # warn once, up front, not once per figure (or worker)
    d = Path(folder)
    several = len(results) > 1
    jobs: list[tuple[str, int]] = []
    bases: list[Path] = []
    for i, r in enumerate(results):
        sub = d / r.policy if several else d
        jobs.append(("timeline", i))
        bases.append(sub / "timeline")
        if messages:
            jobs.append(("messages", i))
            bases.append(sub / "messages")
    if several:
        jobs.append(("compare", -1))
        bases.append(d / "compare")
    n = drawing_workers(results, len(jobs)) if workers is None else max(1, workers)
    _SHARED = (results, fmts, lang)
    try:
        if n > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as ex:
                rendered = list(ex.map(_render, jobs))
        else:
            rendered = [_render(job) for job in jobs]
    finally:
        _SHARED = None
    written: list[Path] = []
    for base, files in zip(bases, rendered, strict=True):
        for f, data in zip(fmts, files, strict=True):
            p = base.with_name(f"{base.name}.{f}")
            write_bytes(p, data)
            written.append(p)
    return written

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


def save_run_plots(
    results: Sequence[RunResult],
    folder: str | Path,
    formats: Sequence[str] = ("png",),
    messages: bool = False,
    lang: str = "en",
) -> list[Path]:
    """Draw a run's pictures into ``folder`` laid out like its run folder.

    One result: ``timeline.<fmt>`` (and ``messages.<fmt>``) in ``folder``.
    Several: the same per policy in ``folder/<policy>/``, plus
    ``compare.<fmt>`` in ``folder``. Returns the paths written.
    """
    from capsim.atomic import write_bytes
    from capsim.plot.compare import compare
    from capsim.plot.messages import messages as draw_messages
    from capsim.plot.timeline import timeline

    results = list(results)
    if not results:
        raise ValueError("save_run_plots() needs at least one result")
    fmts = check_formats(formats)
    style.resolve_lang(lang)  # warn once, up front, not once per figure
    d = Path(folder)
    written: list[Path] = []

    def save(fig: Any, base: Path) -> None:
        for f in fmts:
            p = base.with_name(f"{base.name}.{f}")
            write_bytes(p, figure_bytes(fig, f))
            written.append(p)

    several = len(results) > 1
    for r in results:
        sub = d / r.policy if several else d
        save(timeline(r, lang=lang), sub / "timeline")
        if messages:
            save(draw_messages(r, lang=lang), sub / "messages")
    if several:
        save(compare(results, lang=lang), d / "compare")
    return written

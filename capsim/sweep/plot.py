"""Sweep pictures: mean ± 95% CI of a metric against a parameter, one line per hue.

The grouping (:func:`aggregate`) is plain data so it can be tested and
reused without matplotlib; :func:`plot_sweep` draws on an ``Axes`` it is
given or makes, and returns it, as Mesa's plot functions do. matplotlib is
imported only when drawing.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim.errors import CapsimError
from capsim.i18n import localize_figure, resolve_lang
from capsim.sweep.stats import mean_ci

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class SeriesPoint:
    """One marker: x, the mean of y over the runs there, the CI half-width, and n."""

    x: Any
    mean: float | None
    ci: float | None
    n: int


@dataclass(frozen=True)
class Aggregate:
    """Lines keyed by hue value (``None`` without hue) and the parameters pooled together."""

    series: dict[Any, list[SeriesPoint]]
    pooled: list[str]
    numeric_x: bool


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def check_columns(columns: Sequence[str], **wanted: str | None) -> None:
    """Fail with the list of columns when ``--x``/``--y``/``--hue`` names none of them."""
    for opt, name in wanted.items():
        if name is not None and name not in columns:
            raise CapsimError(
                f"--{opt} {name!r} is not a column of the results; columns: {', '.join(columns)}"
            )


def aggregate(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    y: str,
    hue: str | None = None,
    params: Sequence[str] = (),
) -> Aggregate:
    """Group runs by (hue, x) and average y across them (seeds, and any pooled parameter).

    ``pooled`` lists the parameters in ``params`` that take several values
    inside one group: the means then average over them too, which a reader
    should be told.
    """
    groups: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    hue_vals: dict[str, Any] = {}
    x_vals: dict[str, Any] = {}
    for r in rows:
        hk = _key(r.get(hue)) if hue else "null"
        xk = _key(r.get(x))
        hue_vals.setdefault(hk, r.get(hue) if hue else None)
        x_vals.setdefault(xk, r.get(x))
        groups.setdefault(hk, {}).setdefault(xk, []).append(r)
    numeric_x = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in x_vals.values()
    )
    pooled: list[str] = []
    for p in params:
        if p in (x, hue):
            continue
        for by_x in groups.values():
            if any(len({_key(r.get(p)) for r in members}) > 1 for members in by_x.values()):
                pooled.append(p)
                break
    series: dict[Any, list[SeriesPoint]] = {}
    for hk, by_x in groups.items():
        pts = []
        for xk, members in by_x.items():
            mean, half, n = mean_ci(r.get(y) for r in members)
            pts.append(SeriesPoint(x_vals[xk], mean, half, n))
        if numeric_x:
            pts.sort(key=lambda p: p.x)
        series[hue_vals[hk]] = pts
    return Aggregate(series, pooled, numeric_x)


def plot_sweep(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    y: str,
    hue: str | None = None,
    *,
    params: Sequence[str] = (),
    ax: Axes | None = None,
) -> Axes:
    """Draw mean ± 95% CI of ``y`` against ``x``; a shaded band for numeric x, bars otherwise."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    agg = aggregate(rows, x, y, hue, params)
    cats: list[str] = []
    if not agg.numeric_x:
        for pts in agg.series.values():
            for p in pts:
                if str(p.x) not in cats:
                    cats.append(str(p.x))
    for label, pts in agg.series.items():
        shown = [p for p in pts if p.mean is not None]
        if not shown:
            continue
        xs = [p.x if agg.numeric_x else cats.index(str(p.x)) for p in shown]
        ms = [float(p.mean or 0.0) for p in shown]
        hs = [p.ci or 0.0 for p in shown]
        name = None if hue is None else f"{label}"
        (line,) = ax.plot(xs, ms, marker="o", label=name)
        if agg.numeric_x:
            ax.fill_between(xs, [m - h for m, h in zip(ms, hs, strict=True)],
                            [m + h for m, h in zip(ms, hs, strict=True)],
                            color=line.get_color(), alpha=0.2, linewidth=0)
        else:
            ax.errorbar(xs, ms, yerr=hs, fmt="none", ecolor=line.get_color(), capsize=3)
    if not agg.numeric_x:
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats)
    elif all(isinstance(p.x, int) for pts in agg.series.values() for p in pts):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no tick at R = 1.25
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean ± 95% CI)")
    if hue is not None and len(agg.series) > 1:
        ax.legend(title=hue)
    if agg.pooled:
        ax.annotate(f"averaged over {', '.join(agg.pooled)}", xy=(0.0, -0.18),
                    xycoords="axes fraction", fontsize=8, color="0.4")
    ax.grid(True, alpha=0.3)
    return ax


def save_plot(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    x: str,
    ys: Sequence[str],
    hue: str | None = None,
    params: Sequence[str] = (),
    title: str = "",
    lang: str | None = "en",
) -> Path:
    """One panel per metric in ``ys``, side by side, written atomically as PNG (or SVG/PDF).

    ``lang="zh"`` draws with a CJK font and says the labels in Chinese.
    """
    # A bare Figure, not pyplot: no backend switch, no global figure list,
    # safe from a notebook or a thread.
    from matplotlib.figure import Figure

    from capsim.atomic import write_bytes

    columns = list(rows[0]) if rows else []
    for y in ys:
        check_columns(columns, x=x, y=y, hue=hue)
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower() or "png"
    fonts: Any = contextlib.nullcontext(resolve_lang(lang))
    if resolve_lang(lang) == "zh":
        from capsim.plot.style import plot_context

        fonts = plot_context("zh")  # a CJK font (or English, with a warning, without one)
    with fonts as drawn_lang:
        fig = Figure(figsize=(6.0 * len(ys), 4.2))
        axes = fig.subplots(1, len(ys), squeeze=False)
        for ax, y in zip(axes[0], ys, strict=True):
            plot_sweep(rows, x, y, hue, params=params, ax=ax)
        if title:
            fig.suptitle(title, fontsize=10)
        localize_figure(fig, drawn_lang)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110)
    write_bytes(p, buf.getvalue())
    return p

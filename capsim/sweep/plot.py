"""Sweep pictures: mean ± 95% CI of a metric against a parameter, one line per hue.

The grouping (:func:`aggregate`) is plain data so it can be tested and
reused without matplotlib; :func:`plot_sweep` draws on an ``Axes`` it is
given or makes, and returns it, as Mesa's plot functions do. matplotlib is
imported only when drawing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim import palette
from capsim.errors import CapsimError
from capsim.i18n import add_words, localize_figure, resolve_lang, tr
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


#: Human names (with units) for the columns people plot; looked up with ``tr``.
_LABELS: dict[str, dict[str, str]] = {
    "sweep.availability.overall": {"en": "availability (share of requests answered, %)",
                                   "zh": "可用性 (应答请求的 %)"},
    "sweep.availability.during_partition": {"en": "availability during the partition (%)",
                                            "zh": "分区期间的可用性 (%)"},
    "sweep.availability.outside_partition": {"en": "availability outside the partition (%)",
                                             "zh": "分区之外的可用性 (%)"},
    "sweep.stale_reads.rate": {"en": "stale reads (share of reads, %)", "zh": "过期读 (占读的 %)"},
    "sweep.stale_reads.count": {"en": "stale reads (count)", "zh": "过期读 (次数)"},
    "sweep.partition_length": {"en": "partition length (s)", "zh": "分区时长 (秒)"},
    "sweep.params.quorum.r": {"en": "R: replies a read waits for", "zh": "R: 读需要的应答数"},
    "sweep.params.quorum.w": {"en": "W: acks a write waits for", "zh": "W: 写需要的确认数"},
    "sweep.params.quorum.n": {"en": "N: replicas of each key", "zh": "N: 每个键的副本数"},
    "sweep.policy": {"en": "policy", "zh": "策略"},
    "sweep.linearizable": {"en": "linearizable (share of runs, %)", "zh": "线性一致 (运行的 %)"},
    "sweep.convergence.time": {"en": "time to converge after the heal (s)",
                               "zh": "恢复后收敛所需时间 (秒)"},
    "sweep.mean ci": {"en": "mean ± 95% CI over seeds", "zh": "各种子的均值 ± 95% 置信区间"},
    "sweep.averaged over": {"en": "averaged over", "zh": "平均于"},
    "sweep.strict": {"en": "R + W > N (N = {n}): every read quorum meets every write quorum",
                     "zh": "R + W > N (N = {n}): 每个读仲裁都与每个写仲裁相交"},
    "sweep.partial": {"en": "R + W ≤ N: a read can miss the latest write",
                      "zh": "R + W ≤ N: 读可能错过最新的写"},
}
add_words(_LABELS)

#: Columns whose values are fractions in [0, 1]: drawn as 0–100 % on a full axis.
_FRACTION = ("availability.", "stale_reads.rate", "linearizable", "convergence.converged")


def column_label(col: str, lang: str = "en") -> str:
    """The axis label for a results column: a human name with its unit.

    Known columns have a name in the catalogue; latencies become
    ``p99 read latency (ms)``; anything else is the column with its dots and
    underscores turned into spaces (a teacher's own ``label.*`` columns).
    """
    key = f"sweep.{col}"
    if key in _LABELS:
        return tr(key, lang)
    parts = col.split(".")
    if len(parts) == 3 and parts[0] == "latency":
        return f"{parts[2]} {tr(parts[1], lang)} {tr('latency', lang)} (ms)"
    if col.startswith("availability.node."):
        return f"{tr('availability', lang)} {parts[-1]} (%)"
    return col.removeprefix("label.").replace("_", " ").replace(".", " · ")


def is_fraction(col: str) -> bool:
    """Whether ``col`` holds a fraction (rates, availability): drawn on a 0–100 % axis."""
    return col.startswith(_FRACTION) or col == "linearizable"


def quorum_n(rows: Sequence[Mapping[str, Any]]) -> int | None:
    """N of a quorum sweep: the ``params.quorum.n`` column, else the number of replicas."""
    ns = {r.get("params.quorum.n") for r in rows} - {None}
    if len(ns) == 1:
        return int(next(iter(ns)))  # type: ignore[arg-type]
    if rows and not ns:
        nodes = [c for c in rows[0] if c.startswith("availability.node.")]
        return len(nodes) or None
    return None


def plot_sweep(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    y: str,
    hue: str | None = None,
    *,
    params: Sequence[str] = (),
    ax: Axes | None = None,
    lang: str = "en",
    legend: bool = True,
) -> Axes:
    """Draw mean ± 95% CI of ``y`` against ``x``; a shaded band for numeric x, bars otherwise.

    Axis labels are human names with units (:func:`column_label`); rates and
    availability are drawn on a full 0–100 % axis so a small difference is
    not blown up. Lines take capsim's policy styles (:mod:`capsim.palette`):
    dark colours with a marker and a dash each, never a value's colour. A
    quorum sweep (``params.quorum.r`` against ``params.quorum.w`` or the
    other way) draws points with R + W > N filled and the others hollow.
    ``legend=False`` leaves the legend out (:func:`save_plot` draws one for
    the whole figure from :func:`legend_handles`).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MultipleLocator, PercentFormatter

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    agg = aggregate(rows, x, y, hue, params)
    cats: list[str] = []
    if not agg.numeric_x:
        for pts in agg.series.values():
            for p in pts:
                if str(p.x) not in cats:
                    cats.append(str(p.x))
    quorum = {x, hue} == {"params.quorum.r", "params.quorum.w"}
    n = quorum_n(rows) if quorum else None
    frac = is_fraction(y)
    scale = 100.0 if frac else 1.0
    styles = palette.series_styles([str(k) for k in agg.series])
    for label, pts in agg.series.items():
        shown = [p for p in pts if p.mean is not None]
        if not shown:
            continue
        st = styles[str(label)]
        xs = [p.x if agg.numeric_x else cats.index(str(p.x)) for p in shown]
        ms = [scale * float(p.mean or 0.0) for p in shown]
        hs = [scale * (p.ci or 0.0) for p in shown]
        name = None if hue is None else (
            f"{label}" if hue == "policy" else f"{column_label(hue, lang).split(':')[0]} = {label}")
        colour = st["colour"]
        (line,) = ax.plot(xs, ms, color=colour, ls=st["dash"], lw=2.0, zorder=3,
                          gid=f"series:{label}")
        if name is not None:  # the legend shows the line with its marker
            ax.plot([], [], color=colour, ls=st["dash"], lw=2.0, marker=st["marker"],
                    label=name)
        if quorum and n is not None:
            for xv, m, p in zip(xs, ms, shown, strict=True):
                strict = float(p.x) + float(label) > n  # R + W > N
                ax.plot([xv], [m], marker=st["marker"], ms=8, mew=1.8, ls="none", zorder=4,
                        color=colour, markerfacecolor=colour if strict else "white",
                        gid=f"point:{label}:{p.x}:{'strict' if strict else 'partial'}")
        else:
            ax.plot(xs, ms, marker=st["marker"], ms=6, ls="none", color=colour, zorder=4)
        if agg.numeric_x:
            ax.fill_between(xs, [m - h for m, h in zip(ms, hs, strict=True)],
                            [m + h for m, h in zip(ms, hs, strict=True)],
                            color=line.get_color(), alpha=0.15, linewidth=0)
        else:
            ax.errorbar(xs, ms, yerr=hs, fmt="none", ecolor=line.get_color(), capsize=3)
    if not agg.numeric_x:
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats)
    elif all(isinstance(p.x, int) for pts in agg.series.values() for p in pts):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no tick at R = 1.25
    if frac:
        # From zero, so a small difference is not blown up; up to 100 % unless
        # every point is small (stale-read rates), then to a round figure.
        top = max((scale * float(p.mean) + scale * (p.ci or 0.0) for pts in agg.series.values()
                   for p in pts if p.mean is not None), default=100.0)
        ceiling = 100.0 if top > 40 else next(c for c in (5, 10, 20, 30, 40, 50)
                                              if c >= 1.15 * top)
        ax.set_ylim(-0.03 * ceiling, 1.03 * ceiling)
        ax.yaxis.set_major_locator(MultipleLocator(ceiling / 5))  # 0, 20, 40 … or 0, 2, 4 …
        ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    else:
        lo, hi = ax.get_ylim()
        if lo > 0:
            ax.set_ylim(0, hi)  # start at zero: no exaggerated differences
    ax.set_xlabel(column_label(x, lang))
    ax.set_ylabel(column_label(y, lang))
    # What each point is, once per panel (a separate text: the catalogue translates it).
    ax.text(1.0, 1.01, tr("sweep.mean ci", lang), transform=ax.transAxes, ha="right",
            va="bottom", fontsize=8, color=palette.MUTED)
    handles = legend_handles(ax, n if quorum else None, lang)
    if legend and handles and ((hue is not None and len(agg.series) > 1) or quorum):
        ax.legend(handles=handles, fontsize=8, loc="best", framealpha=0.9,
                  title=column_label(hue, lang) if hue == "policy" else None)
    if agg.pooled:
        ax.annotate(f"{tr('sweep.averaged over', lang)} {', '.join(agg.pooled)}",
                    xy=(0.0, -0.2), xycoords="axes fraction", fontsize=8, color="0.4")
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.grid(True, color="#EEEEEE", lw=0.8)
    ax.set_axisbelow(True)
    return ax


def legend_handles(ax: Axes, n: int | None, lang: str = "en") -> list[Any]:
    """The lines of ``ax`` and, for a quorum sweep with N = ``n``, what filled/hollow mean."""
    from matplotlib.lines import Line2D

    handles = list(ax.get_legend_handles_labels()[0])
    if n is not None:
        handles += [
            Line2D([], [], marker="o", ls="none", color=palette.INK, ms=7,
                   label=tr("sweep.strict", lang).format(n=n)),
            Line2D([], [], marker="o", ls="none", color=palette.INK, markerfacecolor="white",
                   ms=7, label=tr("sweep.partial", lang)),
        ]
    return handles


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

    Drawn with the same fonts and sizes as the run pictures
    (:func:`capsim.plot.style.plot_context`); ``lang="zh"`` draws with a CJK
    font and says the labels in Chinese.
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
    from capsim.plot.style import plot_context

    with plot_context(resolve_lang(lang)) as eff:
        fig = Figure(figsize=(6.0 * len(ys), 4.4), layout="constrained")
        axes = fig.subplots(1, len(ys), squeeze=False)
        for ax, y in zip(axes[0], ys, strict=True):
            plot_sweep(rows, x, y, hue, params=params, ax=ax, lang=eff, legend=False)
        quorum = {x, hue} == {"params.quorum.r", "params.quorum.w"}
        n = quorum_n(rows) if quorum else None
        handles = legend_handles(axes[0][0], n, eff)
        if handles and (hue is not None or n is not None):
            # Quorum: the W lines in the first column, filled/hollow in the second.
            fig.legend(handles=handles, loc="outside lower center", frameon=False, fontsize=9,
                       ncol=2 if n is not None else min(len(handles), 6))
        if title:
            fig.suptitle(title, fontsize=11, x=0.01, ha="left")
        localize_figure(fig, eff)  # any label that is a catalogue sentence
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110, facecolor="white")
    write_bytes(p, buf.getvalue())
    return p

"""Availability and the stale-read rate over time, in rolling windows.

The table gives one number per run; a partition lasts a few seconds of it.
Over time the trade-off shows where it happens: under cp availability
drops to zero while the network is cut, under ap the stale-read rate rises
instead, and both recover after the heal.

Windows are centred on each instant (ops *invoked* in ``[t - w/2, t + w/2)``)
so a dip lines up with the shaded partition instead of lagging behind it.
A window never straddles the start or end of the run or of a network fault:
near such an edge it slides inward so it still holds a full window of one
regime (a partition shorter than the window is one window). Otherwise a
window half before a partition would show cp "losing availability" before
the cut, and one hanging past the end of the run would hold only the
requests the run cut short. Those requests — still open when the run ended,
so their outcome is unknown — are left out of the rates as well. A request
still open when a network fault begins counts as one made during the fault
(it was answered, or refused, under it).
Availability counts, as the checks do, only requests to live replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from capsim.check.availability import node_down
from capsim.i18n import tr
from capsim.plot import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from capsim.result import RunResult


@dataclass(frozen=True)
class Rolling:
    """Rolling-window rates on a grid of times; NaN where a window has no request.

    Windows slide inward at the run's and faults' edges (see :func:`windows`).
    """

    t: np.ndarray
    availability: np.ndarray
    stale_rate: np.ndarray
    window: float


def default_window(result: RunResult) -> float:
    """About ten requests per window on average, within 2%–20% of the run."""
    dur = result.scenario.duration
    n = max(len(result.history) // 2, 1)
    return float(min(max(10 * dur / n, dur / 50), dur / 5))


#: The reason the engine gives a request still open when the run ends.
RUN_ENDED = "the run ended before an answer came"


def _when(start: float, end: float | None, spans: list[tuple[float, float]]) -> float:
    """Where a request counts on the time axis: when it was invoked, unless it
    was still open when a network fault began or ended; then inside that fault.

    A request invoked just before the cut and refused because of it belongs
    to the partition, not to the calm before it (else cp seems to lose
    availability before the partition starts).
    """
    stop = start if end is None else end
    for f0, f1 in spans:
        if start < f1 and stop >= f0 and not (f0 <= start < f1):
            return min(max(start, f0), np.nextafter(f1, -np.inf))
    return start


def regime_edges(result: RunResult) -> np.ndarray:
    """0, the duration, and every start and end of a partition or cut, sorted."""
    dur = result.scenario.duration
    edges = {0.0, float(dur)}
    for f in result.faults:
        if f.kind in ("partition", "cut"):
            edges.update(x for x in (float(f.start), float(f.end)) if 0.0 < x < dur)
    return np.array(sorted(edges))


def windows(t: np.ndarray, w: float, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[lo, hi)`` for each instant: centred, but never across an edge.

    Within the stretch between two edges that holds ``t`` the window is
    centred on ``t`` and slid inward when it would cross an edge; a stretch
    shorter than ``w`` is its own window. Every rate is then the rate of one
    regime (before, during or after a fault) over a full window.
    """
    i = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(edges) - 2)
    s0, s1 = edges[i], edges[i + 1]
    # The instant exactly at the end of the run belongs to the last stretch.
    lo = np.minimum(np.maximum(t - w / 2, s0), s1 - w)
    lo = np.maximum(lo, s0)
    hi = np.minimum(lo + w, s1)
    # The last stretch includes the run's end (a request invoked at t = duration).
    hi = np.where(s1 >= edges[-1], np.where(hi >= s1, np.nextafter(s1, np.inf), hi), hi)
    return lo, hi


def rolling(result: RunResult, window: float | None = None, points: int = 400) -> Rolling:
    """Rates in windows centred on ``points`` instants over the run."""
    w = default_window(result) if window is None else float(window)
    if w <= 0:
        raise ValueError(f"window must be positive (got {window})")
    ops = result.history.operations()
    stale_ids = set(result.checks.get("stale_reads", {}).get("ops") or [])
    live = [op for op in ops if not node_down(result.faults, op.node, op.start)
            and not (op.complete is not None and op.complete.error == RUN_ENDED)]
    spans = [(f.start, f.end) for f in result.faults if f.kind in ("partition", "cut")]
    starts = np.array([_when(op.start, op.complete.time if op.complete else None, spans)
                       for op in live], dtype=float)
    ok = np.array([op.type == "ok" for op in live], dtype=float)
    reads = np.array([op.f == "read" and op.type == "ok" for op in live], dtype=float)
    stale = np.array([op.invoke.index in stale_ids for op in live], dtype=float)
    order = np.argsort(starts, kind="stable")
    starts, ok, reads, stale = starts[order], ok[order], reads[order], stale[order]

    def cum(a: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(a)])

    c_ok, c_reads, c_stale = cum(ok), cum(reads), cum(stale)
    t = np.linspace(0.0, result.scenario.duration, points)
    w_lo, w_hi = windows(t, w, regime_edges(result))
    lo = np.searchsorted(starts, w_lo, side="left")
    hi = np.searchsorted(starts, w_hi, side="left")
    n = (hi - lo).astype(float)
    n_ok = c_ok[hi] - c_ok[lo]
    n_reads = c_reads[hi] - c_reads[lo]
    n_stale = c_stale[hi] - c_stale[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        avail = np.where(n > 0, n_ok / np.maximum(n, 1), np.nan)
        srate = np.where(n_reads > 0, n_stale / np.maximum(n_reads, 1), np.nan)
    return Rolling(t, avail, srate, w)


def draw_metrics(ax: Axes, result: RunResult, lang: str, *, window: float | None = None,
                 legend: bool = True) -> Rolling:
    """Draw the two rates into ``ax`` (a strip under the lanes, or on its own)."""
    from matplotlib.ticker import FuncFormatter

    r = rolling(result, window)
    style.shade_faults(ax, result.faults, gid_prefix="metrics-shade")
    ax.plot(r.t, 100 * r.availability, color=style.AVAILABILITY_LINE, lw=2.2,
            label=tr("plot.availability rate", lang), gid="metric:availability", zorder=3)
    ax.plot(r.t, 100 * r.stale_rate, color=style.STALE, lw=2.2, ls=(0, (4, 2)),
            label=tr("plot.stale rate", lang), gid="metric:stale", zorder=3)
    ax.set_ylim(-8, 108)
    ax.set_yticks([0, 50, 100])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.tick_params(axis="y", labelsize=8.5, length=2)
    ax.grid(axis="y", color="#EEEEEE", lw=0.8)
    ax.grid(axis="x", color="#EEEEEE", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(tr("time (s)", lang))
    if legend:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False,
                  fontsize=8.5, borderaxespad=0.1, handlelength=2.6)
    ax.text(1.0, 1.02, f"{tr('plot.window', lang)} {r.window:.3g} s", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8, color=style.MUTED)
    return r


def metrics_over_time(
    result: RunResult,
    ax: Axes | None = None,
    window: float | None = None,
    lang: str = "en",
) -> Figure | Axes:
    """Availability and stale-read rate of one run over time, partitions shaded."""
    with style.plot_context(lang) as lang:
        if ax is not None:
            draw_metrics(ax, result, lang, window=window)
            return ax
        fig = style.new_figure(11.0, 3.0)
        axes = fig.add_subplot(1, 1, 1)
        axes.set_xlim(0, result.scenario.duration * 1.01)
        draw_metrics(axes, result, lang, window=window)
        axes.set_title(f"{result.scenario.name} · {result.policy}: {tr('plot.metrics', lang)}",
                       loc="left", fontsize=12, fontweight="bold", pad=22)
        return fig

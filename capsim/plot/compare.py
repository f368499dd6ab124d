"""One scenario under several policies, one panel each, on one time axis.

This is the picture for the slide: the same faults and the same requests,
stacked, so the eye runs down a column of time and sees what each policy
did with it: cp's refused read (grey, ✗) right above ap's stale one
(hatched vermillion), and ap's replicas turning the same colour after the
heal. Values keep one colour across panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from capsim.i18n import localize, tr
from capsim.plot import style
from capsim.plot.timeline import (
    Legend,
    _title,
    add_figure_legend,
    draw_lanes,
    lanes_height,
    layout,
    want_metrics,
    x_extent,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from capsim.result import RunResult


def compare(
    results: Sequence[RunResult],
    lang: str = "en",
    *,
    metrics: bool | None = None,
    window: float | None = None,
    label_ops: bool | None = None,
) -> Figure:
    """A Figure with one timeline panel per result, sharing the time axis.

    Each panel's title carries the numbers to compare (availability overall
    and during the partition, linearizable, stale reads, p99 latency).
    ``metrics`` works as in :func:`capsim.plot.timeline.timeline`.
    """
    from capsim.plot.metrics import draw_metrics

    results = list(results)
    if not results:
        raise ValueError("compare() needs at least one result")
    colours = style.ValueColours(results)
    xmax = max(x_extent(r) for r in results)
    metrics = want_metrics(results, metrics)
    with style.plot_context(lang) as lang:
        lays = [layout(r, xmax) for r in results]
        heights: list[float] = []
        for lay in lays:
            heights.append(lanes_height(lay))
            if metrics:
                heights.append(0.95)
        fig = style.new_figure(11.0, sum(heights) + 0.55 * len(results) + 1.3)
        gs = fig.add_gridspec(len(heights), 1, height_ratios=heights)
        legend = Legend()
        op_texts: list[Any] = []
        keep_texts: list[Any] = []
        first = None
        row = 0
        for i, r in enumerate(results):
            ax = fig.add_subplot(gs[row], sharex=first)
            first = first or ax
            row += 1
            lay, leg = draw_lanes(ax, r, colours, lang, label_ops=label_ops, xmax=xmax)
            op_texts += lay.op_texts
            keep_texts += lay.keep_texts
            legend.merge(leg)
            _title(ax, r, lang, with_name=False)
            last = i == len(results) - 1
            if metrics:
                strip = fig.add_subplot(gs[row], sharex=first)
                row += 1
                draw_metrics(strip, r, lang, window=window, legend=i == 0)
                ax.tick_params(labelbottom=False)
                if not last:
                    strip.set_xlabel("")
            elif last:
                ax.set_xlabel(tr("time (s)", lang))
            else:
                ax.tick_params(labelbottom=False)
        sc = results[0].scenario
        # a shipped scenario's description is in the catalogue; a teacher's own stays as written
        head = sc.name if not sc.description else f"{sc.name}: {localize(sc.description, lang)}"
        fig.suptitle(head, x=0.01, ha="left", fontsize=12.5, color=style.INK)
        add_figure_legend(fig, legend)
        style.declutter(fig, op_texts, keep_texts)
        return fig

"""Draw a t-visibility curve: P(consistent read) against time after commit.

matplotlib is imported inside the function, so importing :mod:`capsim.pbs`
never pulls it in. The function takes and returns an ``Axes`` (as Mesa's
plotting helpers do), so a notebook can put several curves side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from capsim import palette
from capsim.pbs.montecarlo import PBSResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_t_visibility(
    result: PBSResult,
    *,
    t_max: float,
    target: float | None = 0.999,
    t_target: float | None = None,
    stale: bool = False,
    ax: Axes | None = None,
    label: str | None = None,
    points: int = 1000,
) -> Axes:
    """Plot ``result.p_consistent(t)`` for t in [0, t_max] with the target marked.

    ``stale=True`` plots ``P(stale read) = 1 - P(consistent)`` on a log scale
    instead: near 99.9% a linear axis shows nothing, while the log axis shows
    the tail crossing ``1 - target``. ``t_target`` (the t the caller reports
    for ``target``) gets a dotted vertical line, so the figure shows the same
    number as the text output.
    """
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(7, 4.2), layout="constrained").add_subplot(1, 1, 1)
    curve = palette.policy_style("quorum")
    target_kw: dict[str, Any] = {"color": palette.TARGET_LINE, "linestyle": (0, (5, 3)),
                                 "linewidth": 1.6, "zorder": 2.5}
    ts = np.linspace(0.0, t_max, points)
    p = result.p_consistent(ts)
    label = label or f"N={result.n} R={result.r} W={result.w}"
    level = target
    level_label = f"target {target:.4g}" if target is not None else ""
    if stale:
        floor = 0.5 / result.trials  # below this the sample has nothing to say
        q = 1.0 - p
        level = None if target is None else 1.0 - target
        seen = q[q > 0]
        lowest = min(seen.min() if seen.size else 1.0, level if level else 1.0)
        ax.plot(ts, np.maximum(q, floor), label=label, color=curve["colour"], lw=2.2, zorder=3)
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(floor, lowest / 3), top=1.0)
        ax.set_ylabel("P(stale read)")
        level_label = f"1 - target = {level:.3g}" if level is not None else ""
    else:
        ax.plot(ts, p, label=label, color=curve["colour"], lw=2.2, zorder=3)
        # Room above 1.0, so a target such as 0.999 is a visible line below
        # the frame rather than hidden in it.
        low = float(np.min(p)) if p.size else 0.0
        low = min(low, level if level is not None else low)
        span = max(1.0 - low, 0.01)  # a curve flat at 1.0 (R + W > N) still gets an axis
        ax.set_ylim(bottom=1.0 - span, top=1.0 + 0.06 * span)
        ax.set_ylabel("P(consistent read)")
    if level is not None:
        ax.axhline(level, label=level_label, gid="target", **target_kw)
    if t_target is not None and t_target <= t_max:
        ax.axvline(t_target, color=palette.TARGET_LINE, linestyle=":", linewidth=1.2,
                   gid="t_target")
        ax.annotate(
            f"t = {t_target:.4g} ms",
            xy=(t_target, level if level is not None else 1.0),
            xytext=(6, 6 if stale else -14),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0.0, t_max)
    ax.set_xlabel("t: time after the write commits (ms)")
    ax.grid(True, color="#EEEEEE", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper right" if stale else "lower right", frameon=False)
    return ax


def t_visibility_figure(
    result: PBSResult, *, t_max: float, target: float | None = 0.999,
    t_target: float | None = None, title: str | None = None,
) -> Any:
    """The figure ``capsim pbs --plot`` saves: P(consistent) above, P(stale) on a log axis below.

    A bare matplotlib Figure (no pyplot), in the fonts and colours of the
    other capsim pictures.
    """
    import matplotlib
    from matplotlib.figure import Figure

    rc: Any = {"font.size": 10, "axes.edgecolor": "#888888", "axes.labelcolor": palette.INK,
          "xtick.color": "#444444", "ytick.color": palette.INK, "legend.fontsize": 9}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7.5, 7), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
        plot_t_visibility(result, t_max=t_max, target=target, t_target=t_target, ax=top)
        plot_t_visibility(result, t_max=t_max, target=target, t_target=t_target, stale=True,
                          ax=bottom)
        top.set_xlabel("")
        top.set_title(
            title or f"t-visibility: N={result.n} R={result.r} W={result.w} on "
            f"{result.model} ({result.trials:,} trials, seed {result.seed})", loc="left",
            fontsize=12, fontweight="bold", color=palette.INK)
    return fig


__all__ = ["plot_t_visibility", "t_visibility_figure"]

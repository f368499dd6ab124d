"""Draw a t-visibility curve: P(consistent read) against time after commit.

matplotlib is imported inside the function, so importing :mod:`capsim.pbs`
never pulls it in. The function takes and returns an ``Axes`` (as Mesa's
plotting helpers do), so a notebook can put several curves side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.2))
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
        ax.plot(ts, np.maximum(q, floor), label=label)
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(floor, lowest / 3), top=1.0)
        ax.set_ylabel("P(stale read)")
        level_label = f"1 - target = {level:.3g}" if level is not None else ""
    else:
        ax.plot(ts, p, label=label)
        ax.set_ylim(top=1.0)
        ax.set_ylabel("P(consistent read)")
    if level is not None:
        ax.axhline(level, color="grey", linestyle="--", linewidth=1, label=level_label)
    if t_target is not None and t_target <= t_max:
        ax.axvline(t_target, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            f"t = {t_target:.4g} ms",
            xy=(t_target, level if level is not None else 1.0),
            xytext=(6, 6 if stale else -14),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0.0, t_max)
    ax.set_xlabel("t: time after the write commits (ms)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right" if stale else "lower right")
    return ax


__all__ = ["plot_t_visibility"]

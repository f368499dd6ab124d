"""Raft roles on the replica lanes: who led, in which term, and the elections.

Leader-based runs record each replica's role and term (``RunResult.roles``).
This draws them as a thin strip along the bottom of each replica lane: a
dark strip while the replica is leader (labelled with its term), a hatched
amber one while it is a candidate, nothing while it follows; a star marks
each election won. The timeline calls :func:`draw_roles` when a run has
roles; runs of other policies are drawn exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from capsim.check.leadership import role_spans
from capsim.i18n import add_words, tr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from capsim.result import RunResult

LEADER_FILL = "#222222"
CANDIDATE_FILL = "#E69F00"
STRIP_H = 0.2

add_words({
    "plot.leader": {"en": "leader (term)", "zh": "领导者 (任期)"},
    "plot.candidate": {"en": "candidate", "zh": "候选者"},
    "plot.term": {"en": "term", "zh": "任期"},
})


def draw_roles(
    ax: Axes,
    result: RunResult,
    replica_y: Mapping[tuple[str, str], float],
    band_h: float,
    x_hi: float,
    legend: Any,
    lang: str,
) -> None:
    """Draw each replica's leader and candidate spans under its first key's band."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    lane: dict[str, float] = {}
    for (node, _key), yc in replica_y.items():
        lane.setdefault(node, yc)
    for i, (node, role, term, t0, t1) in enumerate(role_spans(result.roles, result.faults,
                                                              x_hi)):
        if node not in lane or role not in ("leader", "candidate") or t1 <= t0:
            continue
        bottom = lane[node] + band_h / 2
        leader = role == "leader"
        ax.add_artist(Rectangle(
            (t0, bottom - STRIP_H), t1 - t0, STRIP_H, zorder=3.5, lw=0,
            facecolor=LEADER_FILL if leader else CANDIDATE_FILL,
            hatch=None if leader else "////", edgecolor="white",
            gid=f"role:{node}:{role}:{term}:{i}"))
        if leader:
            ax.text(t0, bottom - STRIP_H / 2, f" {tr('plot.term', lang)} {term}", ha="left",
                    va="center", fontsize=7, color="white", zorder=3.6, clip_on=True)
            ax.plot([t0], [bottom - STRIP_H], marker="*", ms=9, color=CANDIDATE_FILL,
                    markeredgecolor=LEADER_FILL, zorder=3.7, gid=f"election:{node}:{term}")
    if any(r.role == "leader" for r in result.roles):
        legend.add("leader", Line2D([], [], marker="*", ms=9, color=LEADER_FILL, lw=5,
                                    markerfacecolor=CANDIDATE_FILL,
                                    label=tr("plot.leader", lang)))
    if any(r.role == "candidate" for r in result.roles):
        legend.add("candidate", Patch(facecolor=CANDIDATE_FILL, hatch="////",
                                      edgecolor="white", label=tr("plot.candidate", lang)))


__all__ = ["draw_roles"]

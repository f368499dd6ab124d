"""The space-time (Lamport) diagram: every message between replicas.

Time runs left to right, each replica is a horizontal line, each message an
arrow from its sender at the send time to its receiver at the delivery time.
A message that never arrived stops halfway with a cross: cut by a partition,
lost at random, or thrown away because its receiver was down (that one
reaches the receiver's line, where the crash swallowed it). This is the
picture that explains *why* cp refused: its quorum queries died at the cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from capsim.i18n import tr
from capsim.plot import style
from capsim.plot.style import show_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from capsim.result import RunResult

#: Above this many messages arrows lose their heads (they would be a smear).
ARROW_LIMIT = 300

_DROP = {
    "cut": ("X", style.STALE, "plot.cut msg"),
    "lost": ("x", "#8C6D1F", "plot.lost"),
    "down": ("s", style.CRASH_BAR, "plot.down msg"),
}


@dataclass
class Arrow:
    """One drawn arrow: a message, or several identical ones merged (``count``)."""

    index: int  # the first message's index in the journal
    x0: float
    y0: float
    x1: float
    y1: float
    kind: str
    status: str
    value: Any
    count: int = 1
    slot: int = 0  # how many arrow-widths it is moved right to stay visible


def arrows_of(result: RunResult, lane: dict[str, int], tol: float) -> list[Arrow]:
    """The arrows to draw: identical messages merged with a count, coinciding ones offset.

    Two arrows *coincide* when they join the same two lanes and both their
    ends are within ``tol`` (data units) of each other: drawn as they are,
    one would hide the other (the AP story's ``replicate`` of v1 under a
    ``sync``). Such an arrow takes the first free *slot* and is drawn that
    many arrow-widths to the right.
    """
    merged: dict[tuple[Any, ...], Arrow] = {}
    for i, m in enumerate(result.messages):
        if m.src not in lane or m.dst not in lane:
            continue
        y0, y1 = float(lane[m.src]), float(lane[m.dst])
        if m.status == "delivered":
            x1, yy1 = m.end, y1
        elif m.status == "down":
            x1, yy1 = m.end, y1 - 0.08 * (1 if y1 > y0 else -1)
        else:
            # Dropped on the way: stop a fixed distance past the sender, so a
            # message from G1 to G3 is not mistaken for one that died at G2.
            frac = min(0.42 / max(abs(y1 - y0), 1e-9), 1.0)
            x1, yy1 = m.sent + frac * (m.end - m.sent), y0 + frac * (y1 - y0)
        key = (round(m.sent, 9), m.src, m.dst, m.kind, round(x1, 9), m.status,
               style.value_key(m.value))
        if key in merged:
            merged[key].count += 1
        else:
            merged[key] = Arrow(i, m.sent, y0, x1, yy1, m.kind, m.status, m.value)
    out = sorted(merged.values(), key=lambda a: (a.x0, a.index))
    placed: dict[tuple[float, float], list[Arrow]] = {}
    for a in out:
        near = [b for b in placed.get((a.y0, a.y1), [])
                if abs(b.x0 - a.x0) < tol and abs(b.x1 - a.x1) < tol]
        taken = {b.slot for b in near}
        a.slot = next(k for k in range(len(taken) + 1) if k not in taken)
        placed.setdefault((a.y0, a.y1), []).append(a)
    return out


def draw_messages(ax: Axes, result: RunResult, lang: str) -> dict[str, Any]:
    """Draw the diagram into ``ax``; return legend handles by name.

    ``_labels`` (value labels on arrows) and ``_keep`` (fault labels) are
    texts for :func:`capsim.plot.style.declutter`, run once the legend is in.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

    nodes = list(result.scenario.nodes)
    y = {n: i for i, n in enumerate(nodes)}
    xmax = max([result.scenario.duration] + [m.end for m in result.messages])
    ax.set_xlim(0, xmax * 1.01)
    ax.set_ylim(len(nodes) - 0.5, -0.5)
    handles: dict[str, Any] = {}
    keep: list[Any] = []
    style.shade_faults(ax, result.faults)
    if any(f.kind in ("partition", "cut") for f in result.faults):
        handles["partition"] = Patch(facecolor=style.PARTITION_SHADE,
                                     label=tr("plot.legend partition", lang))
    for i, f in enumerate(result.faults):
        if f.kind in ("partition", "cut"):
            keep.append(ax.text((f.start + f.end) / 2, -0.47, style.fault_label(f, lang),
                                ha="center",
                    va="top", fontsize=9, color=style.PARTITION_BAR, fontweight="bold",
                    clip_on=True))
        elif f.kind == "crash":
            node = f.groups[0][0]
            if node in y:
                ax.add_artist(Rectangle((f.start, y[node] - 0.09), f.end - f.start, 0.18,
                                       facecolor=style.CRASH_BAR, hatch=style.HATCH_CRASH,
                                       edgecolor="#9A9A9A", lw=0, zorder=2,
                                       gid=f"crash:{node}:{i}"))
                handles["crash"] = Patch(facecolor=style.CRASH_BAR, hatch=style.HATCH_CRASH,
                                         edgecolor="#9A9A9A", label=tr("plot.legend crash", lang))
    for n, yy in y.items():
        ax.axhline(yy, color="#888888", lw=1.2, zorder=1, gid=f"lane:node:{n}")

    kinds: dict[str, str] = {}
    for m in result.messages:
        if m.kind not in kinds:
            kinds[m.kind] = style.KIND_COLOURS[len(kinds) % len(style.KIND_COLOURS)]
    heads = len(result.messages) <= ARROW_LIMIT
    span = xmax * 1.01
    bbox = ax.get_position()
    fig: Any = ax.figure
    while not hasattr(fig, "get_size_inches"):
        fig = fig.figure
    pts_per_unit = fig.get_size_inches()[0] * bbox.width * 72 * 0.9 / span
    arrows = arrows_of(result, y, tol=4 / pts_per_unit)
    segs: dict[str, list[list[tuple[float, float]]]] = {}
    labels: list[Any] = []
    for a in arrows:
        colour = kinds[a.kind]
        dx = a.slot * 6 / pts_per_unit  # coinciding arrows: 6 pt apart
        start, end = (a.x0 + dx, a.y0), (a.x1 + dx, a.y1)
        gid = f"msg:{a.index}:{a.status}" + (f":x{a.count}" if a.count > 1 else "")
        if heads:
            ax.add_artist(FancyArrowPatch(
                start, end, arrowstyle="-|>" if a.status == "delivered" else "-",
                mutation_scale=9, color=colour, lw=1.1 + 0.5 * (a.count > 1), zorder=3,
                gid=gid, ls="-" if a.status == "delivered" else (0, (3, 2)),
                shrinkA=0, shrinkB=0))
            text = "" if a.value is None else show_value(a.value)
            if a.count > 1:
                text = f"{text} ×{a.count}".strip()
            if text:
                # On the arrow, a third of the way along: the value it carries.
                fx = 0.35 if a.status == "delivered" else 0.6
                labels.append(ax.annotate(
                    text, xy=(start[0] + fx * (end[0] - start[0]),
                              start[1] + fx * (end[1] - start[1])),
                    xytext=(3, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=7.5, color=colour, fontweight="bold", zorder=6,
                    gid=f"msglabel:{a.index}", annotation_clip=True,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8,
                          "pad": 0.4}))
        else:
            segs.setdefault(colour, []).append([start, end])
        if a.status != "delivered":
            marker, mcol, _ = _DROP.get(a.status, ("x", style.INK, a.status))
            ax.plot([end[0]], [end[1]], marker=marker, color=mcol, ms=7, mew=1.6, zorder=4,
                    gid=f"drop:{a.index}:{a.status}", ls="none")
    for colour, s in segs.items():
        ax.add_collection(LineCollection(s, colors=colour, linewidths=0.7, zorder=3,
                                         gid="messages"))
    handles["_labels"] = labels
    handles["_keep"] = keep
    for kind, colour in kinds.items():
        handles[f"kind:{kind}"] = Line2D([], [], color=colour, lw=1.6, label=kind)
    for status in ("cut", "lost", "down"):
        if any(m.status == status for m in result.messages):
            marker, mcol, word = _DROP[status]
            handles[f"drop:{status}"] = Line2D([], [], color=mcol, marker=marker, ls="none",
                                               ms=7, mew=1.6, label=tr(word, lang))
    ax.set_yticks(list(y.values()), labels=nodes, fontweight="bold")
    ax.tick_params(axis="y", length=0, labelsize=10.5)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(tr("time (s)", lang))
    ax.grid(axis="x", color="#EEEEEE", lw=0.8)
    ax.set_axisbelow(True)
    return handles


def messages(result: RunResult, ax: Axes | None = None, lang: str = "en") -> Figure | Axes:
    """Draw a run's messages as a space-time diagram; empty runs say so."""
    with style.plot_context(lang) as lang:
        title = f"{result.scenario.name} · {result.policy}: {tr('plot.messages', lang)}"
        if ax is not None:
            handles = draw_messages(ax, result, lang)
            labels, keep = handles.pop("_labels"), handles.pop("_keep")
            ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
            ax.legend(handles=list(handles.values()), loc="upper left",
                      bbox_to_anchor=(1.01, 1.0), frameon=False)
            style.declutter(ax.figure, labels, keep)
            return ax
        n = len(result.scenario.nodes)
        fig = style.new_figure(11.0, 1.0 * n + 1.9)
        axes = fig.add_subplot(1, 1, 1)
        handles = draw_messages(axes, result, lang)
        labels, keep = handles.pop("_labels"), handles.pop("_keep")
        axes.set_title(title, loc="left", fontsize=12, fontweight="bold")
        if not result.messages:
            axes.text(0.5, 0.5, "—", transform=axes.transAxes, ha="center", va="center",
                      color=style.MUTED, fontsize=14)
        if handles:
            fig.legend(handles=list(handles.values()), loc="outside lower center",
                       ncol=min(len(handles), 6), frameon=False)
        style.declutter(fig, labels, keep)
        return fig

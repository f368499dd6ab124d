"""The timeline: who held which value when, and what each request got back.

Reading order, top to bottom: the faults in force (a labelled bar per
partition or crash, its span shaded across every lane), one lane per replica
(a band per value it held, coloured by value, the value written on it), one
lane per client (a bar per request from invoke to answer: solid in the
colour of the value written or read when answered, grey with ✗ when
refused, white and dashed when unanswered; stale reads hatched in
vermillion, ops of a linearizability violation cross-hatched in purple),
and a strip with availability and the stale-read rate over time.

A student can match colours: bob's read bar is blue like ``v0`` while G1's
lane is already orange (``v1``): that is a stale read, visible without
reading a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from capsim.i18n import t as sentence
from capsim.i18n import tr
from capsim.plot import style
from capsim.plot.style import ValueColours, show_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from capsim.history import Operation
    from capsim.result import Fault, RunResult

#: Ops drawn with labels when a run has at most this many (more would overlap).
LABEL_LIMIT = 40
#: Below this many requests the metrics strip is left out by default.
STRIP_MIN_OPS = 12
#: Replica lanes show at most this many keys each (each key is a sub-lane).
MAX_KEYS = 4

BAND_H = 0.72
BAR_H = 0.62


@dataclass
class Legend:
    """Legend entries collected while drawing, in a fixed order, deduplicated."""

    entries: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, artist: Any) -> None:
        self.entries.setdefault(key, artist)

    def merge(self, other: Legend) -> None:
        for k, v in other.values.items():
            self.values.setdefault(k, v)
        for k, v in other.entries.items():
            self.entries.setdefault(k, v)

    _ORDER = ("ok", "fail", "info", "stale", "violation", "partition", "crash", "converged",
              "breaks", "leader", "candidate")

    def handles(self, max_values: int = 8) -> list[Any]:
        # Past a handful of values the colours repeat: the band labels say which.
        vals = list(self.values.values()) if len(self.values) <= max_values else []
        rest = [self.entries[k] for k in self._ORDER if k in self.entries]
        return vals + rest


class OkHandle:
    """Legend entry for answered requests: a bar in two value colours.

    Answered bars take the colour of the value read or written, so the
    legend shows that idea rather than one misleading colour.
    """

    def __init__(self, label: str) -> None:
        self.label = label

    def get_label(self) -> str:
        return self.label


class _OkHandler:
    def legend_artist(self, legend: Any, orig: OkHandle, fontsize: float, box: Any) -> Any:
        from matplotlib.patches import Rectangle

        x0, y0 = box.xdescent, box.ydescent
        w, h = box.width, box.height
        left = Rectangle((x0, y0), w / 2, h, facecolor=style.VALUE_COLOURS[0], lw=0,
                         transform=box.get_transform())
        right = Rectangle((x0 + w / 2, y0), w / 2, h, facecolor=style.VALUE_COLOURS[1], lw=0,
                          transform=box.get_transform())
        frame = Rectangle((x0, y0), w, h, facecolor="none", edgecolor=style.INK, lw=1,
                          transform=box.get_transform())
        for a in (left, right, frame):
            box.add_artist(a)
        return frame


HANDLER_MAP: dict[type, Any] = {OkHandle: _OkHandler()}


@dataclass
class Layout:
    """Where each lane sits (y grows downwards) and what is in it."""

    header_rows: int
    fault_row: dict[int, int]
    replica_y: dict[tuple[str, str], float]
    client_y: dict[str, float]
    keys: list[str]
    keys_total: int
    height: float
    xmax: float


def clients_of(result: RunResult) -> list[tuple[str, str | None]]:
    """Each client with its home node: the scenario's first, then generated ones."""
    seen: dict[str, str | None] = {c.name: c.node for c in result.scenario.clients}
    extra: dict[str, str | None] = {}
    for e in result.history:
        if e.process not in seen and e.process not in extra:
            extra[e.process] = e.node

    def natural(name: str) -> tuple[str, int, str]:
        head = name.rstrip("0123456789")
        tail = name[len(head):]
        return (head, int(tail) if tail else -1, name)

    return list(seen.items()) + sorted(extra.items(), key=lambda kv: natural(kv[0]))


def _fault_rows(faults: Sequence[Fault]) -> tuple[int, dict[int, int]]:
    """Stack overlapping faults on separate header rows (first free row wins)."""
    ends: list[float] = []
    rows: dict[int, int] = {}
    for i, f in sorted(enumerate(faults), key=lambda x: (x[1].start, x[1].end)):
        for r, end in enumerate(ends):
            if end <= f.start:
                rows[i] = r
                ends[r] = f.end
                break
        else:
            rows[i] = len(ends)
            ends.append(f.end)
    return len(ends), rows


def x_extent(result: RunResult) -> float:
    """The right edge of the time axis: the run, plus any late answer."""
    t = result.scenario.duration
    for e in result.history:
        t = max(t, e.time)
    return t


def layout(result: RunResult, xmax: float | None = None) -> Layout:
    sc = result.scenario
    keys_all = list(sc.keys) or sorted({t.key for t in result.trace})
    keys = keys_all[:MAX_KEYS]
    n_header, fault_row = _fault_rows(result.faults)
    y = 0.0
    header_h = 0.0
    if n_header:
        header_h = 0.75 * n_header + 0.25
        y += header_h
    replica_y: dict[tuple[str, str], float] = {}
    for node in sc.nodes:
        for k in keys or ["?"]:
            replica_y[(node, k)] = y + 0.5
            y += 1.0
        y += 0.15 if len(keys) > 1 else 0.0
    client_y: dict[str, float] = {}
    clients = clients_of(result)
    if clients:
        y += 0.45
        for name, _ in clients:
            client_y[name] = y + 0.5
            y += 1.0
    return Layout(n_header, fault_row, replica_y, client_y, keys, len(keys_all), y,
                  xmax if xmax is not None else x_extent(result))


def _approx_text_pts(s: str, size: float) -> float:
    """Text width in points, roughly: CJK glyphs are a full em, Latin ~0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else 0.6 * size for ch in s)


class _Scale:
    """Points per data unit along x, to decide whether a label fits in its bar."""

    def __init__(self, ax: Axes, span: float) -> None:
        bbox = ax.get_position()
        fig: Any = ax.figure
        while not hasattr(fig, "get_size_inches"):  # a SubFigure: ask its parent
            fig = fig.figure
        width_in = fig.get_size_inches()[0] * bbox.width
        self.pts_per_unit = (width_in * 72 * 0.9) / span if span > 0 else 1.0

    def width(self, dt: float) -> float:
        return dt * self.pts_per_unit

    def units(self, pts: float) -> float:
        return pts / self.pts_per_unit


def op_label(op: Operation, lang: str, stale: bool) -> str:
    """``write v1`` / ``read v0`` / ``read ✗`` / ``read v0 (stale)``: what a student says."""
    verb = tr(op.f, lang)
    if op.f in ("write", "cas"):
        what = f"{verb} {show_value(op.invoke.value)}"
    else:
        what = verb if op.type != "ok" else f"{verb} {show_value(op.value)}"
    if op.type == "fail":
        return f"{what} ✗ {tr('plot.refused', lang)}"
    if op.type == "info":
        return f"{what} ? {tr('plot.no answer', lang)}"
    if stale:
        return f"{what} ({tr('stale', lang)})"
    return what


def draw_lanes(
    ax: Axes,
    result: RunResult,
    colours: ValueColours,
    lang: str,
    *,
    label_ops: bool | None = None,
    xmax: float | None = None,
) -> tuple[Layout, Legend]:
    """Draw faults, replica lanes and client lanes of one run into ``ax``.

    Every artist carries a ``gid`` (``lane:…``, ``band:…``, ``op:<invoke
    index>``, ``fault:…``), kept in SVG output too, so tests and curious
    students can find what is what.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    lay = layout(result, xmax)
    span = lay.xmax if lay.xmax > 0 else 1.0
    x_hi = span * 1.01
    ax.set_xlim(0, x_hi)
    ax.set_ylim(lay.height + 0.15, -0.1)
    scale = _Scale(ax, x_hi)
    legend = Legend()
    ops = result.history.operations()
    if label_ops is None:
        label_ops = len(ops) <= LABEL_LIMIT
    small = 8.5

    # -- faults: a pale span across every lane, a labelled bar on top -------
    style.shade_faults(ax, result.faults)
    for i, f in enumerate(result.faults):
        row = lay.fault_row[i]
        y0 = 0.1 + 0.75 * row
        colour = style.CRASH_BAR if f.kind == "crash" else style.PARTITION_BAR
        ax.add_artist(Rectangle((f.start, y0), f.end - f.start, 0.6, facecolor=colour,
                               edgecolor="none", zorder=3, gid=f"fault:{f.kind}:{i}"))
        text = style.fault_label(f, lang)
        fits = scale.width(f.end - f.start) > _approx_text_pts(text, 9) + 6
        x_fault = f.end + scale.units(4)
        if not fits:  # a label beside the bar steps over the dashed break line
            x_fault = _past_break(x_fault, _approx_text_pts(text, 9), style.break_time(result),
                                  scale)
        ax.text(f.start + (f.end - f.start) / 2 if fits else x_fault,
                y0 + 0.3, text, ha="center" if fits else "left", va="center",
                fontsize=9, color="white" if fits else colour, fontweight="bold", zorder=4,
                clip_on=True)
        if f.kind == "crash":
            legend.add("crash", Patch(facecolor=style.CRASH_BAR, hatch=style.HATCH_CRASH,
                                      edgecolor="white", label=tr("plot.legend crash", lang)))
        else:
            legend.add("partition", Patch(facecolor=style.PARTITION_SHADE,
                                          edgecolor=style.PARTITION_BAR,
                                          label=tr("plot.legend partition", lang)))

    # -- replica lanes: one band per value held ------------------------------
    by_lane: dict[tuple[str, str], list[tuple[float, Any]]] = {}
    for t in sorted(result.trace, key=lambda e: e.time):
        if (t.node, t.key) in lay.replica_y:
            by_lane.setdefault((t.node, t.key), []).append((t.time, t.value))
    down: dict[str, list[tuple[float, float]]] = {}
    for f in result.faults:
        if f.kind == "crash":
            down.setdefault(f.groups[0][0], []).append((f.start, f.end))
    for (node, key), yc in lay.replica_y.items():
        ax.axhline(yc, color="#DDDDDD", lw=0.8, zorder=0.5, gid=f"lane:replica:{node}:{key}")
        seq = by_lane.get((node, key), [])
        for j, (t0, v) in enumerate(seq):
            t1 = seq[j + 1][0] if j + 1 < len(seq) else x_hi
            if v is None or t1 <= t0:
                continue
            fill = colours(v)
            ax.add_artist(Rectangle((t0, yc - BAND_H / 2), t1 - t0, BAND_H, facecolor=fill,
                                   edgecolor="white", lw=0.8, zorder=2,
                                   gid=f"band:{node}:{key}:{j}"))
            label = show_value(v)
            need = scale.units(_approx_text_pts(label, 10) + 8)
            for a, b in _visible(t0, t1, down.get(node, [])):
                if b - a > need:  # the first stretch not hidden by a crash
                    ax.text(a + scale.units(5), yc, label, ha="left", va="center", fontsize=10,
                            fontweight="bold", color=style.text_colour(fill), zorder=4,
                            clip_on=True)
                    break
            legend.values.setdefault(
                label, Patch(facecolor=fill, edgecolor="white",
                             label=f"{tr('plot.value', lang)} {label}"))
    for i, f in enumerate(result.faults):
        if f.kind != "crash":
            continue
        node = f.groups[0][0]
        for (n, key), yc in lay.replica_y.items():
            if n != node:
                continue
            ax.add_artist(Rectangle((f.start, yc - BAND_H / 2 - 0.06), f.end - f.start,
                                   BAND_H + 0.12, facecolor=style.CRASH_BAR, alpha=0.88,
                                   hatch=style.HATCH_CRASH, edgecolor="#9A9A9A", lw=0,
                                   zorder=3, gid=f"crash:{node}:{key}:{i}"))
            ax.text(f.start + scale.units(5), yc, tr("plot.down", lang), ha="left",
                    va="center", fontsize=9, color="white", fontweight="bold", zorder=4,
                    clip_on=True)

    if result.roles:  # leader-based policies: role strips and elections
        from capsim.plot.roles import draw_roles

        draw_roles(ax, result, lay.replica_y, BAND_H, x_hi, legend, lang)

    # -- convergence and the linearizability break --------------------------
    conv = result.checks.get("convergence") or {}
    rep_top = min(lay.replica_y.values()) - 0.5
    rep_bot = max(lay.replica_y.values()) + 0.5
    if conv.get("last_heal") is not None:
        # Replicas that never disagreed "converge" at the heal itself: no news.
        if conv.get("converged") and conv.get("at") is not None and conv.get("time"):
            tc = float(conv["at"])
            ax.plot([tc, tc], [rep_top - 0.05, rep_bot + 0.05], color=style.CONVERGED, lw=2,
                    ls=(0, (2, 1.5)), zorder=5, gid="converged")
            # Near the right edge the label goes left of the line, so it is not cut off.
            near_end = tc > 0.8 * x_hi
            ax.text(tc + scale.units(-4 if near_end else 4), rep_bot + 0.02,
                    f"✓ {tr('plot.converged', lang)}",
                    ha="right" if near_end else "left", va="top", fontsize=small,
                    color=style.CONVERGED, fontweight="bold", zorder=6, clip_on=True,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5})
            legend.add("converged", Line2D([], [], color=style.CONVERGED, lw=2,
                                           ls=(0, (2, 1.5)),
                                           label=tr("plot.converged", lang)))
        elif not conv.get("converged") and conv.get("why"):
            # Not a bug (cp: a majority is enough, there is no anti-entropy): say why,
            # in a calm colour, instead of the red "not converged" of an AP failure.
            ax.text(x_hi, rep_bot + 0.02,
                    sentence("replicas differ at the end: {policy} has no anti-entropy (by design)",
                      lang, policy=result.policy),
                    ha="right", va="top", fontsize=small, color=style.MUTED, zorder=6,
                    gid="not-converged-why")
        elif not conv.get("converged"):
            ax.text(x_hi, rep_bot + 0.02, tr("plot.not converged", lang), ha="right",
                    va="top", fontsize=small, color=style.STALE, fontweight="bold", zorder=6)
    bt = style.break_time(result)
    if bt is not None:
        ax.axvline(bt, color=style.VIOLATION, lw=2, ls="--", zorder=2.5, gid="breaks")
        legend.add("breaks", Line2D([], [], color=style.VIOLATION, lw=2, ls="--",
                                    label=tr("plot.breaks here", lang)))

    # -- client lanes: one bar per request ----------------------------------
    stale = set(result.checks.get("stale_reads", {}).get("ops") or [])
    viol = set(style.violation(result).get("ops") or [])
    min_w = scale.units(11)
    next_start: dict[int, float] = {}  # invoke index -> start of the same client's next op
    last: dict[str, int] = {}
    for op in ops:
        if op.process in last:
            next_start[last[op.process]] = op.start
        last[op.process] = op.invoke.index
    edge_w = 1.0 if label_ops else 0.5
    for name, yc in lay.client_y.items():
        ax.axhline(yc, color="#E6E6E6", lw=0.8, zorder=0.5, gid=f"lane:client:{name}")
    for op in ops:
        if op.process not in lay.client_y:
            continue
        yc = lay.client_y[op.process]
        t0 = op.start
        t1 = op.complete.time if op.complete is not None else x_hi
        w = max(t1 - t0, min_w)
        idx = op.invoke.index
        is_stale = idx in stale
        is_viol = idx in viol
        kw: dict[str, Any] = {"lw": edge_w, "edgecolor": style.INK}
        if op.type == "ok":
            val = op.value if op.f == "read" else (
                op.invoke.value[1] if op.f == "cas" else op.invoke.value)
            kw["facecolor"] = colours(val)
            legend.add("ok", OkHandle(tr("plot.legend ok", lang)))
        elif op.type == "fail":
            kw["facecolor"] = style.FAIL_FILL
            kw["edgecolor"] = "#555555"
            legend.add("fail", Patch(facecolor=style.FAIL_FILL, edgecolor="#555555",
                                     label=tr("plot.legend fail", lang) + "  ✗"))
        else:
            kw.update(facecolor="white", edgecolor=style.INFO_EDGE, ls=(0, (3, 2)))
            legend.add("info", Patch(facecolor="white", edgecolor=style.INFO_EDGE,
                                     ls=(0, (3, 2)), label=tr("plot.legend info", lang) + "  ?"))
        # A stale read keeps its vermillion hatch even when it is also part of
        # a violation (it usually is): the violation then adds a purple frame.
        if is_stale:
            kw.update(hatch=style.HATCH_STALE, edgecolor=style.STALE, lw=2.2)
        elif is_viol:
            kw.update(hatch=style.HATCH_VIOLATION, edgecolor=style.VIOLATION, lw=2.2)
        if is_viol:
            legend.add("violation", Patch(facecolor="white", hatch=style.HATCH_VIOLATION,
                                          edgecolor=style.VIOLATION, lw=2.2,
                                          label=tr("plot.legend violation", lang)))
            if is_stale:
                pad_x, pad_y = scale.units(3), 0.09
                ax.add_artist(Rectangle((t0 - pad_x, yc - BAR_H / 2 - pad_y), w + 2 * pad_x,
                                        BAR_H + 2 * pad_y, facecolor="none", lw=2.0,
                                        edgecolor=style.VIOLATION, zorder=3.5,
                                        gid=f"frame:{idx}:violation"))
        if is_stale:
            legend.add("stale", Patch(facecolor="white", hatch=style.HATCH_STALE,
                                      edgecolor=style.STALE, lw=2.2,
                                      label=tr("plot.legend stale", lang)))
        tags = ":stale" if is_stale else ""
        tags += ":violation" if is_viol else ""
        ax.add_artist(Rectangle((t0, yc - BAR_H / 2), w, BAR_H, zorder=3,
                               gid=f"op:{idx}:{op.type}{tags}", **kw))
        if op.complete is None:
            ax.annotate("", xy=(x_hi, yc), xytext=(x_hi - scale.units(12), yc),
                        arrowprops={"arrowstyle": "->", "color": style.INFO_EDGE}, zorder=4)
        if not label_ops:
            continue
        text = op_label(op, lang, is_stale)
        colour = style.INK
        weight = "normal"
        if is_stale:
            colour, weight = style.STALE, "bold"
        elif is_viol:
            colour, weight = style.VIOLATION, "bold"
        text_w = _approx_text_pts(text, small)
        inside = scale.width(w) > text_w + 6 and not (is_stale or is_viol)
        # A label outside its bar must end before the lane's next bar starts;
        # when it cannot, the bar goes unlabelled (its colour and hatch still speak).
        x_text = t0 + w + scale.units(6 if is_viol else 3)
        if not inside:  # never let the dashed break line run through a label
            x_text = _past_break(x_text, text_w, bt, scale)
        room_to = min(next_start.get(idx, math.inf), x_hi)
        if not inside and x_text + scale.units(text_w + 4) > room_to:
            continue
        if inside:
            fill = kw["facecolor"]
            ax.text(t0 + w / 2, yc, text, ha="center", va="center", fontsize=small,
                    color=style.text_colour(fill) if fill != "white" else style.INK,
                    zorder=5, clip_on=True)
        else:
            ax.text(x_text, yc, text, ha="left",
                    va="center", fontsize=small, color=colour, fontweight=weight, zorder=5,
                    clip_on=True,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75,
                          "pad": 0.6})

    # -- axes dressing -------------------------------------------------------
    ticks: list[float] = []
    labels: list[str] = []
    for (node, key), yc in lay.replica_y.items():
        ticks.append(yc)
        labels.append(node if len(lay.keys) <= 1 else f"{node} · {key}")
    for (name, home) in clients_of(result):
        if name in lay.client_y:
            ticks.append(lay.client_y[name])
            labels.append(f"{name} → {home}" if home else name)
    ax.set_yticks(ticks, labels=labels)
    for lbl in ax.get_yticklabels()[:len(lay.replica_y)]:
        lbl.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, labelsize=10)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#EEEEEE", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    if lay.client_y:
        sep = min(lay.client_y.values()) - 0.5 - 0.225
        ax.axhline(sep, color="#BBBBBB", lw=0.8, zorder=1)
    _group_label(ax, tr("plot.replicas", lang), rep_top, rep_bot, labels)
    if lay.client_y:
        _group_label(ax, tr("plot.clients", lang), min(lay.client_y.values()) - 0.5,
                     max(lay.client_y.values()) + 0.5, labels)
    if lay.keys_total > len(lay.keys):
        ax.text(1.0, 1.0, f"{tr('plot.keys shown', lang)}: {', '.join(lay.keys)} "
                f"({len(lay.keys)}/{lay.keys_total})", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=8, color=style.MUTED)
    return lay, legend


def _past_break(x: float, text_pts: float, bt: float | None, scale: _Scale) -> float:
    """Where a left-aligned label starting at ``x`` goes so the break line at ``bt`` misses it."""
    if bt is None or not x - scale.units(2) <= bt <= x + scale.units(text_pts + 4):
        return x
    return bt + scale.units(4)


def _visible(t0: float, t1: float, hidden: Sequence[tuple[float, float]]
             ) -> list[tuple[float, float]]:
    """The parts of ``[t0, t1)`` not covered by any of the ``hidden`` spans."""
    parts = [(t0, t1)]
    for h0, h1 in hidden:
        nxt: list[tuple[float, float]] = []
        for a, b in parts:
            if h1 <= a or h0 >= b:
                nxt.append((a, b))
                continue
            if a < h0:
                nxt.append((a, h0))
            if h1 < b:
                nxt.append((h1, b))
        parts = nxt
    return parts


def _group_label(ax: Axes, text: str, top: float, bottom: float, labels: Sequence[str]) -> None:
    """``replicas`` / ``clients`` written sideways left of the lane names."""
    longest = max((_approx_text_pts(s, 10) for s in labels), default=20.0)
    ax.annotate(text, xy=(0, (top + bottom) / 2), xycoords=("axes fraction", "data"),
                xytext=(-longest - 14, 0), textcoords="offset points", rotation=90,
                ha="center", va="center", fontsize=9, color=style.MUTED, style="italic",
                annotation_clip=False)


def _title(ax: Axes, result: RunResult, lang: str, *, with_name: bool = True) -> None:
    left = f"{result.scenario.name} · {result.label}" if with_name else result.label
    ax.set_title(left, loc="left", fontsize=13, fontweight="bold", color=style.INK)
    ax.set_title(style.summary_line(result, lang), loc="right", fontsize=9.5,
                 color="#333333")


def want_metrics(results: Sequence[RunResult], metrics: bool | None) -> bool:
    """Resolve ``metrics=None``: a strip only when some run has enough requests."""
    if metrics is not None:
        return metrics
    return any(len(r.history) // 2 >= STRIP_MIN_OPS for r in results)


def lanes_height(lay: Layout) -> float:
    """Inches for the lanes of a run: enough for 10-point labels per row."""
    return 0.33 * lay.height + 0.5


def timeline(
    result: RunResult,
    ax: Axes | None = None,
    lang: str = "en",
    metrics: bool | None = None,
    *,
    window: float | None = None,
    label_ops: bool | None = None,
) -> Figure | Axes:
    """Draw one run: faults, replica values, client requests, metrics strip.

    ``metrics=None`` (the default) adds the strip of rates over time when the
    run has enough requests for a rate to mean something
    (:data:`STRIP_MIN_OPS`); with a handful, every request is already a bar
    in the lanes and a "rate" would only repeat them. ``True`` and ``False``
    force it on or off.
    With ``ax`` the lanes go into it (and the metrics strip into a new axes
    appended below it) and ``ax`` is returned; without, a new Figure is
    returned, ready for ``savefig`` or for a notebook to show.
    """
    from capsim.plot.metrics import draw_metrics

    colours = ValueColours([result])
    metrics = want_metrics([result], metrics)
    with style.plot_context(lang) as lang:
        if ax is not None:
            _, legend = draw_lanes(ax, result, colours, lang, label_ops=label_ops)
            _title(ax, result, lang)
            if metrics:
                from mpl_toolkits.axes_grid1 import make_axes_locatable

                strip = make_axes_locatable(ax).append_axes("bottom", size="30%", pad=0.35,
                                                            sharex=ax)
                draw_metrics(strip, result, lang, window=window)
                ax.tick_params(labelbottom=False)
            else:
                ax.set_xlabel(tr("time (s)", lang))
            ax.legend(handles=legend.handles(), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      frameon=False, handler_map=HANDLER_MAP)
            return ax
        lay = layout(result)
        fig = style.new_figure(11.0, lanes_height(lay) + (1.45 if metrics else 0.35) + 0.7)
        if metrics:
            gs = fig.add_gridspec(2, 1, height_ratios=[lanes_height(lay), 1.2])
            lanes_ax = fig.add_subplot(gs[0])
            strip = fig.add_subplot(gs[1], sharex=lanes_ax)
        else:
            lanes_ax = fig.add_subplot(1, 1, 1)
        _, legend = draw_lanes(lanes_ax, result, colours, lang, label_ops=label_ops)
        _title(lanes_ax, result, lang)
        if metrics:
            draw_metrics(strip, result, lang, window=window)
            lanes_ax.tick_params(labelbottom=False)
        else:
            lanes_ax.set_xlabel(tr("time (s)", lang))
        add_figure_legend(fig, legend)
        return fig


def legend_columns(labels: Sequence[str], width_in: float, fontsize: float = 9.0) -> int:
    """The most legend columns that fit across ``width_in`` inches.

    matplotlib fills a legend column by column and makes each column as wide
    as its widest entry; too many columns run off both sides of the figure.
    """
    entry = [_approx_text_pts(s, fontsize) + 3.2 * fontsize for s in labels]  # handle + pads
    room = width_in * 72 * 0.95
    n = len(entry)
    for ncol in range(n, 0, -1):
        # matplotlib's split: the first n % ncol columns hold one entry more.
        sizes = [n // ncol + (1 if c < n % ncol else 0) for c in range(ncol)]
        cols, i = [], 0
        for size in sizes:
            cols.append(entry[i:i + size])
            i += size
        width = sum(max(c) for c in cols if c) + 1.6 * fontsize * (ncol - 1)
        if width <= room:
            return ncol
    return 1


def add_figure_legend(fig: Figure, legend: Legend) -> None:
    handles = legend.handles()
    if handles:
        ncol = legend_columns([h.get_label() for h in handles], fig.get_size_inches()[0])
        fig.legend(handles=handles, loc="outside lower center", ncol=ncol,
                   frameon=False, handlelength=2.2, handler_map=HANDLER_MAP,
                   handleheight=1.1, columnspacing=1.6)


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
    from capsim.records import TraceEntry
    from capsim.result import Fault, RunResult

#: Ops drawn with labels when a run has at most this many (more would overlap).
LABEL_LIMIT = 40
#: Below this many requests the metrics strip is left out by default.
STRIP_MIN_OPS = 12
#: Replica lanes show at most this many keys each (each key is a sub-lane).
MAX_KEYS = 4
#: Above this many value bands in all, bands are one collection (no per-band artist).
BAND_LIMIT = 300
#: Above this many requests the client lanes show shares per time slice (see docs/big-runs.md).
AGGREGATE_OPS = 3000
#: Time slices across the picture: about one per pixel column of an 11-inch figure.
PIXEL_BINS = 800
#: In a big run, up to this many stale reads also get a tick each above their lane.
STALE_TICKS = 400

#: Answered requests in a big run's share strips: a neutral tone, not a value colour.
ANSWERED = "#8FA8BF"
_OTHER_RGBA = (0.957, 0.945, 0.918, 1.0)  # style.OTHER_VALUE as matplotlib reports it
BAND_H = 0.72
BAR_H = 0.62


@dataclass
class Legend:
    """Legend entries collected while drawing, in a fixed order, deduplicated."""

    entries: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    busy_label: str = ""

    def add(self, key: str, artist: Any) -> None:
        self.entries.setdefault(key, artist)

    def merge(self, other: Legend) -> None:
        self.busy_label = self.busy_label or other.busy_label
        for k, v in other.values.items():
            self.values.setdefault(k, v)
        for k, v in other.entries.items():
            self.entries.setdefault(k, v)

    _ORDER = ("current", "behind", "ok", "fail", "info", "stale", "missed", "locked",
              "partition", "crash", "converged", "breaks", "leader", "candidate")

    def handles(self, max_values: int = 8) -> list[Any]:
        # Values past the palette share one "other values" entry, listed last.
        vals = sorted(self.values.values(), key=lambda p: p.get_facecolor() == _OTHER_RGBA)
        if len(vals) > max_values:  # busy: colours are reused, one entry says how
            vals = [OkHandle(self.busy_label)]
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
    op_texts: list[Any] = field(default_factory=list)
    keep_texts: list[Any] = field(default_factory=list)


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
    legend = Legend(busy_label=tr("plot.values busy", lang))
    span = lay.xmax if lay.xmax > 0 else 1.0
    x_hi = span * 1.01
    ax.set_xlim(0, x_hi)
    ax.set_ylim(lay.height + 0.15, -0.1)
    scale = _Scale(ax, x_hi)
    ops = result.history.operations()
    if label_ops is None:
        label_ops = len(ops) <= LABEL_LIMIT
    small = 8.5
    aggregate = len(ops) > AGGREGATE_OPS and not label_ops
    op_texts: list[Any] = []  # request labels, for declutter once the figure is laid out
    keep_texts: list[Any] = []  # fault and value labels: the others avoid them
    lock_texts: list[Any] = []  # "G2 locked": before request labels

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
        keep_texts.append(ax.text(
            f.start + (f.end - f.start) / 2 if fits else x_fault,
            y0 + 0.3, text, ha="center" if fits else "left", va="center",
            fontsize=9, color="white" if fits else colour, fontweight="bold", zorder=4,
            clip_on=True))
        if f.kind == "crash":
            legend.add("crash", Patch(facecolor=style.CRASH_BAR, hatch=style.HATCH_CRASH,
                                      edgecolor="white", label=tr("plot.legend crash", lang)))
        else:
            legend.add("partition", Patch(facecolor=style.PARTITION_SHADE,
                                          edgecolor=style.PARTITION_BAR,
                                          label=tr("plot.legend partition", lang)))

    # -- replica lanes: one band per value held ------------------------------
    by_lane: dict[tuple[str, str], list[tuple[float, Any]]] = {}
    if aggregate:  # a big run's trace stays in its columns: no tuple per store
        lag = _LagTrace(result.trace)
    else:
        for t in sorted(result.trace, key=lambda e: e.time):
            if (t.node, t.key) in lay.replica_y:
                by_lane.setdefault((t.node, t.key), []).append((t.time, t.value))
    down: dict[str, list[tuple[float, float]]] = {}
    for f in result.faults:
        if f.kind == "crash":
            down.setdefault(f.groups[0][0], []).append((f.start, f.end))
    many = aggregate or sum(len(s) for s in by_lane.values()) > BAND_LIMIT
    band_verts: list[Any] = []
    band_fills: list[str] = []
    for (node, key), yc in lay.replica_y.items():
        ax.axhline(yc, color="#DDDDDD", lw=0.8, zorder=0.5, gid=f"lane:replica:{node}:{key}")
        if aggregate:  # a big run: whether the replica is behind, not which value
            for t0, t1, behind in lag.bands(node, key, x_hi, PIXEL_BINS):
                y0, y1 = yc - BAND_H / 2, yc + BAND_H / 2
                band_verts.append(((t0, y0), (t1, y0), (t1, y1), (t0, y1)))
                band_fills.append(style.LANE_BEHIND if behind else style.LANE_CURRENT)
                legend.add("behind" if behind else "current", Patch(
                    facecolor=style.LANE_BEHIND if behind else style.LANE_CURRENT,
                    label=tr("plot.legend behind" if behind else "plot.legend current", lang)))
            continue
        seq = by_lane.get((node, key), [])
        if len(seq) > 2 * PIXEL_BINS:
            seq = resample(seq, x_hi, PIXEL_BINS)
        for j, (t0, v) in enumerate(seq):
            t1 = seq[j + 1][0] if j + 1 < len(seq) else x_hi
            if v is None or t1 <= t0:
                continue
            fill = colours(v)
            if many:
                y0, y1 = yc - BAND_H / 2, yc + BAND_H / 2
                band_verts.append(((t0, y0), (t1, y0), (t1, y1), (t0, y1)))
                band_fills.append(fill)
            else:
                ax.add_artist(Rectangle((t0, yc - BAND_H / 2), t1 - t0, BAND_H, facecolor=fill,
                                       edgecolor="white", lw=0.8, zorder=2,
                                       gid=f"band:{node}:{key}:{j}"))
            label = show_value(v)
            need = scale.units(_approx_text_pts(label, 10) + 8)
            for a, b in _visible(t0, t1, down.get(node, [])):
                if b - a > need:  # the first stretch not hidden by a crash
                    keep_texts.append(ax.text(
                        a + scale.units(5), yc, label, ha="left", va="center", fontsize=10,
                        fontweight="bold", color=style.text_colour(fill), zorder=4,
                        clip_on=True, gid=f"bandlabel:{node}:{key}:{j}"))
                    break
            if fill == style.OTHER_VALUE:  # one legend entry for all of them
                legend.values.setdefault("\x00other", Patch(
                    facecolor=fill, edgecolor="#BBBBBB", label=tr("plot.other values", lang)))
            else:
                legend.values.setdefault(
                    label, Patch(facecolor=fill, edgecolor="white",
                                 label=f"{tr('plot.value', lang)} {label}"))
    if band_verts:  # one artist for every band of every replica
        from matplotlib.collections import PolyCollection

        ax.add_collection(PolyCollection(band_verts, facecolors=band_fills, edgecolors="none",
                                         zorder=2, gid="bands"), autolim=False)
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

    # -- replica states a policy reported (lock: "locked") --------------------
    for (node, key), (t0, t1) in _locked_spans(result, x_hi):
        if (node, key) not in lay.replica_y:
            continue
        yc = lay.replica_y[(node, key)]
        ax.add_artist(Rectangle((t0, yc - BAND_H / 2), t1 - t0, BAND_H, facecolor="none",
                               hatch=style.HATCH_LOCKED, edgecolor=style.LOCKED, lw=1.6,
                               zorder=3.2, gid=f"locked:{node}:{key}:{t0:g}"))
        text = f"{node} {tr('plot.locked', lang)}"
        need = scale.units(_approx_text_pts(text, small) + 6)
        x_text = t0 + scale.units(3) if t1 - t0 > need else t1 + scale.units(3)
        lock_texts.append(ax.text(
            x_text, yc, text, ha="left", va="center", fontsize=small,
            color=style.INK, fontweight="bold", zorder=6, clip_on=True, gid=f"lockedlabel:{node}",
            bbox={"facecolor": "white", "edgecolor": style.LOCKED, "lw": 0.6, "pad": 0.8}))
        legend.add("locked", Patch(facecolor="white", hatch=style.HATCH_LOCKED,
                                   edgecolor=style.LOCKED, lw=1.6,
                                   label=tr("plot.legend locked", lang)))
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
    bars: dict[int, tuple[float, float, float]] = {}  # invoke index -> (x0, x1, y)
    batch = _Batch() if not label_ops else None
    if aggregate:
        _draw_shares(ax, ops, lay, stale, x_hi, lang, legend)
    for op in ops:
        if op.process not in lay.client_y:
            continue
        if aggregate:  # only the ops a violation arrow needs
            if op.invoke.index in viol:
                end = op.complete.time if op.complete is not None else x_hi
                bars[op.invoke.index] = (op.start, max(end, op.start + min_w),
                                         lay.client_y[op.process])
            continue
        yc = lay.client_y[op.process]
        t0 = op.start
        t1 = op.complete.time if op.complete is not None else x_hi
        w = max(t1 - t0, min_w)
        idx = op.invoke.index
        bars[idx] = (t0, t0 + w, yc)
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
        # A stale read is hatched vermillion. An op in a linearizability
        # violation gets no mark of its own (the acknowledged write did
        # nothing wrong): the arrow drawn below shows the relation instead.
        if is_stale:
            kw.update(hatch=style.HATCH_STALE, edgecolor=style.STALE, lw=2.2)
            legend.add("stale", Patch(facecolor="white", hatch=style.HATCH_STALE,
                                      edgecolor=style.STALE, lw=2.2,
                                      label=tr("plot.legend stale", lang)))
        tags = ":stale" if is_stale else ""
        tags += ":violation" if is_viol else ""
        if batch is not None:
            batch.add(idx, t0, yc - BAR_H / 2, w, BAR_H, kw)
        else:
            ax.add_artist(Rectangle((t0, yc - BAR_H / 2), w, BAR_H, zorder=3,
                                   gid=f"op:{idx}:{op.type}{tags}", **kw))
        if op.complete is None:
            ax.annotate("", xy=(x_hi, yc), xytext=(x_hi - scale.units(12), yc),
                        arrowprops={"arrowstyle": "->", "color": style.INFO_EDGE}, zorder=4)
        if not label_ops:
            continue
        room_to = min(next_start.get(idx, math.inf), x_hi)
        op_texts.append(_label_bar(ax, scale, op, lang, is_stale, t0, w, yc, room_to,
                                   kw["facecolor"], small, bt))
    if batch is not None:
        batch.draw(ax)
    _draw_violations(ax, result, bars, lang, legend)
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
    lay.op_texts = lock_texts + op_texts
    lay.keep_texts = keep_texts
    return lay, legend


def _locked_spans(result: RunResult, end: float
                  ) -> list[tuple[tuple[str, str], tuple[float, float]]]:
    """When each replica's key was locked, from the run's ``marks`` (lock policy)."""
    spans: list[tuple[tuple[str, str], tuple[float, float]]] = []
    since: dict[tuple[str, str], float] = {}
    for m in sorted(getattr(result, "marks", []) or [], key=lambda m: m.time):
        lane = (m.node, m.key)
        if m.mark == "locked":
            since.setdefault(lane, m.time)
        elif lane in since:
            t0 = since.pop(lane)
            if m.time > t0:
                spans.append((lane, (t0, m.time)))
    spans.extend((lane, (t0, end)) for lane, t0 in since.items() if end > t0)
    return spans


def _draw_shares(ax: Axes, ops: Sequence[Operation], lay: Layout, stale: set[int], end: float,
                 lang: str, legend: Legend) -> None:
    """Client lanes of a big run: per time slice, how the client's waiting time ended.

    Each slice (:data:`PIXEL_BINS` across) is a stacked strip of the time
    the client spent in requests that were answered (the answered colour),
    answered stale (vermillion), refused (grey) or never answered (white,
    dashed edge), as shares of its busy time in the slice; an idle slice is
    empty. A client stuck for 0.4 s on each refused request during a
    partition is thus solid grey, not a few slivers. One collection per
    outcome; when stale reads are few (:data:`STALE_TICKS`) each also gets a
    tick above its lane, so a handful among 100,000 requests still shows.
    """
    import numpy as np
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Patch

    edges = np.linspace(0.0, end, PIXEL_BINS + 1)
    looks = {"ok": (ANSWERED, "none", "solid"), "stale": (style.STALE, "none", "solid"),
             "fail": (style.FAIL_FILL, "none", "solid"),
             "info": ("white", style.INFO_EDGE, "dashed")}
    verts: dict[str, list[Any]] = {k: [] for k in looks}
    ticks: list[Any] = []
    by_client: dict[str, list[Operation]] = {}
    for op in ops:
        by_client.setdefault(op.process, []).append(op)
    for name, yc in lay.client_y.items():
        mine = by_client.get(name, [])
        kinds = np.array(["stale" if op.invoke.index in stale else op.type for op in mine])
        starts = np.fromiter((op.start for op in mine), dtype=float, count=len(mine))
        ends = np.fromiter((op.complete.time if op.complete is not None else end
                            for op in mine), dtype=float, count=len(mine))
        # An instant request (a local ap write) still counts for half a slice.
        ends = np.maximum(ends, starts + 0.5 * (edges[1] - edges[0]))
        counts = {k: np.diff(_covered(starts[kinds == k], ends[kinds == k], edges))
                  for k in looks}
        total = sum((counts[k] for k in looks), np.zeros(PIXEL_BINS))
        base = np.full(PIXEL_BINS, yc + BAR_H / 2)  # y grows downwards: stack upwards
        for k in ("ok", "stale", "fail", "info"):
            with np.errstate(invalid="ignore", divide="ignore"):
                h = np.where(total > 0, BAR_H * counts[k] / np.where(total > 0, total, 1.0),
                             0.0)
            for i in np.flatnonzero(h):
                x0, x1 = edges[i], edges[i + 1]
                y0, y1 = base[i], base[i] - h[i]
                verts[k].append(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
            base = base - h
        for op in mine:
            if op.invoke.index in stale:
                ticks.append(((op.start, yc - BAR_H / 2 - 0.17), (op.start, yc - BAR_H / 2)))
    for k, (fc, ec, ls) in looks.items():
        if verts[k]:
            ax.add_collection(PolyCollection(verts[k], facecolors=fc, edgecolors=ec,
                                             linewidths=0.6 if ec != "none" else 0,
                                             linestyles=ls, zorder=3, gid=f"shares:{k}"),
                              autolim=False)
    legend.add("ok", Patch(facecolor=ANSWERED, label=tr("plot.legend shares", lang)))
    if verts["fail"]:
        legend.add("fail", Patch(facecolor=style.FAIL_FILL, edgecolor="#555555",
                                 label=tr("plot.legend fail", lang) + "  ✗"))
    if verts["info"]:
        legend.add("info", Patch(facecolor="white", edgecolor=style.INFO_EDGE, ls=(0, (3, 2)),
                                 label=tr("plot.legend info", lang) + "  ?"))
    if verts["stale"]:
        legend.add("stale", Patch(facecolor=style.STALE, label=tr("plot.legend stale share",
                                                                   lang)))
    if 0 < len(ticks) <= STALE_TICKS:
        # A few stale reads among many requests would be a sliver of a slice:
        # each also gets a tick above its lane, so not one goes unseen.
        ax.add_collection(LineCollection(ticks, colors=style.STALE, linewidths=1.2, zorder=4,
                                         gid="stale-ticks"), autolim=False)


def _covered(starts: Any, ends: Any, at: Any) -> Any:
    """Total time inside the intervals ``[starts, ends)`` before each instant of ``at``.

    Sum over intervals of ``clip(x - start, 0, end - start)``, computed with
    sorted prefix sums: O((n + m) log n) rather than O(n × m).
    """
    import numpy as np

    def before(points: Any) -> Any:
        p = np.sort(points)
        csum = np.concatenate([[0.0], np.cumsum(p)])
        n = np.searchsorted(p, at, side="left")
        return at * n - csum[n]

    return before(starts) - before(ends)


class _LagTrace:
    """A replica trace sorted by time, in columns, for the big-run lanes (:meth:`bands`)."""

    def __init__(self, trace: Sequence[TraceEntry]) -> None:
        import numpy as np

        from capsim.journal import trace_columns

        cols = trace_columns(trace)
        times = np.array(cols.time, dtype=float)  # a copy: the log stays appendable
        order = np.argsort(times, kind="stable")  # as sorted(trace, key=time)
        self.times = times[order]
        self.node = np.asarray(cols.node, dtype=np.int64)[order]
        self.key = np.asarray(cols.key, dtype=np.int64)[order]
        self.value = np.asarray(cols.value, dtype=np.int64)[order]
        self.node_code = {n: i for i, n in enumerate(cols.nodes)}
        self.key_code = {k: i for i, k in enumerate(cols.keys)}
        self.values = cols.values

    def bands(self, node: str, key: str, end: float, bins: int
              ) -> list[tuple[float, float, bool]]:
        """``lag_bands`` of replica ``node``'s lane for ``key``."""
        n, k = self.node_code.get(node), self.key_code.get(key)
        if n is None or k is None:
            return []
        of_key = self.key == k
        mine = of_key & (self.node == n)
        return lag_bands(self.times[mine], self.value[mine], self.times[of_key],
                         self.value[of_key], self.values, end, bins)


def lag_bands(times: Any, codes: Any, store_times: Any, store_codes: Any,
              values: Sequence[Any], end: float, bins: int) -> list[tuple[float, float, bool]]:
    """(start, end, behind) stretches of a replica lane, one decision per time slice.

    *Behind*: at the middle of the slice the replica holds a value other
    than the one most recently stored by any replica (the newest write to
    reach anyone). A replica cut off by a partition is behind for as long
    as writes go on elsewhere — the stretch a student should see.
    ``times``/``codes`` are the lane's stores in time order (``values[code]``
    is the value), ``store_times``/``store_codes`` every replica's for the key.
    """
    import numpy as np

    if not len(times) or not len(store_times):
        return []
    edges = np.linspace(0.0, end, bins + 1)
    mids = (edges[:-1] + edges[1:]) / 2
    mine = np.searchsorted(times, mids, "right") - 1
    last = np.searchsorted(store_times, mids, "right") - 1
    out: list[tuple[float, float, bool]] = []
    for k in range(bins):
        if mine[k] < 0:
            continue
        behind = bool(last[k] >= 0
                      and values[codes[mine[k]]] != values[store_codes[last[k]]])
        if out and out[-1][2] == behind and out[-1][1] == edges[k]:
            out[-1] = (out[-1][0], float(edges[k + 1]), behind)
        else:
            out.append((float(edges[k]), float(edges[k + 1]), behind))
    return out


def resample(seq: list[tuple[float, Any]], end: float, bins: int
             ) -> list[tuple[float, Any]]:
    """A lane's (time, value) changes as seen at ``bins`` instants across ``[0, end)``.

    A lane that changes value thousands of times cannot show each band (most
    are narrower than a pixel): this keeps, per time slice, the value held
    at its middle, and merges equal neighbours. A value held for a long
    stretch (a replica cut off by a partition) stays one band.
    """
    import numpy as np

    times = np.fromiter((t for t, _ in seq), dtype=float, count=len(seq))
    edges = np.linspace(0.0, end, bins + 1)
    mids = (edges[:-1] + edges[1:]) / 2
    idx = np.searchsorted(times, mids, side="right") - 1
    out: list[tuple[float, Any]] = []
    last = -2
    for k, i in enumerate(idx.tolist()):
        if i < 0 or i == last:
            continue
        v = seq[i][1]
        if out and out[-1][1] == v:
            last = i
            continue
        out.append((float(edges[k]), v))
        last = i
    return out


def short_label(op: Operation, lang: str) -> str:
    """The shortest word for a request: ``R``/``W`` (读/写) plus ✗ or ? for its outcome."""
    text = tr(f"plot.{op.f} short", lang)
    if op.type == "fail":
        return text + "✗"
    if op.type == "info":
        return text + "?"
    return text


def medium_label(op: Operation, lang: str) -> str:
    """``write v2 ?`` / ``read ✗`` / ``read v0``: the full label without the reason."""
    verb = tr(op.f, lang)
    if op.f in ("write", "cas"):
        what = f"{verb} {show_value(op.invoke.value)}"
    else:
        what = verb if op.type != "ok" else f"{verb} {show_value(op.value)}"
    return what + {"fail": " ✗", "info": " ?"}.get(op.type, "")


def _label_bar(ax: Axes, scale: _Scale, op: Operation, lang: str, is_stale: bool,
               t0: float, w: float, yc: float, room_to: float, fill: str, size: float,
               bt: float | None = None) -> Any:
    """Label a request bar with the longest wording that fits, inside it or just after it.

    Tried in order: the full label (``write v1 ✗ refused``), the medium one
    (``write v1 ✗``), the short one (``W✗``); each inside the bar, then
    after it when it ends before the lane's next bar. A stale read's label
    is always outside, in bold vermillion. Every bar gets at least ``R``/``W``.
    """
    colour, weight = (style.STALE, "bold") if is_stale else (style.INK, "normal")
    gid = f"oplabel:{op.invoke.index}"
    words = [op_label(op, lang, is_stale), medium_label(op, lang), short_label(op, lang)]
    if op.f in ("write", "cas") or op.type == "ok":  # W v2? keeps the value
        value = op.invoke.value if op.f != "read" else op.value
        words.insert(2, f"{tr(f'plot.{op.f} short', lang)} {show_value(value)}"
                        + {"fail": "✗", "info": "?"}.get(op.type, ""))
    if is_stale:
        words[1] = f"{medium_label(op, lang)} ({tr('stale', lang)})"
    for text in words:
        text_w = _approx_text_pts(text, size)
        # Never let the dashed break line run through a label beside its bar.
        x_out = _past_break(t0 + w + scale.units(3), text_w, bt, scale)
        if not is_stale and scale.width(w) > text_w + 4:
            return ax.text(t0 + w / 2, yc, text, ha="center", va="center", fontsize=size,
                           color=style.text_colour(fill) if fill != "white" else style.INK,
                           zorder=5, clip_on=True, gid=gid)
        if x_out + scale.units(text_w + 4) <= room_to:
            return ax.text(x_out, yc, text, ha="left", va="center", fontsize=size, color=colour,
                           fontweight=weight, zorder=5, clip_on=True, gid=gid,
                           bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75,
                                 "pad": 0.6})
    # Nothing fits anywhere: the short word on the bar itself, in a smaller size.
    return ax.text(t0 + w / 2, yc, words[-1], ha="center", va="center", fontsize=size - 1.5,
                   color=style.text_colour(fill) if fill != "white" else style.INK,
                   zorder=5, clip_on=True, gid=gid)


class _Batch:
    """Request bars gathered into one PolyCollection per look (solid, dashed, hatched).

    Thousands of Rectangles cost a Python object and a draw call each; a
    collection is one artist whatever the count. ``capsim_ops`` on each
    collection lists the invoke indices of its bars, in order, for tests.
    """

    def __init__(self) -> None:
        self.groups: dict[tuple[Any, ...], dict[str, list[Any]]] = {}

    def add(self, idx: int, x: float, y: float, w: float, h: float, kw: dict[str, Any]) -> None:
        ls = kw.get("ls", "solid")
        look = (kw.get("hatch"), str(ls), float(kw.get("lw", 0.5)))
        g = self.groups.setdefault(look, {"verts": [], "fc": [], "ec": [], "ops": []})
        g["verts"].append(((x, y), (x + w, y), (x + w, y + h), (x, y + h)))
        g["fc"].append(kw["facecolor"])
        g["ec"].append(kw.get("edgecolor", style.INK))
        g["ops"].append(idx)

    def draw(self, ax: Axes) -> None:
        from matplotlib.collections import PolyCollection

        for (hatch, ls, lw), g in self.groups.items():
            kind = "stale" if hatch == style.HATCH_STALE else "info" if ls != "solid" else "bars"
            coll = PolyCollection(g["verts"], facecolors=g["fc"], edgecolors=g["ec"],
                                  linewidths=lw, hatch=hatch, zorder=3, gid=f"ops:{kind}",
                                  linestyles=(0, (3, 2)) if ls != "solid" else "solid")
            coll.capsim_ops = list(g["ops"])  # type: ignore[attr-defined]
            ax.add_collection(coll, autolim=False)


def missed_writes(result: RunResult) -> list[tuple[int, int]]:
    """(acknowledged write, the read that missed it) for each key that is not linearizable.

    The checker names the operation where linearizability breaks; when that
    is a read, the write it missed is the latest write in the checker's
    witness acknowledged before the read began whose value it did not return.
    """
    lin = style.violation(result)
    per_key = [v for v in (lin.get("keys") or {}).values() if isinstance(v, dict)] or [lin]
    out: list[tuple[int, int]] = []
    for k in per_key:
        if k.get("linearizable") is not False:
            continue
        details = {d["index"]: d for d in k.get("op_details") or [] if "index" in d}
        brk = details.get(k.get("break_op"))
        if brk is None or brk.get("f") != "read" or brk.get("type") != "ok":
            continue
        writes = [d for d in details.values()
                  if d.get("f") in ("write", "cas") and d.get("type") == "ok"
                  and d.get("end") is not None and d["end"] <= brk["start"]
                  and d.get("value") != brk.get("value")]
        if writes:
            w = max(writes, key=lambda d: (d["end"], d["index"]))
            out.append((w["index"], brk["index"]))
    return out


def _draw_violations(ax: Axes, result: RunResult, bars: dict[int, tuple[float, float, float]],
                     lang: str, legend: Legend) -> None:
    """An arrow from each acknowledged write to the read that missed it."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    for w, r in missed_writes(result):
        if w not in bars or r not in bars:
            continue
        wx0, wx1, wy = bars[w]
        rx0, _, ry = bars[r]
        # From the write bar's edge facing the read (its label sits to the right).
        wy_edge = wy + (BAR_H / 2 if ry > wy else -BAR_H / 2 if ry < wy else 0.0)
        ax.add_artist(FancyArrowPatch(
            ((wx0 + wx1) / 2, wy_edge), (rx0, ry), arrowstyle="-|>", mutation_scale=12,
            color=style.VIOLATION, lw=1.8, zorder=6, shrinkA=0, shrinkB=1,
            connectionstyle="arc3,rad=0.2",
            gid=f"missed:{w}->{r}"))
        legend.add("missed", Line2D([], [], color=style.VIOLATION, lw=1.8, marker=">",
                                    markevery=[1], label=tr("plot.legend missed", lang)))


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
            lay, legend = draw_lanes(ax, result, colours, lang, label_ops=label_ops)
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
            style.declutter(ax.figure, lay.op_texts, lay.keep_texts)
            return ax
        lay = layout(result)
        fig = style.new_figure(11.0, lanes_height(lay) + (1.45 if metrics else 0.35) + 0.7)
        if metrics:
            gs = fig.add_gridspec(2, 1, height_ratios=[lanes_height(lay), 1.2])
            lanes_ax = fig.add_subplot(gs[0])
            strip = fig.add_subplot(gs[1], sharex=lanes_ax)
        else:
            lanes_ax = fig.add_subplot(1, 1, 1)
        lay, legend = draw_lanes(lanes_ax, result, colours, lang, label_ops=label_ops)
        _title(lanes_ax, result, lang)
        if metrics:
            draw_metrics(strip, result, lang, window=window)
            lanes_ax.tick_params(labelbottom=False)
        else:
            lanes_ax.set_xlabel(tr("time (s)", lang))
        add_figure_legend(fig, legend)
        style.declutter(fig, lay.op_texts, lay.keep_texts)
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


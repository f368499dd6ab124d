"""The look shared by every capsim picture: colours, words, fonts, sizes.

One place decides what a value, an outcome or a fault looks like, so the
timeline, the message diagram and the comparison read the same way and a
student who learnt one picture can read the others. Colours come from the
Okabe-Ito palette (readable by colour-blind students); every highlight also
has a hatch or a line style, so a greyscale print still tells them apart.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from capsim.i18n import LANGS, add_words, tr

# Re-exported: the pictures read the colours (plain data in capsim.palette) from here.
from capsim.palette import (
    AVAILABILITY_LINE,  # noqa: F401
    CONVERGED,  # noqa: F401
    CRASH_BAR,  # noqa: F401
    FAIL_FILL,  # noqa: F401
    INFO_EDGE,  # noqa: F401
    INK,
    KIND_COLOURS,  # noqa: F401
    LANE_BEHIND,  # noqa: F401
    LANE_CURRENT,  # noqa: F401
    LOCKED,  # noqa: F401
    MUTED,  # noqa: F401
    OTHER_VALUE,
    PARTITION_BAR,  # noqa: F401
    PARTITION_SHADE,
    STALE,  # noqa: F401
    TARGET_LINE,  # noqa: F401
    VALUE_COLOURS,
    VIOLATION,  # noqa: F401
    policy_style,  # noqa: F401
    series_styles,  # noqa: F401
)

if TYPE_CHECKING:
    from capsim.result import Fault, RunResult

# --- colours -------------------------------------------------------------
# The scheme is plain data in capsim.palette (the HTML report and notebooks
# read it without matplotlib); it is re-exported here for the pictures.
HATCH_STALE = "////"
HATCH_VIOLATION = "xxx"
HATCH_CRASH = "\\\\\\"
HATCH_LOCKED = "..."

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DPI = 150

add_words({
    "plot.replicas": {"en": "replicas", "zh": "副本"},
    "plot.clients": {"en": "clients", "zh": "客户端"},
    "plot.network": {"en": "faults", "zh": "故障"},
    "plot.partitioned": {"en": "partitioned", "zh": "网络分区"},
    "plot.cut": {"en": "cut", "zh": "单向断开"},
    "plot.down": {"en": "down", "zh": "宕机"},
    "plot.converged": {"en": "converged", "zh": "已收敛"},
    "plot.not converged": {"en": "not converged by the end", "zh": "运行结束仍未收敛"},
    "plot.breaks here": {"en": "not linearizable from here", "zh": "从此处起不再线性一致"},
    "plot.refused": {"en": "refused", "zh": "拒绝"},
    "plot.no answer": {"en": "no answer", "zh": "无应答"},
    "plot.legend ok": {"en": "answered (ok)", "zh": "成功应答"},
    "plot.legend fail": {"en": "refused (fail)", "zh": "拒绝 (失败)"},
    "plot.legend info": {"en": "no answer (info)", "zh": "无应答 (未知)"},
    "plot.legend stale": {"en": "stale read", "zh": "过期读"},
    "plot.legend violation": {"en": "in a linearizability violation", "zh": "违反线性一致的操作"},
    "plot.legend partition": {"en": "network partition", "zh": "网络分区"},
    "plot.legend crash": {"en": "replica down", "zh": "副本宕机"},
    "plot.value": {"en": "value", "zh": "值"},
    "plot.messages": {"en": "messages between replicas", "zh": "副本之间的消息"},
    "plot.delivered": {"en": "delivered", "zh": "已送达"},
    "plot.lost": {"en": "lost (random loss)", "zh": "丢失 (随机丢包)"},
    "plot.cut msg": {"en": "dropped at a cut link", "zh": "因断网丢弃"},
    "plot.down msg": {"en": "dropped: node down", "zh": "因节点宕机丢弃"},
    "plot.metrics": {"en": "over time", "zh": "随时间变化"},
    "plot.stale rate": {"en": "stale reads (share of reads, %)", "zh": "过期读（占读的 %）"},
    "plot.availability rate": {"en": "availability (% answered)", "zh": "可用性 (应答 %)"},
    "plot.window": {"en": "rolling window", "zh": "滑动窗口"},
    "plot.during": {"en": "during partition", "zh": "分区期间"},
    "plot.keys shown": {"en": "keys shown", "zh": "显示的键"},
    "plot.timeline": {"en": "timeline", "zh": "时间线"},
    "plot.compare": {"en": "the same story under each policy", "zh": "同一场景在不同策略下"},
    "plot.read short": {"en": "R", "zh": "读"},
    "plot.write short": {"en": "W", "zh": "写"},
    "plot.cas short": {"en": "C", "zh": "比"},
    "plot.legend missed": {"en": "acknowledged write → the read that missed it",
                           "zh": "已确认的写 → 没有读到它的读"},
    "plot.locked": {"en": "locked", "zh": "已加锁"},
    "plot.legend locked": {"en": "replica locked (refuses reads and writes)",
                           "zh": "副本已加锁 (拒绝读写)"},
    "plot.other values": {"en": "other values (named on the band)",
                          "zh": "其他值 (名称写在色带上)"},
    "plot.legend shares": {"en": "share of requests answered (per time slice)",
                           "zh": "已应答请求的比例 (每个时间片)"},
    "plot.legend stale share": {"en": "share of stale reads (a tick each, when few)",
                                "zh": "过期读的比例 (数量少时每次一条刻线)"},
    "plot.legend current": {"en": "replica holds the newest value",
                            "zh": "副本持有最新的值"},
    "plot.legend behind": {"en": "replica behind the newest write",
                           "zh": "副本落后于最新的写"},
    "plot.values busy": {"en": "value (a colour is one value at a time; names on the bands)",
                         "zh": "值 (同一时刻一种颜色只代表一个值; 名称写在色带上)"},
})


def show_value(v: Any) -> str:
    """Strings as they are (``v1``); anything else the way JSON writes it."""
    if isinstance(v, str):
        return v
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return f"{show_value(v[0])}→{show_value(v[1])}"
    return json.dumps(v, ensure_ascii=False)


def _key(v: Any) -> str:
    """A hashable, type-aware identity for a value (``1`` and ``"1"`` differ)."""
    if type(v) is str:  # the common case, fast: JSON text never starts with "s:"
        return "s:" + v
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


value_key = _key


class ValueColours:
    """A colour per value, the same in every lane and every panel, never ambiguous.

    A value *lives* from the first to the last moment it is drawn anywhere
    (held by a replica, written, or returned by a read), across all the runs
    given. Values get colours in the order they appear, initial values first,
    so ``v0`` is the same blue under cp and ap. A colour is handed to a new
    value only once the value that had it has been gone for a while
    (:data:`REUSE_GAP` of the time axis): two values that share a colour are
    never on screen at the same time, so around any instant a colour names
    one value. When more values live at once than there are colours, the
    extra ones are drawn in the neutral :data:`OTHER_VALUE` with their name.
    """

    #: Fraction of the time axis a colour rests before another value gets it.
    REUSE_GAP = 0.05

    def __init__(self, results: Iterable[RunResult]) -> None:
        self._results = list(results)
        self._colour: dict[str, str] | None = None  # worked out on first use

    def _assign(self) -> dict[str, str]:
        results = self._results
        life: dict[str, list[float]] = {}  # key -> [first, last]
        first_seen: dict[str, int] = {}
        span = 0.0

        def see(v: Any, t0: float, t1: float) -> None:
            if v is None:
                return
            k = _key(v)
            cur = life.get(k)
            if cur is None:
                life[k] = [t0, t1]
                first_seen[k] = len(first_seen)
            else:
                cur[0] = min(cur[0], t0)
                cur[1] = max(cur[1], t1)

        for r in results:
            span = max(span, float(r.scenario.duration))
            for e in r.history:
                span = max(span, float(e.time))
        for r in results:
            for k in sorted(r.scenario.initial):
                see(r.scenario.initial[k], 0.0, 0.0)
        for r in results:
            lanes: dict[tuple[str, str], list[tuple[float, Any]]] = {}
            for t in r.trace:
                lanes.setdefault((t.node, t.key), []).append((t.time, t.value))
            for seq in lanes.values():
                seq.sort(key=lambda x: x[0])
                for j, (t0, v) in enumerate(seq):
                    see(v, t0, seq[j + 1][0] if j + 1 < len(seq) else span)
            for op in r.history.operations():
                end = op.complete.time if op.complete is not None else span
                if op.f in ("write", "cas"):
                    see(op.invoke.value[1] if op.f == "cas" else op.invoke.value, op.start, end)
                if op.type == "ok" and op.f == "read":
                    see(op.value, op.start, end)
        gap = self.REUSE_GAP * span
        free_at = [-math.inf] * len(VALUE_COLOURS)  # when each colour may be reused
        colour: dict[str, str] = {}
        self._life = life
        order = sorted(life, key=lambda k: (life[k][0], first_seen[k]))
        for k in order:
            t0, t1 = life[k]
            i = next((c for c in range(len(VALUE_COLOURS)) if free_at[c] <= t0), None)
            if i is None:
                colour[k] = OTHER_VALUE
                continue
            colour[k] = VALUE_COLOURS[i]
            free_at[i] = t1 + gap
        return colour

    def __call__(self, v: Any) -> str:
        if self._colour is None:
            self._colour = self._assign()
        return self._colour.get(_key(v), OTHER_VALUE)

    def distinct(self, v: Any) -> bool:
        """Whether ``v`` has a colour of its own (else it is drawn as "other value")."""
        return self(v) != OTHER_VALUE

    def lifetimes(self) -> dict[str, tuple[float, float, str]]:
        """Each value's (first, last) time drawn and its colour, by value key (for tests)."""
        if self._colour is None:
            self._colour = self._assign()
        return {k: (t[0], t[1], self._colour[k]) for k, t in self._life.items()}


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (WCAG luminance)."""
    h = fill.lstrip("#")
    rgb = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "white" if lum < 0.18 else "black"


# --- words ---------------------------------------------------------------
def fault_label(f: Fault, lang: str) -> str:
    """``G1 | G2 partitioned`` / ``G1 → G2 cut`` / ``G3 down``, in ``lang``."""
    if f.kind == "partition":
        sides = " | ".join(", ".join(g) for g in f.groups)
        if len(f.groups) == 1:
            sides = f"{sides} | …"
        return f"{sides} {tr('plot.partitioned', lang)}"
    if f.kind == "cut":
        return f"{', '.join(f.groups[0])} → {', '.join(f.groups[1])} {tr('plot.cut', lang)}"
    if f.kind == "crash":
        return f"{f.groups[0][0]} {tr('plot.down', lang)}"
    return f.label


def pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def secs(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def summary_line(result: RunResult, lang: str) -> str:
    """The numbers a student compares between policies, on one line."""
    c = result.checks
    av = c.get("availability", {})
    st = c.get("stale_reads", {})
    lin = c.get("linearizable") or {}
    v = lin.get("linearizable")
    lin_s = (tr("yes", lang) if v is True else tr("no", lang) if v is False
             else tr("unknown", lang) if lin else tr("n/a", lang))
    p99 = max((d.get("p99", 0.0) for d in c.get("latency", {}).values()), default=None)
    parts = [f"{tr('availability', lang)} {pct(av.get('overall'))}"]
    if av.get("requests_during_partition"):
        parts[0] += f" ({tr('plot.during', lang)} {pct(av.get('during_partition'))})"
    parts.append(f"{tr('linearizable', lang)}: {lin_s}")
    parts.append(f"{tr('stale reads', lang)} {st.get('count', 0)}/{st.get('reads', 0)}")
    parts.append(f"{tr('p99 latency', lang)} {secs(p99)}")
    return "  ·  ".join(parts)


def violation(result: RunResult) -> dict[str, Any]:
    """The linearizability verdict, read defensively (older runs have none)."""
    lin = result.checks.get("linearizable")
    return lin if isinstance(lin, dict) else {}


def break_time(result: RunResult) -> float | None:
    """When the history stops being linearizable, if the checker said so."""
    lin = violation(result)
    if lin.get("linearizable") is not False:
        return None
    for k in ("break_time", "breaks_at", "break_at"):
        t = lin.get(k)
        if isinstance(t, (int, float)) and math.isfinite(t):
            return float(t)
    return None


# --- fonts ---------------------------------------------------------------
class FontWarning(UserWarning):
    """No font for the requested language is installed; plots fall back to English."""


#: Font families with Simplified Chinese glyphs, best first.
CJK_FAMILIES: tuple[str, ...] = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "Source Han Sans CN", "Sarasa Gothic SC", "Droid Sans Fallback",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC",
    "AR PL UMing CN", "AR PL UKai CN", "Noto Sans CJK JP", "Arial Unicode MS",
)
_CJK_FILE_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "notosanssc", "sourcehan",
                   "droidsansfallback", "uming", "ukai", "simhei", "msyh", "sarasa")
LATIN = "DejaVu Sans"
FONT_INSTALL_HINT = (
    "install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei; then delete "
    "matplotlib's font cache, fontlist-*.json in the folder "
    "`python -c 'import matplotlib; print(matplotlib.get_cachedir())'` prints)"
)


#: Set this environment variable (to anything but "" or "0") and capsim looks
#: for no CJK font at all: plots behave exactly as on a machine without one
#: (English labels and one FontWarning). CI uses it to run the Chinese tests
#: once without the font; a teacher can use it to preview the fallback.
NO_CJK_FONT_ENV = "CAPSIM_NO_CJK_FONT"


def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None.

    None as well when ``CAPSIM_NO_CJK_FONT`` is set (see :data:`NO_CJK_FONT_ENV`).
    """
    if os.environ.get(NO_CJK_FONT_ENV, "") not in ("", "0"):
        return None
    return _installed_cjk_font()


@functools.cache
def _installed_cjk_font() -> str | None:
    """Search the system once for a font with Chinese glyphs.

    matplotlib caches its font list: a font installed after the cache was
    built is missing from it. Rather than make every user rebuild the cache,
    look for the usual CJK font files on the system and register them.
    """
    from matplotlib import font_manager as fm

    def known() -> str | None:
        names = {f.name for f in fm.fontManager.ttflist}
        return next((n for n in CJK_FAMILIES if n in names), None)

    found = known()
    if found is not None:
        return found
    for path in fm.findSystemFonts():
        base = os.path.basename(path).lower().replace("-", "").replace("_", "")
        if any(h in base for h in _CJK_FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return known()


_warned = False


class _NoBoldWarning(logging.Filter):
    """Hide matplotlib's "no bold weight" notice for CJK fonts.

    WenQuanYi and most CJK fonts ship one weight; matplotlib then draws bold
    labels in the regular weight (which is what we want) but logs a warning
    for each, which would fill a student's terminal with noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not (msg.startswith("findfont: Failed to find font weight")
                    and any(n in msg for n in CJK_FAMILIES))


@functools.cache
def _quiet_font_manager() -> None:
    logging.getLogger("matplotlib.font_manager").addFilter(_NoBoldWarning())


def resolve_lang(lang: str) -> tuple[str, list[str]]:
    """The language the picture can really be drawn in, and the font families.

    Chinese needs a CJK font; without one every label would be a row of
    boxes, so say so once and draw in English instead. Latin text always
    has a CJK fallback when one is installed, so a teacher's Chinese client
    names still show in an English picture.
    """
    global _warned
    _quiet_font_manager()
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)} (got {lang!r})")
    cjk = cjk_font()
    if lang == "zh":
        if cjk is not None:
            # Latin first: most CJK fonts have one weight, DejaVu has a bold
            # for titles; Chinese glyphs fall through to the CJK font.
            return "zh", [LATIN, cjk]
        if not _warned:
            _warned = True
            warnings.warn(
                "no Chinese font found, so plots are drawn in English; " + FONT_INSTALL_HINT,
                FontWarning, stacklevel=3,
            )
        return "en", [LATIN]
    return lang, [LATIN] if cjk is None else [LATIN, cjk]


@contextmanager
def plot_context(lang: str) -> Iterator[str]:
    """Matplotlib settings for a capsim picture; yields the language to draw in."""
    import matplotlib

    eff, family = resolve_lang(lang)
    rc: Any = {
        "font.family": family,
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.titleweight": "normal",
        "axes.labelsize": 10,
        "axes.edgecolor": "#888888",
        "axes.labelcolor": INK,
        "xtick.color": "#444444",
        "ytick.color": INK,
        "legend.fontsize": 9,
        "hatch.linewidth": 1.4,
        "figure.dpi": 100,
        "savefig.dpi": DPI,
    }
    with matplotlib.rc_context(rc):
        yield eff


@functools.cache
def _figure_class() -> Any:
    """A Figure that shows itself in Jupyter, even if pyplot was never imported."""
    from matplotlib.figure import Figure

    class CapsimFigure(Figure):
        """A plain matplotlib Figure plus a PNG representation for notebooks."""

        def _repr_png_(self) -> bytes:
            import io

            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=100, facecolor="white")
            return buf.getvalue()

    return CapsimFigure


def new_figure(width: float, height: float) -> Any:
    """A Figure that belongs to no pyplot window: no leaks, no double display.

    A figure made through pyplot is shown once by the notebook's backend and
    once more as the cell's value, and stays in pyplot's list until closed; a
    bare Figure is shown once, as the cell's value (see :func:`_figure_class`).
    """
    return _figure_class()(figsize=(width, height), layout="constrained")


def shade_faults(ax: Any, faults: Sequence[Fault], *, gid_prefix: str = "shade") -> None:
    """Network faults as pale spans across the whole axes (crashes are per lane)."""
    for i, f in enumerate(faults):
        if f.kind in ("partition", "cut"):
            ax.axvspan(f.start, f.end, color=PARTITION_SHADE, zorder=0, lw=0,
                       gid=f"{gid_prefix}:{f.kind}:{i}")


def declutter(fig: Any, texts: Sequence[Any], keep: Sequence[Any] = ()) -> int:
    """Hide texts that would overlap a text drawn before them; return how many.

    ``texts`` are in priority order (the first always stays). Positions are
    measured after a real layout pass (constrained layout moves axes), so
    what a student sees has no two labels on top of each other; a hidden
    label's meaning is still carried by its bar's colour, hatch and legend.
    ``keep`` are texts that always stay and that others must avoid.
    """
    if not texts:
        return 0
    while getattr(fig, "figure", fig) is not fig:  # a SubFigure: its root Figure
        fig = fig.figure
    if not hasattr(fig.canvas, "get_renderer"):  # a bare Figure: give it an Agg canvas
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    engine = fig.get_layout_engine()
    if engine is not None:
        # Lay the figure out once (no drawing), then freeze that layout:
        # saving would otherwise lay it out again (a second pass, a third
        # draw) and could move the labels whose overlaps are judged here.
        engine.execute(fig)
        fig.set_layout_engine("none")
    placed = [t.get_window_extent(renderer).expanded(1.02, 1.05) for t in keep
              if t.get_visible() and t.get_text()]
    hidden = 0
    for t in texts:
        if not t.get_visible() or not t.get_text():
            continue
        box = t.get_window_extent(renderer).expanded(1.02, 1.05)
        if any(box.overlaps(p) for p in placed):
            t.set_visible(False)
            hidden += 1
        else:
            placed.append(box)
    return hidden

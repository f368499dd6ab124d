"""capsim's one colour scheme, as plain data (no matplotlib needed to read it).

Every picture — timelines, message diagrams, sweep and PBS plots, the HTML
report, the notebooks — takes its colours from here, so a colour means the
same thing everywhere. Three families never share a colour:

* **values** (``v0``, ``v1``, … held by replicas and returned to clients):
  light and mid tones, filled areas with dark text on them;
* **policies** (cp, ap, quorum, lock, …) in sweep plots and comparisons: dark
  tones, always drawn as lines with their own marker and dash, so a policy
  line never looks like a value band;
* **meanings** (stale read, linearizability violation, refused, partition,
  locked): fixed colours, each also carried by a hatch or a line style.

The value and policy colours are chosen from the Okabe-Ito and Paul Tol
schemes for colour-blind readers; ``tests/test_palette.py`` checks that
every pair stays apart under simulated deuteranopia, protanopia and
tritanopia, and that values are lighter than every policy colour.
"""

from __future__ import annotations

#: Value colours, in the order values first appear (v0, v1, …). A value past
#: the last one gets :data:`OTHER_VALUE` and its name written on it: a colour
#: never stands for two values in one picture.
VALUE_COLOURS: tuple[str, ...] = (
    "#56B4E9",  # sky blue   (v0: the old value)
    "#E69F00",  # orange     (v1: the new value)
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#FFAABB",  # light pink (Tol)
    "#E5C9F0",  # light lavender
)
#: Values beyond :data:`VALUE_COLOURS`: a pale neutral that is none of them.
OTHER_VALUE = "#F4F1EA"

#: Policies: dark tones (never a value colour), each with a marker and a dash.
POLICY_STYLES: dict[str, dict[str, str]] = {
    "cp": {"colour": "#1F3A93", "marker": "o", "dash": "solid"},      # indigo
    "ap": {"colour": "#8B2252", "marker": "s", "dash": "dashed"},     # wine
    "quorum": {"colour": "#1E5631", "marker": "^", "dash": "dashdot"},  # forest
    "lock": {"colour": "#3D3D3D", "marker": "D", "dash": "dotted"},   # charcoal
}
#: For other policies (or hue values that are not policies), in order.
EXTRA_POLICY_COLOURS: tuple[str, ...] = ("#5B2C83", "#6B4E16", "#0B5563", "#7A1F1F")
EXTRA_MARKERS: tuple[str, ...] = ("v", "p", "h", "<")
EXTRA_DASHES: tuple[str, ...] = ("solid", "dashed", "dashdot", "dotted")

# --- meanings --------------------------------------------------------------
STALE = "#D55E00"          # vermillion
LANE_CURRENT = "#DCE3EA"   # big runs: a replica holding the newest value
LANE_BEHIND = "#F2B48C"    # big runs: a replica behind the newest write (a pale STALE)
VIOLATION = "#AA2E8C"      # reddish purple, darkened for contrast on white
FAIL_FILL = "#9E9E9E"      # refused requests
INFO_EDGE = "#555555"      # unanswered requests (dashed outline)
LOCKED = "#4D4D4D"         # a replica holding a lock (hatched overlay)
PARTITION_SHADE = "#F2E3E3"
PARTITION_BAR = "#7A4B4B"
CRASH_BAR = "#3A3A3A"
CONVERGED = "#1B7F4B"
AVAILABILITY_LINE = "#0072B2"
TARGET_LINE = "#7A4B4B"    # a goal to reach (PBS target, the R+W>N boundary)
INK = "#222222"
MUTED = "#666666"

#: Message kinds in the message diagram, in order of appearance: darker tones than
#: any value colour, so the value written on an arrow is not mistaken for its kind.
KIND_COLOURS: tuple[str, ...] = ("#0072B2", "#B35806", "#1B7837", "#6A51A3", "#4D4D4D",
                                 "#2C7F78", "#8C510A")


def _head(name: object) -> str:
    """``quorum N=3 R=1 W=1`` -> ``quorum``: the policy a label names."""
    words = str(name).split()
    return words[0] if words else ""


def policy_style(name: str, index: int = 0) -> dict[str, str]:
    """Colour, marker and dash for a policy (or the ``index``-th other series)."""
    known = POLICY_STYLES.get(_head(name))
    if known is not None:
        return dict(known)
    i = index % len(EXTRA_POLICY_COLOURS)
    return {"colour": EXTRA_POLICY_COLOURS[i], "marker": EXTRA_MARKERS[i],
            "dash": EXTRA_DASHES[i]}


def series_styles(names: list[str]) -> dict[str, dict[str, str]]:
    """Styles for the lines of one plot: known policies keep theirs, others take turns.

    Two lines in one plot never share both a colour and a marker.
    """
    out: dict[str, dict[str, str]] = {}
    extra = 0
    for n in names:
        if _head(n) in POLICY_STYLES and not any(
                s == POLICY_STYLES[_head(n)] for s in out.values()):
            out[n] = policy_style(n)
        else:
            out[n] = policy_style("", extra)
            extra += 1
    return out


__all__ = [
    "AVAILABILITY_LINE", "CONVERGED", "CRASH_BAR", "EXTRA_POLICY_COLOURS", "FAIL_FILL",
    "INFO_EDGE", "INK", "KIND_COLOURS", "LANE_BEHIND", "LANE_CURRENT", "LOCKED", "MUTED",
    "OTHER_VALUE", "PARTITION_BAR", "PARTITION_SHADE", "POLICY_STYLES", "STALE", "TARGET_LINE",
    "VALUE_COLOURS", "VIOLATION", "policy_style", "series_styles",
]

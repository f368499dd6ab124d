"""Pictures of runs: timelines, message diagrams, metrics over time, comparisons.

The only part of capsim that imports matplotlib; ``import capsim`` does not
import this package, so the simulator and the CLI's ``--help`` stay light.
Every function takes an optional ``ax`` (where it makes sense), returns the
Figure (or the Axes it drew into), and takes ``lang="en" | "zh"``::

    from capsim import simulate, seed_scenario
    from capsim.plot import timeline, compare
    sc = seed_scenario()
    compare([simulate(sc, policy="cp"), simulate(sc, policy="ap")])
"""

from typing import TYPE_CHECKING, Any

from capsim.plot.compare import compare
from capsim.plot.messages import messages
from capsim.plot.save import figure_bytes, planned_files, save_run_plots
from capsim.plot.style import FontWarning, ValueColours, cjk_font
from capsim.plot.timeline import timeline

if TYPE_CHECKING:
    from capsim.plot.metrics import metrics_over_time, rolling


def __getattr__(name: str) -> Any:
    # numpy comes in with the metrics, on first use: report.html and
    # `capsim run --no-plot` read this package's colours and lanes only.
    if name in ("metrics_over_time", "rolling"):
        from capsim.plot import metrics

        return getattr(metrics, name)
    raise AttributeError(f"module 'capsim.plot' has no attribute {name!r}")

__all__ = [
    "FontWarning",
    "ValueColours",
    "cjk_font",
    "compare",
    "figure_bytes",
    "messages",
    "metrics_over_time",
    "planned_files",
    "rolling",
    "save_run_plots",
    "timeline",
]

"""The options ``capsim run`` and ``capsim live`` share, declared once.

Both commands run a scenario and write the same run folder, so a user who
learnt one knows the other: each option below is one ``Annotated`` type that
both signatures use, and a new shared option is added here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capsim.cli.plotopts import LANG_HELP, MESSAGES_HELP, NO_HTML_HELP, PLOT_HELP, check_lang

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario YAML file. Without one, runs the built-in seed story "
        "(same as scenarios/partition.yaml).",
        show_default=False,
    ),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy", "-p",
        help="Policy or comma-separated policies, e.g. cp,ap. Default: the scenario's.",
    ),
]
SeedOpt = Annotated[
    int | None, typer.Option(help="Seed for the run (default: the scenario's).")
]
NrwOpt = Annotated[
    str | None,
    typer.Option(
        "--nrw", metavar="N,R,W",
        help="Replicas, read replies and write acks of the quorum policy, e.g. 3,1,1 "
        "(overrides the scenario's params: {quorum: …}).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Run folder to write (default: runs/<scenario name>)."),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", "-f", help="Replace the run folder if it exists.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the results as JSON instead of a table.")
]
NoWriteOpt = Annotated[bool, typer.Option("--no-write", help="Print only; write no run folder.")]
PlotOpt = Annotated[str | None, typer.Option("--plot", help=PLOT_HELP)]
NoPlotOpt = Annotated[
    bool, typer.Option("--no-plot", help="Write no pictures (redraw later: capsim plot).")
]
MessagesOpt = Annotated[bool, typer.Option("--messages", help=MESSAGES_HELP)]
ExportEdnOpt = Annotated[
    bool,
    typer.Option(
        "--export-edn",
        help="Also write history.edn, for Jepsen's Knossos checker (see docs/checker.md).",
    ),
]
LangOpt = Annotated[str | None, typer.Option("--lang", help=LANG_HELP, callback=check_lang)]
"""``--lang``; None means the reader's ``CAPSIM_LANG`` or locale."""
NoHtmlOpt = Annotated[bool, typer.Option("--no-html", help=NO_HTML_HELP)]

__all__ = [
    "ExportEdnOpt",
    "ForceOpt",
    "JsonOpt",
    "LangOpt",
    "MessagesOpt",
    "NoHtmlOpt",
    "NoPlotOpt",
    "NoWriteOpt",
    "NrwOpt",
    "OutOpt",
    "PlotOpt",
    "PolicyOpt",
    "ScenarioArg",
    "SeedOpt",
]

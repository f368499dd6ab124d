"""``report.html``: one self-contained page a student opens, hovers, scrubs and steps.

Like Porcupine's visualisation, the page is a template, one small script
and a stylesheet (package data in this folder) plus the run's data embedded
as JSON when the page is written. It needs no network and no server.

    from capsim.report_html import write_report, Report
    write_report([cp_result, ap_result], "runs/story/report.html", lang="zh")
    Report([ap_result])          # shows itself in Jupyter
"""

from capsim.report_html.data import SCHEMA, report_data
from capsim.report_html.explore import ExploreFileError, check_explore, load_explore
from capsim.report_html.page import (
    FILE_NAME,
    Report,
    embed_json,
    made_by_capsim,
    report_html,
    write_report,
)

__all__ = [
    "FILE_NAME",
    "SCHEMA",
    "ExploreFileError",
    "Report",
    "check_explore",
    "embed_json",
    "load_explore",
    "made_by_capsim",
    "report_data",
    "report_html",
    "write_report",
]

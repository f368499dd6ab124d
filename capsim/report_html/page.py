"""The report page: template + CSS + script + the run's JSON, in one file.

The page must open from a USB stick in a classroom with no network, so
nothing is linked: the CSS and the script are inlined, the data is embedded
as JSON, and a Content-Security-Policy forbids every fetch. The JSON is
escaped so no value (a client named ``</script>``) can end the script early.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim._version import __version__
from capsim.report_html.data import STREAMED, report_data, slot

if TYPE_CHECKING:
    from capsim.result import RunResult

FILE_NAME = "report.html"


@cache
def _asset(name: str) -> str:
    return resources.files("capsim.report_html").joinpath(name).read_text(encoding="utf-8")


def made_by_capsim(path: str | Path) -> bool:
    """Whether ``path`` is a report page capsim wrote (so redrawing it loses nothing).

    ``capsim plot`` replaces pictures only with --force, because a teacher may
    have kept one on purpose; a report page is pure output of the run's data,
    so one capsim wrote is redrawn freely, and anything else is left alone.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return '<meta name="generator" content="capsim ' in head


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` become unicode escapes."""
    return _escape(_dumps(data))


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _escape(text: str) -> str:
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: Entries encoded per piece of a streamed list.
_BATCH = 8192


def _streamed_json(rows: Iterator[Any]) -> Iterator[str]:
    """A list as the JSON :func:`embed_json` makes of it, a few thousand entries a piece."""
    yield "["
    sep = ""
    while True:
        batch = list(itertools.islice(rows, _BATCH))
        if not batch:
            break
        yield _escape(sep + ",".join(_dumps(r) for r in batch))
        sep = ","
    yield "]"


def report_chunks(results: Sequence[RunResult], lang: str = "en",
                  explore: dict[str, Any] | None = None) -> Iterator[str]:
    """The page of :func:`report_html`, the same characters, in pieces.

    The lists that grow with a run (operations, stored values, messages) are
    encoded a few thousand entries at a time into the page: a 100k-op run on
    7 replicas has ~2 million messages, and as one JSON string (and its
    escaped copies) the page took over a gigabyte to write.
    """
    results = list(results)
    page = render_html(report_data(results, lang, explore, slots=True))
    marks = sorted((page.index(embed_json(slot(i, f))), i, f)
                   for i in range(len(results)) for f in STREAMED)
    at = 0
    for pos, i, f in marks:
        yield page[at:pos]
        yield from _streamed_json(STREAMED[f](results[i]))
        at = pos + len(embed_json(slot(i, f)))
    yield page[at:]


def render_html(data: dict[str, Any]) -> str:
    """Fill the template with the page's CSS, script and ``data`` (see report_data)."""
    page = _asset("template.html")
    title = f"capsim · {data['scenario']}"
    # Data last: nothing in it can be mistaken for another placeholder.
    for mark, text in (("/*__CAPSIM_CSS__*/", _asset("report.css")),
                       ("/*__CAPSIM_JS__*/", _asset("report.js")),
                       ("__CAPSIM_TITLE__", html.escape(title)),
                       ("__CAPSIM_LANG__", "zh-CN" if data["lang"] == "zh" else "en"),
                       ("__CAPSIM_VERSION__", html.escape(__version__)),
                       ("__CAPSIM_DATA__", embed_json(data))):
        page = page.replace(mark, text, 1)
    return page


def report_html(results: Sequence[RunResult], lang: str = "en",
                explore: dict[str, Any] | None = None) -> str:
    """The whole page as a string: every run stacked on one time axis."""
    return render_html(report_data(results, lang, explore))


def write_report(results: Sequence[RunResult], path: str | Path, lang: str = "en",
                 explore: dict[str, Any] | None = None) -> Path:
    """Write ``report.html`` (atomically); ``path`` may be the file or its folder.

    Without ``explore``, an ``explore.json`` in the same folder (written by
    ``capsim explore``) is read, checked and shown as explore mode.
    """
    from capsim.atomic import write_lines
    from capsim.report_html.explore import load_explore

    p = Path(path)
    if p.is_dir() or p.suffix == "":
        p = p / FILE_NAME
    if explore is None:
        explore = load_explore(p.parent)
    write_lines(p, report_chunks(results, lang, explore))
    return p


class Report:
    """A report to show in Jupyter (``display(capsim.Report(r))``) or save as a file.

    In a notebook the page runs inside an iframe (``srcdoc``), so its script
    and styles cannot touch the notebook's own page, and it still needs no
    network.
    """

    def __init__(self, results: RunResult | Sequence[RunResult], lang: str = "en",
                 explore: dict[str, Any] | None = None, height: int = 640) -> None:
        self.results = list(results) if isinstance(results, Sequence) else [results]
        self.lang = lang
        self.explore = explore
        self.height = height

    @property
    def html(self) -> str:
        return report_html(self.results, self.lang, self.explore)

    def save(self, path: str | Path) -> Path:
        return write_report(self.results, path, self.lang, self.explore)

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #ddd" '
                'sandbox="allow-scripts"></iframe>')

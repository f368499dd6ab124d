"""Plot options shared by ``capsim run`` and ``capsim plot``, and drawing with clean warnings.

A helper module, not a command: both commands read ``--plot``, ``--lang``
and ``--messages`` the same way. Only typer and the standard library are
imported at module level; matplotlib comes in inside :func:`draw_plots`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from capsim.cli.common import die, split_csv, use_lang
from capsim.i18n import resolve_lang

if TYPE_CHECKING:
    from capsim.result import RunResult

PLOT_FORMATS = ("png", "svg", "pdf")
LANGS = ("en", "zh")
PLOT_HELP = "Picture formats to write, comma-separated: png, svg, pdf. Default: png."
LANG_HELP = ("Language of everything printed and drawn: en or zh (Simplified Chinese). "
             "Default: CAPSIM_LANG, else the locale, else en.")
MESSAGES_HELP = "Also draw messages.<fmt>: every message between replicas (space-time diagram)."
NO_HTML_HELP = "Write no report.html (the page to hover, scrub and step through the run)."


def parse_formats(value: str | None) -> tuple[str, ...]:
    """``"png,svg"`` -> ``("png", "svg")``; unknown formats exit 2 naming them."""
    items = [v.lower().lstrip(".") for v in split_csv(value)] if value is not None else ["png"]
    bad = [v for v in items if v not in PLOT_FORMATS]
    if bad:
        raise die(f"--plot: unknown format {', '.join(map(repr, bad))}; "
                  f"choose from {', '.join(PLOT_FORMATS)}")
    if not items:
        raise die(f"--plot: give at least one of {', '.join(PLOT_FORMATS)} (or --no-plot)")
    return tuple(dict.fromkeys(items))


def check_lang(value: str | None) -> str:
    """Typer callback: ``--lang`` must be a language capsim speaks.

    Without ``--lang`` the language comes from ``CAPSIM_LANG``, then the
    locale (``LC_ALL``/``LC_MESSAGES``/``LANG``); it also becomes the language
    of this invocation's error messages.
    """
    if value is None:
        value = resolve_lang(None)
    if value not in LANGS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LANGS)}")
    use_lang(value)
    return value


def draw_plots(results: list[RunResult], folder: Path, formats: tuple[str, ...],
               *, messages: bool, lang: str) -> list[Path]:
    """Write the run's pictures; a missing Chinese font becomes one clean warning line."""
    from capsim.plot import FontWarning, save_run_plots

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FontWarning)
        paths = save_run_plots(results, folder, formats, messages=messages, lang=lang)
    for w in caught:
        if issubclass(w.category, FontWarning):
            typer.echo(f"warning: {w.message}", err=True)
        else:  # not ours: hand it back untouched
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return paths


def write_html(results: list[RunResult], folder: Path, *, lang: str) -> Path:
    """Write the run's ``report.html`` into ``folder`` (all policies on one page)."""
    from capsim.report_html import write_report

    return write_report(results, folder, lang=lang)


__all__ = ["LANGS", "PLOT_FORMATS", "check_lang", "draw_plots", "parse_formats", "write_html"]

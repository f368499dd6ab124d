"""``capsim plot RUN_DIR``: redraw a saved run's pictures, no re-run needed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capsim.cli.common import die, user_errors
from capsim.cli.plotopts import (
    LANG_HELP,
    MESSAGES_HELP,
    NO_HTML_HELP,
    PLOT_HELP,
    check_lang,
    draw_plots,
    parse_formats,
)
from capsim.cli.root import app
from capsim.i18n import t

if TYPE_CHECKING:
    from capsim.result import RunResult


def load_runs(run_dir: Path) -> list[RunResult]:
    """A run folder of one policy, or a folder of per-policy run folders."""
    from capsim.errors import CapsimError
    from capsim.result import RunResult

    if not run_dir.is_dir():
        raise CapsimError(f"{run_dir}: no such folder (give a folder written by `capsim run`)")
    if (run_dir / "result.json").is_file():
        return [RunResult.load(run_dir)]
    subs = sorted(d for d in run_dir.iterdir() if d.is_dir() and (d / "result.json").is_file())
    if not subs:
        raise CapsimError(
            f"{run_dir}: no result.json here or in its sub-folders; "
            "is this a run folder of `capsim run`?"
        )
    results = [RunResult.load(d) for d in subs]
    order = results[0].scenario.policies
    results.sort(key=lambda r: (order.index(r.policy) if r.policy in order else len(order),
                                r.policy))
    return results


@app.command()
def plot(
    run_dir: Annotated[
        Path, typer.Argument(help="A run folder written by `capsim run`.", show_default=False)
    ],
    formats: Annotated[str | None, typer.Option("--plot", help=PLOT_HELP)] = None,
    messages: Annotated[bool, typer.Option("--messages", help=MESSAGES_HELP)] = False,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP,
                                                   callback=check_lang)] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the pictures here instead of into RUN_DIR."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace pictures that already exist.")
    ] = False,
    no_html: Annotated[bool, typer.Option("--no-html", help=NO_HTML_HELP)] = False,
) -> None:
    """Redraw a saved run's pictures from its history.jsonl and result.json.

    Writes timeline.<fmt> (per policy) and compare.<fmt> (when the folder
    holds several policies), laid out like the run folder, and report.html
    (with explore mode when the folder has the explorer's explore.json).
    Existing pictures are left alone unless --force: a teacher may have kept
    one on purpose (a report.html capsim wrote is redrawn: it holds only data).
    """
    fmts = parse_formats(formats)
    with user_errors():
        from capsim.plot import planned_files

        results = load_runs(run_dir)
        dest = out if out is not None else run_dir
        from capsim.report_html import FILE_NAME, load_explore, made_by_capsim

        explore = load_explore(run_dir)  # checked before anything is drawn
        planned = planned_files(results, dest, fmts, messages=messages)
        page = dest / FILE_NAME
        if not no_html and page.exists() and not made_by_capsim(page):
            planned.append(page)  # someone else's file: only with --force
        existing = [p for p in planned if p.exists()]
        if existing and not force:
            shown = ", ".join(str(p) for p in existing[:4])
            more = f" and {len(existing) - 4} more" if len(existing) > 4 else ""
            raise die(f"{shown}{more} already exist(s); pass --force to replace, "
                      "or --out DIR to write elsewhere")
        paths = draw_plots(results, dest, fmts, messages=messages, lang=lang or "en")
        if not no_html:
            from capsim.report_html import write_report

            paths.append(write_report(results, dest, lang=lang or "en", explore=explore))
    for p in paths:
        typer.echo(t("wrote {path}", lang, path=p))


__all__ = ["load_runs"]

"""``capsim sweep FILE`` (run a sweep) and ``capsim sweep plot DIR`` (draw one).

``sweep`` is a command group whose default command is ``run``: a first
argument that is not a sub-command name is taken as the sweep file, so
``capsim sweep FILE`` and ``capsim sweep run FILE`` are the same, and
``capsim sweep plot DIR`` reaches the plot command. (A sweep file literally
named ``plot`` needs ``capsim sweep run plot`` or ``./plot``.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from capsim.cli.common import die, user_errors
from capsim.cli.plotopts import LANG_HELP, check_lang
from capsim.cli.root import app
from capsim.i18n import t

if TYPE_CHECKING:
    from rich.progress import Progress, Task
    from rich.text import Text

    from capsim.sweep.run import SweepResult
    from capsim.sweep.spec import Sweep


class _DefaultRunGroup(TyperGroup):
    """A group that treats an unknown first word as the argument of ``run``."""

    # ctx is typer's (vendored) click Context; Any keeps this independent of
    # whether typer vendors click or uses the real one.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


sweep_app = typer.Typer(
    cls=_DefaultRunGroup,
    no_args_is_help=True,
    help=(
        "Run a scenario many times with fields varied (on all cores or a Dask cluster), "
        "and plot the results.\n\n"
        "capsim sweep FILE [--workers N | --scheduler tcp://host:8786] [--out DIR]\n\n"
        "capsim sweep plot DIR --x PARAM --y METRIC [--hue policy]"
    ),
)
app.add_typer(sweep_app, name="sweep")


@sweep_app.command("run")
def run_cmd(
    file: Annotated[Path, typer.Argument(help="Sweep file (YAML); see docs/sweeps.md.",
                                         show_default=False)],
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Local worker processes (default: all cores; "
                     "1 runs in this process)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a Dask scheduler, e.g. "
                     "tcp://HOST:8786 (needs the dask extra: pip install -e '.\\[dask]')."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Results folder (default: runs/sweeps/<sweep name>)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Start over, replacing the results folder.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a stopped sweep; finished runs are kept.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and count the runs; run nothing.")
    ] = False,
    no_plot: Annotated[
        bool, typer.Option("--no-plot", help="Write the tables only, no pictures.")
    ] = False,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP,
                                             callback=check_lang)] = None,
) -> None:
    """Run every point of a sweep file and write one row per run (CSV, and Parquet).

    Each run's seed comes from the sweep's seed and the point, so any worker
    count or cluster gives the same rows. Ctrl-C keeps the finished runs;
    --resume continues from them.
    """
    from capsim.sweep.run import SweepInterrupted

    with user_errors():
        from capsim.sweep.spec import load_sweep

        sweep = load_sweep(file)
        target = out if out is not None else Path("runs") / "sweeps" / sweep.name
        if dry_run:
            _dry_run(sweep, target, lang)
            return
        try:
            result = _run(sweep, target, workers, scheduler, force, resume, not no_plot, lang)
        except SweepInterrupted as exc:
            typer.echo(
                t("interrupted: {done} of {total} runs finished, kept in {journal}; continue "
                  "with: {command}", lang, done=exc.done, total=exc.total, journal=exc.journal,
                  command=f"capsim sweep {file} --resume"
                  + (f" --out {target}" if out is not None else "")),
                err=True,
            )
            raise typer.Exit(130) from None
    _report(sweep, result, lang)


def _dry_run(sweep: Sweep, target: Path, lang: str | None = "en") -> None:
    from capsim.sweep.results import param_columns

    typer.echo(f"{sweep.source}: {sweep.describe(lang)}")
    cols = param_columns(sweep)
    show = sweep.runs[:6]
    header = ["run", *cols, "policy", "replicate", "seed"]
    table = [header] + [
        [str(r.index), *(repr(r.point.values[c]) for c in cols), r.policy, str(r.replicate),
         str(r.seed)]
        for r in show
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    typer.echo(t("first {n} runs:", lang, n=len(show)) if len(sweep.runs) > len(show)
               else t("runs:", lang))
    for row in table:
        typer.echo("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if len(sweep.runs) > len(show):
        typer.echo("  " + t("… {n} more", lang, n=len(sweep.runs) - len(show)))
    typer.echo(t("would write {folder}/", lang, folder=target))


def _run(sweep: Sweep, target: Path, workers: int | None, scheduler: str | None,
         force: bool, resume: bool, plots: bool, lang: str | None = "en") -> SweepResult:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from capsim.sweep.run import run_sweep

    err = Console(stderr=True)
    progress: Progress | None = None
    task_id: Any = None
    # Without a terminal (CI logs, a pipe) a live bar cannot redraw: print a
    # plain line at every tenth of the way instead.
    plain = {"t0": 0.0, "done0": 0, "decile": -1}

    def on_start(total: int, done: int, executor: str) -> None:
        nonlocal progress, task_id
        if done:
            err.print(t("resuming: {done} of {total} runs already finished", lang, done=done,
                        total=total), highlight=False, soft_wrap=True)
        if done >= total:
            return
        err.print(t("{name}: {what} on {executor}", lang, name=sweep.name,
                    what=sweep.describe(lang), executor=executor), highlight=False,
                  soft_wrap=True)
        if not err.is_terminal:
            plain.update(t0=time.perf_counter(), done0=done, decile=10 * done // total)
            return
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            _RateColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
        )
        progress.start()
        task_id = progress.add_task(sweep.name, total=total, completed=done)

    def on_progress(done: int, total: int) -> None:
        if progress is not None:
            progress.update(task_id, completed=done)
            return
        decile = 10 * done // total
        if decile == plain["decile"]:
            return
        plain["decile"] = decile
        elapsed = time.perf_counter() - plain["t0"]
        rate = (done - plain["done0"]) / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        err.print(
            t("{name}: {done}/{total} runs ({pct}), {rate} runs/s, elapsed {elapsed}, "
              "ETA {eta}", lang, name=sweep.name, done=done, total=total,
              pct=f"{100 * done // total}%", rate=f"{rate:,.1f}", elapsed=_clock(elapsed),
              eta=_clock(eta)),
            highlight=False, soft_wrap=True,
        )

    try:
        return run_sweep(sweep, target, workers=workers, scheduler=scheduler, force=force,
                         resume=resume, plots=plots, on_start=on_start,
                         on_progress=on_progress)
    finally:
        if progress is not None:
            progress.stop()


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _RateColumn() -> Any:
    """Runs per second from rich's moving estimate (rich is imported only here)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("? runs/s" if speed is None else f"{speed:,.1f} runs/s")

    return RateColumn()


def _report(sweep: Sweep, result: SweepResult, lang: str | None = "en") -> None:
    from rich.console import Console
    from rich.table import Table

    from capsim.sweep.results import param_columns, summarize

    console = Console()
    cols = param_columns(sweep)
    metrics = {
        "availability.overall": t("availability", lang),
        "availability.during_partition": t("avail. in partition", lang),
        "stale_reads.rate": t("stale-read rate", lang),
    }
    summary = summarize(result.rows, [*cols, "policy"], list(metrics))
    table = Table(title=t("{name}: mean ± {ci} over {n} seeds", lang, name=sweep.name,
                          ci="95% CI", n=sweep.seeds),
                  title_justify="left")
    for c in [*cols, "policy", "n"]:
        table.add_column(c, justify="left" if c == "policy" else "right")
    for label in metrics.values():
        table.add_column(label, justify="right", no_wrap=True)
    limit = 40
    for row in summary[:limit]:
        cells = [_fmt_value(row[c]) for c in [*cols, "policy"]] + [str(row["n"])]
        cells += [_fmt_pct(*row[m]) for m in metrics]
        table.add_row(*cells)
    console.print(table)
    if len(summary) > limit:
        console.print(t("… {n} more rows in {path}", lang, n=len(summary) - limit,
                        path=f"{result.out}/results.csv"), highlight=False)
    if result.reused:
        console.print(t("{reused} runs reused from the journal, {ran} run now", lang,
                        reused=result.reused, ran=result.ran), highlight=False, soft_wrap=True)
    names = ", ".join(p.name for p in result.files)
    console.print(t("wrote {folder}/: {files}", lang, folder=result.out, files=names),
                  highlight=False, soft_wrap=True)


def _fmt_value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _fmt_pct(mean: float | None, half: float | None) -> str:
    """Rates as percentages: ``84.5% ± 0.4``."""
    if mean is None:
        return "n/a"
    if half is None:
        return f"{100 * mean:.1f}%"
    return f"{100 * mean:.1f}% ± {100 * half:.1f}"


@sweep_app.command("plot")
def plot_cmd(
    folder: Annotated[Path, typer.Argument(help="A results folder written by `capsim sweep`.",
                                           show_default=False)],
    x: Annotated[str, typer.Option("--x", help="Parameter on the x axis (a results column).")],
    y: Annotated[
        list[str],
        typer.Option("--y", help="Metric(s) on the y axis; repeat for side-by-side panels."),
    ] = ["availability.overall"],  # noqa: B006 - typer needs a list default
    hue: Annotated[
        str | None, typer.Option("--hue", help="One line per value of this column "
                                    "(default: policy, when there are several).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Picture to write (.png, .svg, .pdf; "
                     "default: DIR/<y>-vs-<x>.png)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Replace the picture.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP,
                                             callback=check_lang)] = None,
) -> None:
    """Draw mean ± 95% CI across seeds of a metric against a parameter."""
    with user_errors():
        from capsim.sweep.plot import check_columns, save_plot
        from capsim.sweep.results import plot_name, read_results

        columns, rows, params = read_results(folder)
        if not rows:
            raise die(f"{folder}/results.csv has no rows to plot")
        if hue is None and len({r.get("policy") for r in rows}) > 1:
            hue = "policy"
        for metric in y:
            check_columns(columns, x=x, y=metric, hue=hue)
        target = out if out is not None else folder / plot_name(x, y)
        if target.exists() and not force:
            raise die(f"{target} already exists; pass --force to replace it")
        save_plot(rows, target, x=x, ys=y, hue=hue, params=params, lang=lang)
        from capsim.sweep.plot import aggregate

        pooled = aggregate(rows, x, y[0], hue, params).pooled
        if pooled:
            typer.echo(t("note: averaged over {params} (not on the x axis or hue)", lang,
                         params=", ".join(pooled)))
        typer.echo(t("wrote {path}", lang, path=target))


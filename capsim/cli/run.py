"""``capsim run``, ``capsim validate``, ``capsim schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capsim.cli.app import app
from capsim.cli.common import die, split_csv, user_errors
from capsim.cli.plotopts import (
    LANG_HELP,
    MESSAGES_HELP,
    PLOT_HELP,
    check_lang,
    draw_plots,
    parse_formats,
)

if TYPE_CHECKING:
    from capsim.result import RunResult


def write_run(result: RunResult, folder: Path, *, export_edn: bool = False) -> None:
    """Write one run's files into ``folder`` (already a staging folder)."""
    from capsim.atomic import write_text

    write_text(folder / "history.jsonl", result.history.to_jsonl())
    if export_edn:
        from capsim.formats.edn import write_edn

        write_edn(result.history, folder / "history.edn", initial=result.scenario.initial)
    write_text(folder / "result.json", result.to_json())
    if result.messages:
        write_text(folder / "messages.jsonl", result.messages_jsonl())


def write_results(
    results: list[RunResult],
    folder: Path,
    *,
    export_edn: bool = False,
    formats: tuple[str, ...] = (),
    messages: bool = False,
    lang: str = "en",
) -> None:
    """Fill a staging folder: one run's files, or a sub-folder per policy, plus pictures."""
    if len(results) == 1:
        write_run(results[0], folder, export_edn=export_edn)
    else:
        for r in results:
            (folder / r.policy).mkdir()
            write_run(r, folder / r.policy, export_edn=export_edn)
    if formats:
        draw_plots(results, folder, formats, messages=messages, lang=lang)


@app.command()
def run(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario YAML file. Without one, runs the built-in seed story "
            "(same as scenarios/partition.yaml) under cp and ap.",
            show_default=False,
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy", "-p",
            help="Policy or comma-separated policies, e.g. cp,ap. Default: the scenario's.",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for the run (default: the scenario's).")
    ] = None,
    nrw: Annotated[
        str | None,
        typer.Option(
            "--nrw", metavar="N,R,W",
            help="Replicas, read replies and write acks of the quorum policy, e.g. 3,1,1 "
            "(overrides the scenario's params: {quorum: …}).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run folder to write (default: runs/<scenario name>)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace the run folder if it exists.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON instead of a table.")
    ] = False,
    no_write: Annotated[
        bool, typer.Option("--no-write", help="Print only; write no run folder.")
    ] = False,
    plot: Annotated[str | None, typer.Option("--plot", help=PLOT_HELP)] = None,
    no_plot: Annotated[
        bool, typer.Option("--no-plot", help="Write no pictures (redraw later: capsim plot).")
    ] = False,
    messages: Annotated[bool, typer.Option("--messages", help=MESSAGES_HELP)] = False,
    export_edn: Annotated[
        bool,
        typer.Option(
            "--export-edn",
            help="Also write history.edn, for Jepsen's Knossos checker (see docs/checker.md).",
        ),
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help=LANG_HELP, callback=check_lang)] = "en",
) -> None:
    """Run a scenario, check its history, print a table and write the run folder.

    With one policy the folder holds history.jsonl, result.json and
    messages.jsonl; with several, one sub-folder per policy.
    Pictures: timeline.png per policy and, with several, compare.png.
    """
    if plot is not None and no_plot:
        raise die("--plot and --no-plot contradict each other; give one")
    formats = () if no_plot else parse_formats(plot)
    with user_errors():
        from capsim.atomic import commit_dir, staging_dir
        from capsim.scenario import load_scenario, seed_scenario
        from capsim.sim import simulate

        sc = seed_scenario() if scenario is None else load_scenario(scenario)
        policies = split_csv(policy) or sc.policies
        quorum_params = _nrw_params(nrw, policies, len(sc.nodes))
        target = out if out is not None else Path("runs") / sc.name
        staged = None if no_write else staging_dir(target, force=force)
        try:
            results = [
                simulate(sc, policy=p, seed=seed, params=quorum_params if p == "quorum" else None)
                for p in policies
            ]
            if staged is not None:
                write_results(results, staged, export_edn=export_edn, formats=formats,
                              messages=messages, lang=lang)
                commit_dir(staged, target, force=force)
                staged = None
        finally:
            if staged is not None:
                import shutil

                shutil.rmtree(staged, ignore_errors=True)
        print_results(results, as_json, None if no_write else target, lang)


def _nrw_params(text: str | None, policies: list[str], nodes: int) -> dict[str, int] | None:
    """``"3,1,1"`` -> ``{"n": 3, "r": 1, "w": 1}`` for the quorum policy, or a clear error."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise die(f"--nrw takes three positive whole numbers N,R,W, e.g. 3,1,1 (got {text!r})")
    if "quorum" not in policies:
        raise die(f"--nrw sets N, R and W of the quorum policy, which this run does not use "
                  f"(policies: {', '.join(policies)}); add --policy quorum")
    from capsim.policies.quorum import nrw_problems

    n, r, w = (int(p) for p in parts)
    problems = nrw_problems(n, r, w, nodes)
    if problems:
        raise die(f"--nrw {text}: " + "; ".join(problems))
    return {"n": n, "r": r, "w": w}


def print_results(results: list[RunResult], as_json: bool, target: Path | None,
           lang: str = "en") -> None:
    from capsim.report import summary_dict

    if as_json:
        data = [summary_dict(r) for r in results]
        typer.echo(json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    from capsim.report import ladder_lines, render_table, story

    console = Console()
    sc = results[0].scenario
    if sc.description:
        console.print(sc.description)
    for r in results:
        lines = story(r)
        if lines:
            console.print(f"[bold]{r.policy}[/bold]")
            for line in lines:
                console.print(f"  {line}", highlight=False)
    console.print(render_table(results, lang))
    for r in results:
        lin = r.checks.get("linearizable") or {}
        if lin.get("explanation"):
            console.print(f"[bold]{r.policy}[/bold]: {lin['explanation']}", highlight=False)
    for r in results:
        for line in ladder_lines(r, lang):
            console.print(line, highlight=False, markup=False)
    if target is not None:
        console.print(f"wrote {target}/", highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
) -> None:
    """Check scenario files without running them; exit 2 if any is invalid."""
    from capsim.errors import ScenarioError
    from capsim.scenario import load_scenario

    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as exc:
            bad += 1
            typer.echo(f"error: {exc}", err=True)
        else:
            typer.echo(f"{f}: ok ({sc.name}: {len(sc.nodes)} nodes, "
                       f"{len(sc.operations)} scheduled operations)")
    if bad:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from capsim.scenario import scenario_json_schema

    typer.echo(json.dumps(scenario_json_schema(), indent=2))


@app.command("policies")
def list_policies() -> None:
    """List the policies and the operations each offers."""
    from capsim.policies import REGISTRY

    for name, cls in REGISTRY.items():
        typer.echo(f"{name:8} {cls.summary} [{', '.join(sorted(cls.supports))}]")


__all__ = ["die", "write_run"]

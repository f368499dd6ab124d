"""``capsim run``, ``capsim validate``, ``capsim schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capsim.cli.common import die, split_csv, user_errors
from capsim.cli.plotopts import draw_plots, parse_formats, write_html
from capsim.cli.root import app
from capsim.cli.runopts import (
    ExportEdnOpt,
    ForceOpt,
    JsonOpt,
    LangOpt,
    MessagesOpt,
    NoHtmlOpt,
    NoPlotOpt,
    NoWriteOpt,
    NrwOpt,
    OutOpt,
    PlotOpt,
    PolicyOpt,
    ScenarioArg,
    SeedOpt,
)

if TYPE_CHECKING:
    from capsim.result import RunResult


def write_run(result: RunResult, folder: Path, *, export_edn: bool = False) -> None:
    """Write one run's files into ``folder`` (already a staging folder)."""
    from capsim.atomic import write_lines

    # Streamed line by line: a 100k-op run's files never sit whole in memory.
    write_lines(folder / "history.jsonl", result.history.jsonl_lines())
    if export_edn:
        from capsim.formats.edn import write_edn

        write_edn(result.history, folder / "history.edn", initial=result.scenario.initial)
    write_lines(folder / "result.json", result.json_chunks())
    if result.messages:
        write_lines(folder / "messages.jsonl", result.messages_lines())


def write_results(
    results: list[RunResult],
    folder: Path,
    *,
    export_edn: bool = False,
    formats: tuple[str, ...] = (),
    messages: bool = False,
    lang: str = "en",
    html: bool = True,
) -> None:
    """Fill a staging folder: one run's files, or a sub-folder per policy, plus pictures.

    ``html`` adds report.html: one page with every policy on one time axis.
    """
    if len(results) == 1:
        write_run(results[0], folder, export_edn=export_edn)
    else:
        for r in results:
            (folder / r.policy).mkdir()
            write_run(r, folder / r.policy, export_edn=export_edn)
    if formats:
        draw_plots(results, folder, formats, messages=messages, lang=lang or "en")
    if html:
        write_html(results, folder, lang=lang or "en")


@app.command()
def run(
    scenario: ScenarioArg = None,
    policy: PolicyOpt = None,
    seed: SeedOpt = None,
    nrw: NrwOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    no_write: NoWriteOpt = False,
    plot: PlotOpt = None,
    no_plot: NoPlotOpt = False,
    messages: MessagesOpt = False,
    export_edn: ExportEdnOpt = False,
    lang: LangOpt = None,
    no_html: NoHtmlOpt = False,
    schedule: Annotated[
        Path | None,
        typer.Option(
            "--schedule",
            help="Replay this schedule.json (from capsim explore) instead of sampling the "
            "network: every delivery, loss, timer and fault in its order.",
        ),
    ] = None,
) -> None:
    """Run a scenario, check its history, print a table and write the run folder.

    With one policy the folder holds history.jsonl, result.json and
    messages.jsonl; with several, one sub-folder per policy.
    Pictures: timeline.png per policy and, with several, compare.png;
    report.html (open it in a browser) shows every policy on one page.
    """
    if plot is not None and no_plot:
        raise die("--plot and --no-plot contradict each other; give one")
    formats = () if no_plot else parse_formats(plot)
    with user_errors():
        from capsim.atomic import RUN_MARKER, check_target, commit_dir, seal, staging_dir
        from capsim.scenario import load_scenario, seed_scenario
        from capsim.sim import simulate

        sc = seed_scenario() if scenario is None else load_scenario(scenario)
        policies = split_csv(policy) or sc.policies
        _check_policies(policies, policy is not None)
        quorum_params = _nrw_params(nrw, policies, len(sc.nodes))
        target = out if out is not None else Path("runs") / sc.name
        if not no_write:
            # Every argument is checked before anything is written: nothing
            # exists on disk until the results are ready.
            check_target(target, force=force, marker=RUN_MARKER)
        if schedule is not None:
            from capsim.sim.schedule import replay

            results = [replay(sc, schedule, policy=p,
                              params=quorum_params if p == "quorum" else None)
                       for p in (split_csv(policy) or [None])]  # type: ignore[list-item]
        else:
            # A long message journal waits on the run folder's disk, not in memory
            # (an unlinked temporary file: nothing is left beside the folder).
            spill = target.parent if target.parent.is_dir() else None
            results = [
                simulate(sc, policy=p, seed=seed,
                         params=quorum_params if p == "quorum" else None, journal_dir=spill)
                for p in policies
            ]
        # The results live to the end of the command: take them out of the
        # garbage collector's sight, so writing and drawing a 100k-op run
        # do not re-scan millions of objects in every full collection.
        import gc

        gc.freeze()
        staged = None if no_write else staging_dir(target, force=force, marker=RUN_MARKER)
        try:
            if staged is not None:
                write_results(results, staged, export_edn=export_edn, formats=formats,
                              messages=messages, lang=lang or "en", html=not no_html)
                seal(staged, RUN_MARKER)
                commit_dir(staged, target, force=force, marker=RUN_MARKER)
                staged = None
        finally:
            if staged is not None:
                import shutil

                shutil.rmtree(staged, ignore_errors=True)
        print_results(results, as_json, None if no_write else target, lang)


def _check_policies(policies: list[str], from_option: bool) -> None:
    """Unknown or repeated names in ``--policy``, said before any work is done."""
    from capsim.errors import CapsimError
    from capsim.i18n import t
    from capsim.policies import REGISTRY, get_policy

    seen: set[str] = set()
    where = "--policy" if from_option else "policy"
    for p in policies:
        try:
            get_policy(p)  # the registry, or a teaching policy named on purpose
            known = True
        except CapsimError:
            known = False
        if not known:
            raise die(t("{where}: unknown policy {name!r}; valid policies: {valid}", None,
                        where=where, name=p, valid=", ".join(REGISTRY)))
        if p in seen:
            raise die(t("{where}: policy {name!r} is named twice; name each policy once", None,
                        where=where, name=p))
        seen.add(p)


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
           lang: str | None = "en") -> None:
    from capsim.report import summary_dict

    if as_json:
        data = [summary_dict(r) for r in results]
        typer.echo(json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    from capsim.i18n import localize, t
    from capsim.report import ladder_lines, leadership_lines, notes, render_table, story

    console = Console()
    sc = results[0].scenario
    if sc.description:
        console.print(localize(sc.description, lang), highlight=False)
    for r in results:
        lines = story(r, lang=lang)
        if lines:
            console.print(f"[bold]{r.policy}[/bold]")
            for line in lines:
                console.print(f"  {line}", highlight=False)
    console.print(render_table(results, lang))
    for r in results:  # what a bare "never*" or "not issued" in the table leaves open
        for note in notes(r, lang):
            console.print(note, highlight=False)
    for r in results:
        for line in leadership_lines(r, lang):
            console.print(f"[bold]{r.policy}[/bold]: {line}", highlight=False)
    for r in results:
        lin = r.checks.get("linearizable") or {}
        if lin.get("explanation"):
            console.print(f"[bold]{r.policy}[/bold]: {localize(lin['explanation'], lang)}",
                          highlight=False)
    for r in results:
        for line in ladder_lines(r, lang):
            console.print(line, highlight=False, markup=False)
    if target is not None:
        console.print(t("wrote {folder}/", lang, folder=target), highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    lang: LangOpt = None,
) -> None:
    """Check scenario files without running them; exit 2 if any is invalid."""
    from capsim.errors import ScenarioError
    from capsim.i18n import t
    from capsim.scenario import load_scenario

    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as exc:
            bad += 1
            typer.echo(t("error: {message}", lang, message=exc.render(lang)), err=True)
        else:
            typer.echo(t("{file}: ok ({name}: {nodes} nodes, {ops} scheduled operations)", lang,
                         file=f, name=sc.name, nodes=len(sc.nodes), ops=len(sc.operations)))
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

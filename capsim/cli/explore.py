"""``capsim explore``: a property in every schedule, or the shortest one that breaks it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capsim.cli.common import die, split_csv, user_errors
from capsim.cli.plotopts import LANG_HELP, check_lang
from capsim.cli.root import app

if TYPE_CHECKING:
    from capsim.explore import Counterexample, ExploreResult
    from capsim.explore.search import Progress


@app.command()
def explore(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file (default: the built-in seed story).",
                       show_default=False),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option("--policy", "-p",
                     help="Policy or comma-separated policies, e.g. cp,ap. "
                     "Default: the scenario's."),
    ] = None,
    prop: Annotated[
        str,
        typer.Option("--property",
                     help="Properties to check, comma-separated: linearizable, available, "
                     "converges, stale-free."),
    ] = "linearizable",
    drops: Annotated[
        int | None,
        typer.Option("--drops", min=0,
                     help="Messages a schedule may lose (default: 1 on a lossy network, else 0)."),
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option("--faults", metavar="any:K",
                     help="Instead of the scenario's faults, up to K arbitrary ones (a split "
                     "into two sides, or a crash) at any step; heals and recoveries are free."),
    ] = None,
    max_states: Annotated[
        int | None, typer.Option("--max-states", min=1, help="Stop after this many states.")
    ] = None,
    max_depth: Annotated[
        int | None,
        typer.Option("--max-depth", min=1, help="Explore schedules up to this many steps."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.0, help="Stop after this many seconds.")
    ] = None,
    fingerprints: Annotated[
        bool, typer.Option("--fingerprints",
                           help="Keep 64-bit fingerprints of states instead of the states "
                           "(less memory; a collision could hide a state).")
    ] = False,
    reduce: Annotated[
        bool, typer.Option("--reduce",
                           help="Skip transitions that only reorder commuting deliveries "
                           "(sleep sets): same states and verdicts, fewer transitions.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o",
                     help="Folder for counterexamples (default: runs/<scenario name>)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace counterexample folders that exist.")
    ] = False,
    no_plot: Annotated[
        bool, typer.Option("--no-plot", help="Draw no timeline for counterexamples.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON.")
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help=LANG_HELP, callback=check_lang)] = "en",
) -> None:
    """Check a property in EVERY schedule of a small scenario (breadth-first search).

    Every order of message deliveries, every loss up to --drops, every timer
    and client timeout, every place a fault may fall: the property holds in
    all of them, or the shortest schedule that breaks it is printed and
    written as a run folder with schedule.json (replay it with
    capsim run SCENARIO --policy P --schedule FILE). Exit 0: every property
    holds; 1: a counterexample; 3: the search stopped early.
    """
    with user_errors():
        from capsim.explore import explore as run_explore
        from capsim.explore.properties import parse_properties
        from capsim.scenario import load_scenario, seed_scenario

        any_faults = _any_faults(faults)
        sc = seed_scenario() if scenario is None else load_scenario(scenario)
        policies = split_csv(policy) or sc.policies
        props = parse_properties(split_csv(prop))
        target = out if out is not None else Path("runs") / sc.name
        results = []
        code = 0
        for p in policies:
            res = run_explore(sc, p, properties=props, drops=drops, any_faults=any_faults,
                              max_states=max_states,
                              max_depth=max_depth, time_limit=time_limit,
                              fingerprints=fingerprints, reduce=reduce,
                              on_progress=_progress(p, lang) if sys.stderr.isatty() else None,
                              lang=lang)
            _clear_progress()
            written = _write(res, target, force=force, plot=not no_plot, lang=lang)
            results.append((res, written))
            if any(r.holds is False for r in res.properties.values()):
                code = max(code, 1)
            elif not res.complete:
                code = 3 if code == 0 else code
            if as_json:
                continue
            _print(res, written, lang)
            if res.stopped == "Ctrl-C":
                break
        if as_json:
            data = [{**r.summary(), "written": {p: str(f) for p, f in w.items()}}
                    for r, w in results]
            typer.echo(json.dumps(data[0] if len(data) == 1 else data, indent=2,
                                  ensure_ascii=False))
    raise typer.Exit(code)


_shown = False


def _any_faults(text: str | None) -> int | None:
    """``any:2`` -> 2."""
    if text is None:
        return None
    head, _, k = text.partition(":")
    if head != "any" or not k.isdigit():
        raise die(f"--faults takes any:K, e.g. any:2 (up to K arbitrary faults); got {text!r}")
    return int(k)


def _progress(policy: str, lang: str):  # type: ignore[no-untyped-def]
    def show(p: Progress) -> None:
        global _shown
        from capsim.i18n import t

        rate = p.states / p.seconds if p.seconds else 0.0
        line = t("{policy}: {states} states ({rate}/s), frontier {frontier}, depth {depth}",
                 lang, policy=policy, states=f"{p.states:,}", rate=f"{rate:,.0f}",
                 frontier=f"{p.frontier:,}", depth=p.depth)
        sys.stderr.write("\r" + line + "   ")
        sys.stderr.flush()
        _shown = True

    return show


def _clear_progress() -> None:
    global _shown
    if _shown:
        sys.stderr.write("\n")
        _shown = False


def _folder(res: ExploreResult, target: Path, prop: str) -> Path:
    broken = [p for p, r in res.properties.items() if r.holds is False]
    base = target / f"explore-{res.policy}"
    return base if len(broken) == 1 else base / prop


def _write(res: ExploreResult, target: Path, *, force: bool, plot: bool,
           lang: str) -> dict[str, Path]:
    from capsim.atomic import commit_dir, staging_dir, write_text
    from capsim.cli.run import write_results

    written: dict[str, Path] = {}
    for prop, r in res.properties.items():
        ce = r.counterexample
        if ce is None:
            continue
        folder = _folder(res, target, prop)
        staged = staging_dir(folder, force=force)
        try:
            # explore.json first: the report written with the results shows the
            # counterexample step by step (explore mode) when it finds the file.
            write_text(staged / "explore.json",
                       json.dumps(ce.explore_json, indent=1, ensure_ascii=False) + "\n")
            write_text(staged / "schedule.json",
                       json.dumps(ce.schedule, indent=2, ensure_ascii=False) + "\n")
            write_results([ce.run], staged, formats=("png",) if plot else (), messages=plot,
                          lang=lang)
            commit_dir(staged, folder, force=force)
            staged = None  # type: ignore[assignment]
        finally:
            if staged is not None:
                import shutil

                shutil.rmtree(staged, ignore_errors=True)
        written[prop] = folder
    return written


def _print(res: ExploreResult, written: dict[str, Path], lang: str) -> None:
    from capsim.i18n import t

    stats = t("{states} distinct states, {transitions} transitions, depth {depth}, {seconds} s",
              lang, states=f"{res.states:,}", transitions=f"{res.transitions:,}",
              depth=res.depth, seconds=f"{res.seconds:.2f}")
    if res.schedules is not None:
        stats += t(" ({n} complete schedules)", lang, n=_big(res.schedules))
    if res.drops:
        stats += t(", up to {drops} dropped messages", lang, drops=res.drops)
    if res.fingerprints and res.collision_probability is not None:
        stats += t(" (fingerprints: chance of a collision about {p})", lang,
                   p=f"{res.collision_probability:.1e}")
    for prop, r in res.properties.items():
        name = _prop_word(prop, lang)
        if r.holds is True:
            typer.echo(_who(res.policy) + t("{property} in every schedule: {stats}", lang,
                                              property=name, stats=stats))
        elif r.holds is None:
            typer.echo(_who(res.policy) + t(
                "{property}: incomplete, stopped by {why}: {states} states explored up to "
                "depth {depth}, no violation so far", lang, property=name, why=res.stopped,
                states=f"{res.states:,}", depth=res.depth))
        else:
            ce = r.counterexample
            assert ce is not None
            _print_counterexample(res, prop, ce, written.get(prop), lang)


def _print_counterexample(res: ExploreResult, prop: str, ce: Counterexample,
                          folder: Path | None, lang: str) -> None:
    from capsim.i18n import t

    typer.echo(_who(res.policy) + t(
        "NOT {property}: shortest counterexample has {steps} steps (found after {states} "
        "states)", lang, property=_prop_word(prop, lang), steps=ce.steps,
        states=f"{ce.after_states:,}"))
    for i, label in enumerate(ce.labels, 1):
        typer.echo(f"      {i}. {label}")
    typer.echo(f"    {ce.explanation}")
    if folder is not None:
        files = ", ".join(sorted(p.name for p in folder.iterdir()))
        typer.echo("    " + t("written to {folder}/ ({files})", lang, folder=folder, files=files))


def _big(n: int) -> str:
    """``3,479`` or, past a million, ``4.9×10⁹``."""
    if n < 1_000_000:
        return f"{n:,}"
    mant, exp = f"{n:.1e}".split("e")
    sup = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    return f"≈{mant}×10{str(int(exp)).translate(sup)}"


def _who(policy: str) -> str:
    """``cp  `` / ``abd-no-writeback ``: the policy at the start of a verdict line."""
    return policy.ljust(3) + " "


def _prop_word(prop: str, lang: str) -> str:
    from capsim.i18n import t

    return {"linearizable": t("linearizable", lang), "available": t("available", lang),
            "converges": t("converges", lang), "stale-free": t("stale-free", lang)}.get(prop, prop)

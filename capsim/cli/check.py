"""``capsim check HISTORY``: say whether a history file is linearizable, and if not, why.

``--model`` checks another rung of the consistency ladder (sequential,
causal, pram, ryw, mr, mw, wfr) or ``all`` of them.

Exit codes: 0 the model(s) hold, 1 a model is broken, 2 unreadable input or
bad arguments, 3 no verdict because a budget ran out.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from capsim.cli.app import app
from capsim.cli.common import die, user_errors

EXIT_LINEARIZABLE = 0
EXIT_NOT_LINEARIZABLE = 1
EXIT_UNREADABLE = 2
EXIT_UNKNOWN = 3


class Model(str, Enum):
    all = "all"
    linearizable = "linearizable"
    sequential = "sequential"
    causal = "causal"
    pram = "pram"
    ryw = "ryw"
    mr = "mr"
    mw = "mw"
    wfr = "wfr"


class HistoryFormat(str, Enum):
    auto = "auto"
    jsonl = "jsonl"
    edn = "edn"
    txt = "txt"


def parse_initial(items: list[str]) -> dict[str, Any]:
    """``["x=v0", "y=3"]`` -> ``{"x": "v0", "y": 3}``: JSON if it parses, else text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise die(f"--initial {item!r}: expected KEY=VALUE, e.g. --initial x=v0")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


@app.command()
def check(
    history: Annotated[
        Path,
        typer.Argument(
            help="History file: capsim history.jsonl, Jepsen history.edn, or Jepsen "
            "history.txt / log lines.",
            metavar="HISTORY",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        HistoryFormat,
        typer.Option("--format", help="Input format; auto tells them apart by content."),
    ] = HistoryFormat.auto,
    initial: Annotated[
        list[str] | None,
        typer.Option(
            "--initial",
            metavar="KEY=VALUE",
            help="A key's value before the history starts, KEY=VALUE (repeatable); "
            "VALUE is read as JSON when it can be (3, null), else as text (v0). "
            "Default: every key starts empty (None / nil).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the verdict as JSON for machines.")
    ] = False,
    budget_seconds: Annotated[
        float | None,
        typer.Option(
            "--budget-seconds",
            min=0.0,
            help="Give up after this many seconds (verdict unknown, exit 3).",
        ),
    ] = None,
    budget_steps: Annotated[
        int | None,
        typer.Option(
            "--budget-steps",
            min=1,
            help="Give up after this many search steps (verdict unknown, exit 3).",
        ),
    ] = None,
    model: Annotated[
        Model,
        typer.Option(
            "--model",
            help="Which consistency model to check: linearizable (default), sequential, "
            "causal, pram, ryw, mr, mw, wfr, or all of them (the ladder). With all, exit 1 "
            "if any model is broken.",
        ),
    ] = Model.linearizable,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of the sentences: en or zh.")
    ] = None,
) -> None:
    """Check whether a history is linearizable and explain a violation in words.

    Exit code 0: linearizable; 1: not linearizable; 2: the file cannot be
    read (the message names the line); 3: a budget ran out before a verdict.
    """
    with user_errors():
        from capsim.check.linearizable import check_linearizable
        from capsim.formats import detect_format, parse_history, read_text

        init = parse_initial(initial or [])
        text = read_text(history)
        kind = detect_format(text, history) if fmt is HistoryFormat.auto else fmt.value
        h = parse_history(text, kind, str(history))
        if model is not Model.linearizable:
            _check_models(history, kind, h, init, model, as_json, budget_steps, lang)
        result = check_linearizable(
            h, initial=init, budget_seconds=budget_seconds, budget_steps=budget_steps
        )
    n_ops = len(h.operations())
    keys = sorted({e.key for e in h}, key=str)
    unknown_keys = sorted(set(init) - set(keys))
    if as_json:
        doc = {"history": str(history), "format": kind, "operations": n_ops, **result.to_dict()}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _print_human(history, kind, n_ops, keys, result)
    for k in unknown_keys:
        typer.echo(f"note: --initial names key {k!r}, which the history never uses", err=True)
    if result.linearizable is True:
        raise typer.Exit(EXIT_LINEARIZABLE)
    if result.linearizable is False:
        raise typer.Exit(EXIT_NOT_LINEARIZABLE)
    raise typer.Exit(EXIT_UNKNOWN)


def _print_human(history: Path, kind: str, n_ops: int, keys: list[str], result: Any) -> None:
    key_word = "key" if len(keys) == 1 else "keys"
    typer.echo(f"{history} ({kind}): {n_ops} operations on {len(keys)} {key_word}")
    verdict = {True: "yes", False: "NO", "unknown": "unknown"}[result.linearizable]
    colour = {True: "green", False: "red", "unknown": "yellow"}[result.linearizable]
    typer.echo("linearizable: " + typer.style(verdict, fg=colour, bold=True))
    typer.echo(result.explanation)
    if result.linearizable is False:
        typer.echo(f"operations involved (invoke event index): {', '.join(map(str, result.ops))}")
        if result.break_time is not None:
            n_prefix = len(result.prefix_ops)
            typer.echo(
                f"longest linearizable prefix: {n_prefix} operation{'' if n_prefix == 1 else 's'}; "
                f"it breaks at t={result.break_time:g} s (event {result.break_op})"
            )


def _check_models(history: Path, kind: str, h: Any, init: dict[str, Any], model: Model,
                  as_json: bool, budget_steps: int | None, lang: str | None) -> None:
    """``--model``: one rung of the consistency ladder, or all of them; exits."""
    from capsim.check.ladder import check_ladder
    from capsim.check.model_result import MODELS
    from capsim.check.model_words import ladder_line, model_label
    from capsim.check.sequential import DEFAULT_STEPS

    models = list(MODELS) if model is Model.all else [model.value]
    ladder = check_ladder(h, initial=init, models=models, lang=lang,
                          budget_steps=budget_steps or DEFAULT_STEPS)
    n_ops = len(h.operations())
    if as_json:
        doc = {"history": str(history), "format": kind, "operations": n_ops,
               "models": ladder.to_dict()}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        typer.echo(f"{history} ({kind}): {n_ops} operations")
        if model is Model.all:
            typer.echo(ladder_line(ladder.verdicts(), lang))
        for m, r in ladder.results.items():
            word = {"yes": "yes", "no": "NO", "unknown": "unknown"}[r.verdict]
            colour = {"yes": "green", "no": "red", "unknown": "yellow"}[r.verdict]
            typer.echo(f"{model_label(m, lang)}: " + typer.style(word, fg=colour, bold=True))
            if r.verdict != "yes" or model is not Model.all:
                typer.echo(f"  {r.sentence}")
            if r.witness:
                typer.echo(f"  operations involved (invoke event index): "
                           f"{', '.join(map(str, r.witness))}")
    verdicts = set(ladder.verdicts().values())
    if "no" in verdicts:
        raise typer.Exit(EXIT_NOT_LINEARIZABLE)
    if "unknown" in verdicts:
        raise typer.Exit(EXIT_UNKNOWN)
    raise typer.Exit(EXIT_LINEARIZABLE)

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

from capsim.cli.common import die, user_errors
from capsim.cli.plotopts import LANG_HELP, check_lang
from capsim.cli.root import app
from capsim.i18n import localize, t

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
            raise die(t("--initial {item}: expected KEY=VALUE, e.g. --initial x=v0", "en",
                        item=repr(item)))
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
    no_explain: Annotated[
        bool,
        typer.Option(
            "--no-explain",
            help="Verdict only, for bulk checking: skip shrinking a violation to a few "
            "operations (same verdict and exit code; a short sentence says where it broke).",
        ),
    ] = False,
    model: Annotated[
        Model,
        typer.Option(
            "--model",
            help="Which consistency model to check: linearizable (default), sequential, "
            "causal, pram, ryw, mr, mw, wfr, or all of them (the ladder). With all, exit 1 "
            "if any model is broken.",
        ),
    ] = Model.linearizable,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP,
                                             callback=check_lang)] = None,
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
        beside = None if initial else initial_beside(history)
        if beside is not None:
            init = beside[0]
        if model is not Model.linearizable:
            _check_models(history, kind, h, init, model, as_json, budget_steps, lang)
        result = check_linearizable(
            h, initial=init, budget_seconds=budget_seconds, budget_steps=budget_steps,
            explain=not no_explain,
        )
        if result.linearizable is False and not initial and beside is None:
            result = _unless_initial_decides(h, result, history, budget_seconds, budget_steps,
                                             explain=not no_explain)
    n_ops = len(h.operations())
    keys = sorted({e.key for e in h}, key=str)
    unknown_keys = sorted(set(init) - set(keys))
    source = "--initial" if initial else (str(beside[1]) if beside is not None else None)
    if as_json:
        doc = {"history": str(history), "format": kind, "operations": n_ops,
               "initial": init, "initial_from": source, **result.to_dict()}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    else:
        if beside is not None:
            typer.echo(t("initial values (from {path}): {values}", lang, path=beside[1],
                         values=_assignments(init) or "none"))
        _print_human(history, kind, n_ops, keys, result, lang)
    for k in unknown_keys:
        typer.echo(t("note: --initial names key {key}, which the history never uses", lang,
                     key=repr(k)), err=True)
    if result.linearizable is True:
        raise typer.Exit(EXIT_LINEARIZABLE)
    if result.linearizable is False:
        raise typer.Exit(EXIT_NOT_LINEARIZABLE)
    raise typer.Exit(EXIT_UNKNOWN)


def initial_beside(history: Path) -> tuple[dict[str, Any], Path] | None:
    """The initial values from the ``result.json`` that ``capsim run`` wrote beside a history.

    A capsim history records operations, not the state the keys started in;
    the run's ``result.json`` does (``spec.initial``). None when there is no
    such file or it is not a capsim result.
    """
    path = history.parent / "result.json"
    try:
        if not path.is_file() or path.stat().st_size > 256 * 1024 * 1024:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    spec = doc.get("spec") if isinstance(doc, dict) else None
    init = spec.get("initial") if isinstance(spec, dict) else None
    if not isinstance(init, dict) or "capsim_version" not in doc:
        return None
    return {str(k): v for k, v in init.items()}, path


def _assignments(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _unless_initial_decides(
    h: Any, result: Any, history: Path, budget_seconds: float | None, budget_steps: int | None,
    *, explain: bool = True,
) -> Any:
    """A NO that rests on reads of values nobody wrote may only mean the keys had them at first.

    Without ``--initial`` or a ``result.json`` nobody knows. If assuming those
    values makes the history linearizable, the honest verdict is "unknown",
    said in words, with the flag that settles it.
    """
    import dataclasses

    from capsim.check.initial import unwritten_reads
    from capsim.check.linearizable import check_linearizable
    from capsim.i18n import t

    guess = unwritten_reads(h)
    if not guess or any(len(v) != 1 for v in guess.values()):
        return result
    cand = {k: v[0] for k, v in guess.items()}
    alt = check_linearizable(
        h, initial=cand, budget_seconds=budget_seconds, budget_steps=budget_steps,
        explain=explain,
    )
    if alt.linearizable is False:
        # NO either way: with the keys empty the unwritten reads break it, and
        # with any start value the reads of the other values do.
        note = t("(This holds whatever the keys' initial values were.)", None)
        return dataclasses.replace(alt, explanation=f"{alt.explanation.rstrip()} {note}")
    if alt.linearizable is not True:
        return result
    flags = " ".join(f"--initial {k}={json.dumps(v) if not isinstance(v, str) else v}"
                     for k, v in cand.items())
    reason = t("the keys' initial values are not recorded in {file}", None, file=history.name)
    text = t(
        "Unknown: the verdict depends on the keys' initial values, which {file} does not "
        "record. If {values} before the history started, it is linearizable; if the keys "
        "started empty, it is not ({why}) Pass {flags}, or keep the run's result.json "
        "beside the history.",
        None, file=history.name, values=_assignments(cand), why=result.explanation.rstrip(),
        flags=flags,
    )
    return dataclasses.replace(alt, linearizable="unknown", explanation=text, reason=reason)


def _print_human(history: Path, kind: str, n_ops: int, keys: list[str], result: Any,
                 lang: str | None = "en") -> None:
    if len(keys) == 1:
        head = t("{history} ({kind}): {n} operations on 1 key", lang, history=history,
                 kind=kind, n=n_ops)
    else:
        head = t("{history} ({kind}): {n} operations on {keys} keys", lang, history=history,
                 kind=kind, n=n_ops, keys=len(keys))
    typer.echo(head)
    verdict = {True: t("yes", lang), False: t("NO", lang),
               "unknown": t("unknown", lang)}[result.linearizable]
    colour = {True: "green", False: "red", "unknown": "yellow"}[result.linearizable]
    typer.echo(t("linearizable: {verdict}", lang,
                 verdict=typer.style(verdict, fg=colour, bold=True)))
    typer.echo(localize(result.explanation, lang))
    if result.linearizable is False:
        typer.echo(t("operations involved (invoke event index): {ops}", lang,
                     ops=", ".join(map(str, result.ops))))
        if result.break_time is not None:
            n_prefix = len(result.prefix_ops)
            at = {"time": f"{result.break_time:g}", "event": result.break_op}
            if n_prefix == 1:
                typer.echo(t("longest linearizable prefix: 1 operation; it breaks at t={time} s "
                             "(event {event})", lang, **at))
            else:
                typer.echo(t("longest linearizable prefix: {n} operations; it breaks at "
                             "t={time} s (event {event})", lang, n=n_prefix, **at))


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

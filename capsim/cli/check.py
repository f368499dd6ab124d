"""``capsim check HISTORY``: say whether a history file is linearizable, and if not, why.

Exit codes: 0 linearizable, 1 not linearizable, 2 unreadable input or bad
arguments, 3 no verdict because the ``--budget-*`` ran out.
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
        _print_human(history, kind, n_ops, keys, result, lang)
    for k in unknown_keys:
        typer.echo(t("note: --initial names key {key}, which the history never uses", lang,
                     key=repr(k)), err=True)
    if result.linearizable is True:
        raise typer.Exit(EXIT_LINEARIZABLE)
    if result.linearizable is False:
        raise typer.Exit(EXIT_NOT_LINEARIZABLE)
    raise typer.Exit(EXIT_UNKNOWN)


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

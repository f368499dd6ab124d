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

from capsim.cli.app import app
from capsim.cli.common import die, user_errors

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
    no_explain: Annotated[
        bool,
        typer.Option(
            "--no-explain",
            help="Verdict only, for bulk checking: skip shrinking a violation to a few "
            "operations (same verdict and exit code; a short sentence says where it broke).",
        ),
    ] = False,
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
            from capsim.i18n import t

            typer.echo(t("initial values (from {path}): {values}", None, path=beside[1],
                         values=_assignments(init) or "none"))
        _print_human(history, kind, n_ops, keys, result)
    for k in unknown_keys:
        typer.echo(f"note: --initial names key {k!r}, which the history never uses", err=True)
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

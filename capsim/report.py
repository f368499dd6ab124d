"""Reports: the numbers of a run as rows a person reads (terminal, HTML).

This module builds plain rows; rendering with rich happens in
:func:`render_table`, which imports rich lazily so the library stays light.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from capsim.i18n import tr

if TYPE_CHECKING:
    from rich.table import Table

    from capsim.result import RunResult


def _pct(x: float | None, lang: str) -> str:
    return tr("n/a", lang) if x is None else f"{100 * x:.0f}%"


def _secs(x: float | None, lang: str) -> str:
    if x is None:
        return tr("n/a", lang)
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def rows(result: RunResult, lang: str = "en") -> list[tuple[str, str]]:
    """(label, value) pairs: the table the CLI prints, one column per policy."""
    c = result.checks
    ops = c.get("ops", {})
    av = c.get("availability", {})
    st = c.get("stale_reads", {})
    lin = c.get("linearizable")
    if lin is None:
        lin_s = tr("n/a", lang)
    else:
        v = lin.get("linearizable")
        lin_s = tr("yes", lang) if v is True else tr("no", lang) if v is False else tr(
            "unknown", lang)
    p99 = max((d["p99"] for d in c.get("latency", {}).values()), default=None)
    conv = c.get("convergence")
    if conv is None or conv.get("last_heal") is None:
        conv_s = tr("n/a", lang)
    elif conv.get("converged"):
        conv_s = _secs(conv.get("time"), lang)
    else:
        conv_s = tr("never", lang)
    return [
        (tr("ops", lang), str(ops.get("total", 0))),
        (tr("ok/fail/info", lang), f"{ops.get('ok', 0)} / {ops.get('fail', 0)} / "
                                   f"{ops.get('info', 0)}"),
        (tr("availability", lang), _pct(av.get("overall"), lang)),
        (tr("availability during partition", lang), _pct(av.get("during_partition"), lang)),
        (tr("availability outside partition", lang), _pct(av.get("outside_partition"), lang)),
        (tr("linearizable", lang), lin_s),
        (tr("stale reads", lang), f"{st.get('count', 0)} / {st.get('reads', 0)}"),
        (tr("p99 latency", lang), _secs(p99, lang)),
        (tr("convergence", lang), conv_s),
    ]


def ladder_lines(result: RunResult, lang: str = "en") -> list[str]:
    """The consistency ladder of a run: one compact line, then a sentence per ✗.

    ``linearizable ✗ · sequential ✓ · causal ✓ · … · convergence ✓``. The
    linearizability sentence is printed elsewhere (it came first), so only
    the other broken rungs get a sentence here.
    """
    from capsim.check.model_words import ladder_line, model_label, render
    from capsim.i18n import t

    ladder = result.checks.get("ladder")
    if not ladder:
        return []
    verdicts = {m: d.get("verdict", "unknown") for m, d in ladder.items()}
    conv = result.checks.get("convergence")
    if conv is not None:
        verdicts["convergence"] = "yes" if conv.get("converged") else "no"
    lines = [t("{policy} ladder: {line}", lang, policy=result.label,
               line=ladder_line(verdicts, lang))]
    for m, d in ladder.items():
        if m != "linearizable" and d.get("verdict") in ("no", "unknown"):
            mark = "✗" if d.get("verdict") == "no" else "?"
            lines.append(f"  {mark} {model_label(m, lang)}: {render(d, lang)}")
    if conv is not None and not conv.get("converged") and conv.get("reason"):
        lines.append(f"  ✗ {model_label('convergence', lang)}: {conv['reason']}")
    return lines


def story(result: RunResult, limit: int = 20) -> list[str]:
    """The run's operations in words, one line each, when there are few of them."""
    ops = result.history.operations()
    if len(ops) > limit:
        return []
    lines = []
    for op in ops:
        what = (f"read {op.key}" if op.f == "read" else
                f"write {op.key}={op.invoke.value}" if op.f == "write" else
                f"cas {op.key} {op.invoke.value[0]}→{op.invoke.value[1]}")
        if op.complete is None:
            outcome = "no answer"
        elif op.type == "ok":
            outcome = f"ok {op.value}" if op.f == "read" else "ok"
        else:
            outcome = op.type + (f" ({op.complete.error})" if op.complete.error else "")
        end = "" if op.complete is None else f"→{op.complete.time:g}"
        lines.append(f"t={op.start:g}{end} {op.process}@{op.node} {what}: {outcome}")
    return lines


def render_table(results: Sequence[RunResult], lang: str = "en") -> Table:
    """A rich table, one column per policy, for the terminal."""
    from rich.table import Table

    title = results[0].scenario.name if results else ""
    table = Table(title=title, title_justify="left")
    table.add_column(tr("policy", lang))
    for r in results:
        table.add_column(r.label, justify="right")
    all_rows = [rows(r, lang) for r in results]
    for i, (label, _) in enumerate(all_rows[0] if all_rows else []):
        table.add_row(label, *[rs[i][1] for rs in all_rows])
    return table


def result_html(result: RunResult, lang: str = "en") -> str:
    """A small HTML summary for Jupyter (``RunResult._repr_html_``)."""
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows(result, lang)
    )
    lin = result.checks.get("linearizable") or {}
    expl = lin.get("explanation")
    note = f"<p>{html.escape(expl)}</p>" if expl else ""
    return (
        f"<div><b>{html.escape(result.scenario.name)}</b> under "
        f"<code>{html.escape(result.policy)}</code>, seed {result.seed}"
        f"<table>{cells}</table>{note}</div>"
    )


def summary_dict(result: RunResult) -> dict[str, Any]:
    """What ``--json`` prints for a run: result.json without the bulky parts."""
    d = result.to_dict()
    d.pop("trace", None)
    d.pop("spec", None)
    return d

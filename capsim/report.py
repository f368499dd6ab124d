"""Reports: the numbers of a run as rows a person reads (terminal, HTML).

This module builds plain rows; rendering with rich happens in
:func:`render_table`, which imports rich lazily so the library stays light.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from capsim.history import History
from capsim.i18n import localize, t, tr

if TYPE_CHECKING:
    from rich.table import Table


class RunResult(Protocol):
    """What a report reads of a run (:class:`capsim.result.RunResult` has it).

    A protocol, not an import, so that ``RunResult`` can show itself in
    Jupyter through this module without the two importing each other.
    """

    @property
    def scenario(self) -> Any: ...
    @property
    def policy(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def history(self) -> History: ...
    @property
    def checks(self) -> dict[str, Any]: ...
    @property
    def label(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def _pct(x: float | None, lang: str | None) -> str:
    return tr("n/a", lang) if x is None else f"{100 * x:.0f}%"


def _secs(x: float | None, lang: str | None) -> str:
    if x is None:
        return tr("n/a", lang)
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def rows(result: RunResult, lang: str | None = "en") -> list[tuple[str, str]]:
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
        conv_s = tr("never", lang) + ("*" if conv.get("why") else "")
    out = [
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
    if ops.get("not_issued"):
        out.insert(2, (t("not issued", lang), str(ops["not_issued"])))
    return out


def ladder_lines(result: RunResult, lang: str | None = None) -> list[str]:
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
        lines.append(f"  ✗ {model_label('convergence', lang)}: {localize(conv['reason'], lang)}")
    return lines


def notes(result: RunResult, lang: str | None = None) -> list[str]:
    """Sentences a bare number in the table would leave open: why "never", what "not issued" is."""
    c = result.checks
    out = []
    why = (c.get("convergence") or {}).get("why")
    if why:
        out.append(t("{policy}: convergence never*: {why}.", lang, policy=result.label,
                     why=t(why, lang)))
    n = (c.get("ops") or {}).get("not_issued")
    if n:
        out.append(t("{policy}: {n} planned operations were never issued: a client waits for "
                     "the answer to its previous operation (or for its timeout) before it "
                     "issues the next one, and the run ended while they were still queued.",
                     lang, policy=result.label, n=n))
    return out


def story(result: RunResult, limit: int = 20, lang: str | None = "en") -> list[str]:
    """The run's operations in words, one line each, when there are few of them.

    A refusal's reason is stored in English in the history (its bytes must
    not depend on the reader); :func:`capsim.i18n.localize` says it in ``lang``.
    """
    ops = result.history.operations()
    if len(ops) > limit:
        return []
    lines = []
    for op in ops:
        if op.f == "read":
            what = t("read {key}", lang, key=op.key)
        elif op.f == "write":
            what = t("write {key}={value}", lang, key=op.key, value=op.invoke.value)
        else:
            what = t("cas {key} {expected}→{new}", lang, key=op.key,
                     expected=op.invoke.value[0], new=op.invoke.value[1])
        if op.complete is None:
            outcome = t("no answer", lang)
        elif op.type == "ok":
            outcome = t("ok {value}", lang, value=op.value) if op.f == "read" else t("ok", lang)
        else:
            kind = t("fail", lang) if op.type == "fail" else t("info", lang)
            outcome = (t("{outcome} ({why})", lang, outcome=kind,
                         why=localize(op.complete.error, lang))
                       if op.complete.error else kind)
        end = "" if op.complete is None else f"→{op.complete.time:g}"
        lines.append(t("t={start}{end} {process}@{node} {what}: {outcome}", lang,
                       start=f"{op.start:g}", end=end, process=op.process, node=op.node,
                       what=what, outcome=outcome))
    return lines


def render_table(results: Sequence[RunResult], lang: str | None = "en") -> Table:
    """A rich table, one column per policy, for the terminal."""
    from rich.table import Table

    title = results[0].scenario.name if results else ""
    table = Table(title=title, title_justify="left")
    table.add_column(tr("policy", lang))
    for r in results:
        table.add_column(r.label, justify="right")
    extra = any("leadership" in r.checks for r in results)
    per = [rows(r, lang) + (leadership_rows(r, lang) if extra else []) for r in results]
    all_rows = [dict(x) for x in per]
    labels: list[str] = []
    for x in per:
        labels += [label for label, _ in x if label not in labels]
    for label in labels:
        # only "not issued" can be missing from a column: it is shown when nonzero
        table.add_row(label, *[rs.get(label, "0") for rs in all_rows])
    return table


def leadership_rows(result: RunResult, lang: str | None = None) -> list[tuple[str, str]]:
    """Two more rows for leader-based policies: who led (term), and leaderless time."""
    ld = result.checks.get("leadership")
    if ld is None:
        return [(t("leaders (term)", lang), tr("n/a", lang)),
                (t("time without a leader", lang), tr("n/a", lang))]
    leaders = ", ".join(f"{e['node']} ({e['term']})" for e in ld["elections"]) or t(
        "none", lang)
    return [(t("leaders (term)", lang), leaders),
            (t("time without a leader", lang), _secs(ld["time_without_leader"], lang))]


def leadership_lines(result: RunResult, lang: str | None = None) -> list[str]:
    """The run's elections and step-downs in words, and why a partition had no leader."""
    ld = result.checks.get("leadership")
    if ld is None:
        return []
    events: list[tuple[float, int, str]] = []
    for e in ld["elections"]:
        if e["after"] is None:
            text = t("{node} became leader of term {term} at t={time:g}.", lang,
                     node=e["node"], term=e["term"], time=round(e["time"], 3))
        else:
            text = t("{node} became leader of term {term} at t={time:g}, after {after:g} s "
                     "without a leader.", lang, node=e["node"], term=e["term"],
                     time=round(e["time"], 3), after=round(e["after"], 3))
        events.append((e["time"], 1, text))
    for e in ld["step_downs"]:
        msg = ("{node}, leader of term {term}, crashed at t={time:g}." if e.get("crashed")
               else "{node} stepped down as leader of term {term} at t={time:g}.")
        events.append((e["time"], 0, t(msg, lang, node=e["node"], term=e["term"],
                                       time=round(e["time"], 3))))
    for p in ld["no_majority"]:
        events.append((p["start"], 2, t(
            "During the partition {label} (t={start:g} to {end:g}) no side holds a majority "
            "({majority} of {n} nodes): nobody can be elected, so no write can commit.",
            lang, label=p["label"], start=p["start"], end=p["end"], majority=ld["majority"],
            n=len(result.scenario.nodes))))
    if ld["two_leaders"]:
        events.append((0.0, -1, t("Two nodes led in the same term {terms}: Election Safety "
                                  "is broken.", lang,
                                  terms=", ".join(map(str, ld["two_leaders"])))))
    return [text for _, _, text in sorted(events, key=lambda x: (x[0], x[1]))]


def result_html(result: RunResult, lang: str | None = None) -> str:
    """A small HTML summary for Jupyter (``RunResult._repr_html_``).

    ``lang=None`` follows ``CAPSIM_LANG``, so a Chinese notebook sets it once.
    """
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows(result, lang)
    )
    lin = result.checks.get("linearizable") or {}
    expl = lin.get("explanation")
    note = f"<p>{html.escape(localize(expl, lang))}</p>" if expl else ""
    note += "".join(f"<p>{html.escape(n)}</p>" for n in notes(result, lang))
    head = t("{name} under {policy}, seed {seed}", lang, name="\0", policy="\1",
             seed=result.seed)
    head = html.escape(head).replace(
        "\0", f"<b>{html.escape(result.scenario.name)}</b>").replace(
        "\1", f"<code>{html.escape(result.policy)}</code>")
    return f"<div>{head}<table>{cells}</table>{note}</div>"


def summary_dict(result: RunResult) -> dict[str, Any]:
    """What ``--json`` prints for a run: result.json without the bulky parts."""
    d = result.to_dict()
    d.pop("trace", None)
    d.pop("spec", None)
    return d

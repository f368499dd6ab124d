"""The data a report page draws: one JSON document built from the runs.

The page's script reads only this document, so everything it shows (every
operation, fault, replica value and message) can be checked here, in Python,
without a browser. Colours come from :mod:`capsim.plot.style` and words from
the catalogue, so the page and the PNGs speak the same language.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from capsim.i18n import LANGS
from capsim.plot import style
from capsim.report import rows
from capsim.report_html.words import words

if TYPE_CHECKING:
    from capsim.result import RunResult

#: Bumped when the shape of the document changes (the page checks it).
SCHEMA = 1

#: Message fields, in the order each message's list holds them.
MESSAGE_FIELDS = ("sent", "src", "dst", "kind", "end", "status")
#: Trace fields, in the order each trace entry's list holds them.
TRACE_FIELDS = ("time", "node", "key", "value")


def _num(x: float) -> float:
    """Times as JSON numbers, rounded to the history's own resolution (1 ns)."""
    return round(float(x), 9)


def palette() -> dict[str, Any]:
    """The PNGs' colours, read from the plot style so both always match."""
    return {
        "values": list(style.VALUE_COLOURS),
        "stale": style.STALE,
        "violation": style.VIOLATION,
        "fail": style.FAIL_FILL,
        "info": style.INFO_EDGE,
        "partition_shade": style.PARTITION_SHADE,
        "partition": style.PARTITION_BAR,
        "crash": style.CRASH_BAR,
        "converged": style.CONVERGED,
        "kinds": list(style.KIND_COLOURS),
        "ink": style.INK,
        "muted": style.MUTED,
    }


def _ops(result: RunResult) -> Iterator[dict[str, Any]]:
    stale = set((result.checks.get("stale_reads") or {}).get("ops", []))
    for op in result.history.operations():
        c = op.complete
        yield {
            "id": op.invoke.index,
            "client": op.process,
            "node": op.node,
            "f": op.f,
            "key": op.key,
            "value": None if op.value is None else style.show_value(op.value),
            "start": _num(op.start),
            "end": None if c is None else _num(c.time),
            "type": op.type,
            "error": None if c is None else c.error,
            "stale": op.invoke.index in stale,
        }


def _trace(result: RunResult) -> Iterator[list[Any]]:
    for t in result.trace:
        yield [_num(t.time), t.node, t.key, None if t.value is None else style.show_value(t.value)]


#: At most this many messages per run go into the page: a 100k-op run on 7
#: replicas sends ~2.4 million (150 MB of page, more than a browser can draw
#: or scrub). The page says how many it holds and up to when; every message
#: stays in the run's ``messages.jsonl``.
REPORT_MESSAGES = 20_000


def _messages(result: RunResult) -> Iterator[list[Any]]:
    for i, m in enumerate(result.messages):
        if i >= REPORT_MESSAGES:
            break
        yield [_num(m.sent), m.src, m.dst, m.kind, _num(m.end), m.status]


def _messages_cut(result: RunResult) -> dict[str, Any] | None:
    """How many messages the page leaves out, or None when it holds them all."""
    total = len(result.messages)
    if total <= REPORT_MESSAGES:
        return None
    return {"shown": REPORT_MESSAGES, "total": total,
            "until": _num(result.messages[REPORT_MESSAGES - 1].sent)}


#: The lists that grow with a run (one entry per operation, stored value or
#: message): :func:`report_data` can leave a :func:`slot` in their place, for
#: :func:`capsim.report_html.page.report_chunks` to stream in.
STREAMED = {"ops": _ops, "trace": _trace, "messages": _messages}


def slot(i: int, field: str) -> str:
    """What stands in for run ``i``'s ``field`` (one of :data:`STREAMED`) until streamed."""
    return f"\x00capsim-{field}-{i}\x00"


def _violation(result: RunResult) -> dict[str, Any] | None:
    lin = style.violation(result)
    if lin.get("linearizable") is not False:
        return None
    return {
        "key": lin.get("key"),
        "ops": list(lin.get("ops") or []),
        "break_op": lin.get("break_op"),
        "break_time": style.break_time(result),
        "explanation": lin.get("explanation") or "",
    }


def _convergence(result: RunResult) -> float | None:
    conv = result.checks.get("convergence") or {}
    at = conv.get("at")
    return _num(at) if conv.get("converged") and isinstance(at, (int, float)) else None


def run_data(result: RunResult, colours: style.ValueColours,
             slots: int | None = None) -> dict[str, Any]:
    """One policy's panel: lanes, operations, faults, replica values, messages, checks.

    With ``slots`` (the run's position), the :data:`STREAMED` lists are
    :func:`slot` strings instead.
    """
    big = {f: (list(rows(result)) if slots is None else slot(slots, f))
           for f, rows in STREAMED.items()}
    from capsim.plot.timeline import clients_of, x_extent

    sc = result.scenario
    values: dict[str, list[str]] = {}

    def colour(v: Any) -> None:
        if v is not None:
            fill = colours(v)
            values.setdefault(style.show_value(v), [fill, style.text_colour(fill)])

    for k in sorted(sc.initial):
        colour(sc.initial[k])
    for t in result.trace:
        colour(t.value)
    for e in result.history:
        if e.type == "invoke" and e.f in ("write", "cas"):
            colour(e.value[1] if e.f == "cas" else e.value)
    keys = list(sc.keys) or sorted({t.key for t in result.trace})
    return {
        "policy": result.policy,
        "label": result.label,
        "seed": result.seed,
        "end": _num(x_extent(result)),
        "nodes": list(sc.nodes),
        "keys": keys,
        "initial": {k: style.show_value(v) for k, v in sc.initial.items()},
        "clients": [{"name": n, "node": node} for n, node in clients_of(result)],
        "ops": big["ops"],
        "trace": big["trace"],
        "faults": [{"kind": f.kind, "start": _num(f.start), "end": _num(f.end),
                    "groups": f.groups,
                    "label": {lang: style.fault_label(f, lang) for lang in LANGS}}
                   for f in result.faults],
        "messages": big["messages"],
        "messages_cut": _messages_cut(result),
        "colours": values,
        "violation": _violation(result),
        "converged_at": _convergence(result),
        "checks": {lang: [list(r) for r in rows(result, lang)] for lang in LANGS},
        "summary": {lang: style.summary_line(result, lang) for lang in LANGS},
    }


def report_data(results: Sequence[RunResult], lang: str = "en",
                explore: dict[str, Any] | None = None, *, slots: bool = False) -> dict[str, Any]:
    """The whole page's document: every run (stacked, one time axis), words, colours.

    ``slots``: each run's :data:`STREAMED` lists are :func:`slot` strings.
    """
    results = list(results)
    if not results:
        raise ValueError("a report needs at least one run")
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)} (got {lang!r})")
    colours = style.ValueColours(results)
    runs = [run_data(r, colours, i if slots else None) for i, r in enumerate(results)]
    sc = results[0].scenario
    return {
        "schema": SCHEMA,
        "scenario": sc.name,
        "description": sc.description or "",
        "lang": lang,
        "langs": list(LANGS),
        "end": max(r["end"] for r in runs),
        "runs": runs,
        "palette": palette(),
        "words": words(),
        "message_fields": list(MESSAGE_FIELDS),
        "trace_fields": list(TRACE_FIELDS),
        "explore": explore,
    }

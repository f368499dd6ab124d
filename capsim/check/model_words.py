"""Sentences for the consistency ladder, in the reader's language (via :func:`t`).

Kept apart from the checkers so each checker stays a search and each
sentence is written once; the Chinese lives in the message catalogue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from capsim.check.model_result import SHORT, WitnessOp
from capsim.history import Operation
from capsim.i18n import localize, t


def witness_ops(ops: Sequence[Operation]) -> tuple[WitnessOp, ...]:
    out = []
    for o in sorted(ops, key=lambda x: x.invoke.index):
        value = o.value
        if o.f == "cas":
            v = o.invoke.value
            value = (v[0], v[1])
        out.append(WitnessOp(o.invoke.index, o.process, o.node, o.f, o.key, o.type, value,
                             o.start, o.end))
    return tuple(out)


def _show(v: Any) -> str:
    if v is None:
        return "None"
    return v if isinstance(v, str) else str(v)


def _who(process: str) -> str:
    return f"process {process}" if process.lstrip("-").isdigit() else process


def _time(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else "?"


def op_clause(o: WitnessOp, lang: str | None = None) -> str:
    """One operation in words: who did what, where and when."""
    who, node, at = _who(o.process), o.node or "?", _time(o.start)
    if o.f == "read":
        return t("{who} read {value} of {key} from {node} at t={time} s", lang, who=who,
                 value=_show(o.value), key=o.key, node=node, time=_time(o.end))
    if o.f == "write":
        if o.type != "ok":
            return t("{who} wrote {value} to {key} on {node} at t={time} s (no answer)", lang,
                     who=who, value=_show(o.value), key=o.key, node=node, time=at)
        return t("{who} wrote {value} to {key} on {node} at t={time} s", lang, who=who,
                 value=_show(o.value), key=o.key, node=node, time=at)
    old, new = o.value
    return t("{who} changed {key} from {old} to {new} on {node} at t={time} s", lang, who=who,
             key=o.key, old=_show(old), new=_show(new), node=node, time=at)


def op_list(ops: Sequence[WitnessOp], lang: str | None = None) -> str:
    return "; ".join(op_clause(o, lang) for o in sorted(ops, key=lambda o: (o.start, o.index)))


def yes(lang: str | None = None) -> str:
    return t("Holds: the checker found an order that explains every read.", lang)


def implied(model: str, lang: str | None = None) -> str:
    return t("Holds: implied by {model}, which holds.", lang, model=model_label(model, lang))


def no_verdict(kind: str, lang: str | None = None, **fields: Any) -> str:
    if kind == "budget":
        return t("No verdict: the search budget ({steps} steps) ran out.", lang,
                 steps=fields.get("steps"))
    if kind == "search":
        return t("No verdict: the exact search for {process}'s view ran out of effort.", lang,
                 process=_who(str(fields.get("process"))))
    return t("No verdict: {reason}.", lang, reason=fields.get("reason"))


def thin_air(o: WitnessOp, initial: Mapping[str, Any], lang: str | None = None) -> str:
    return t("{who} read {value} of {key} at t={time} s, but no operation ever wrote {value} "
             "and {key} did not start with it: every model on the ladder breaks.", lang,
             who=_who(o.process), value=_show(o.value), key=o.key, time=_time(o.end))


def sequential_no(ops: Sequence[WitnessOp], initial: Mapping[str, Any],
                  lang: str | None = None) -> str:
    return t("No single order of all the operations keeps each client's own order and explains "
             "every value read; these {n} operations alone already cannot be ordered: {ops}.",
             lang, n=len(ops), ops=op_list(ops, lang))


_VIEW_NO = {
    "causal": "{process} saw an effect before its cause: no order of the writes respects what "
              "each client did and read before writing and explains what {process} read. "
              "Witness: {ops}.",
    "pram": "{process} saw writes in an order no client made them in (one client's writes must "
            "be seen in that client's order, together with {process}'s own): {ops}.",
    "ryw": "{process} did not read their own writes: after their own write, a read returned a "
           "value that write had to hide. Witness: {ops}.",
    "mr": "{process}'s reads went back in time: a later read returned a value older than one "
          "they had already read. Witness: {ops}.",
    "mw": "{process} saw one client's writes out of the order that client made them. "
          "Witness: {ops}.",
    "wfr": "{process} saw a write without the write its author had read before making it. "
           "Witness: {ops}.",
}


def view_no(model: str, process: str, ops: Sequence[WitnessOp], lang: str | None = None) -> str:
    return t(_VIEW_NO[model], lang, process=_who(process), ops=op_list(ops, lang))


_LABELS = {
    "linearizable": "linearizable",
    "sequential": "sequential",
    "causal": "causal",
    "pram": "PRAM",
    "ryw": "read your writes",
    "mr": "monotonic reads",
    "mw": "monotonic writes",
    "wfr": "writes follow reads",
    "convergence": "convergence",
}


def model_label(model: str, lang: str | None = None) -> str:
    """The model's name for a sentence (``read your writes``)."""
    return t(_LABELS.get(model, model), lang)


def short_label(model: str, lang: str | None = None) -> str:
    """The model's name for the compact ladder line (``RYW``)."""
    return t(SHORT.get(model, model), lang)


_MARK = {"yes": "✓", "no": "✗", "unknown": "?"}


def ladder_line(verdicts: Mapping[str, str], lang: str | None = None) -> str:
    """``linearizable ✗ · sequential ✓ · causal ✓ · …`` in ladder order."""
    return " · ".join(f"{short_label(m, lang)} {_MARK.get(v, '?')}" for m, v in verdicts.items())


def render(d: Mapping[str, Any], lang: str | None = None) -> str:
    """A rung's sentence (from its ``to_dict()``) again, in ``lang``.

    result.json keeps English (so the file does not depend on the locale);
    tables in other languages rebuild the sentence from the stored witness.
    """
    verdict, model = d.get("verdict"), d.get("model", "")
    if model == "linearizable" or verdict == "unknown":
        return localize(str(d.get("sentence", "")), lang)
    if verdict == "yes":
        return implied(d["implied_by"], lang) if d.get("implied_by") else yes(lang)
    ops = tuple(
        WitnessOp(o["index"], o["process"], o.get("node"), o["f"], o["key"], o["type"],
                  tuple(o["value"]) if isinstance(o["value"], list) else o["value"],
                  o["start"], math.inf if o.get("end") is None else o["end"])
        for o in d.get("witness_ops", [])
    )
    if d.get("pattern") == "ThinAirRead" and ops:
        return thin_air(ops[0], {}, lang)
    if model == "sequential":
        return sequential_no(ops, {}, lang)
    if model in _VIEW_NO:
        return view_no(model, str(d.get("process")), ops, lang)
    return localize(str(d.get("sentence", "")), lang)


__all__ = [
    "implied",
    "ladder_line",
    "model_label",
    "no_verdict",
    "op_clause",
    "op_list",
    "render",
    "sequential_no",
    "short_label",
    "thin_air",
    "view_no",
    "witness_ops",
    "yes",
]

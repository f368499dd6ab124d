"""Schedules in words: one line per step, and one sentence per verdict.

Every sentence goes through the message catalogue (English and Simplified
Chinese), as everything else a student reads.
"""

from __future__ import annotations

import json
from typing import Any

from capsim.check.explain import show_value
from capsim.explore.model import Action, Completion, Model, StepResult
from capsim.i18n import t
from capsim.sim.nemesis import partition_label


def fault_label(model: Model, i: int, lang: str | None = None) -> str:
    ev = model.nemesis[i]
    if ev.partition is not None:
        named = {n for g in ev.partition for n in g}
        rest = [n for n in model.nodes if n not in named]
        groups = [list(g) for g in ev.partition] + ([rest] if rest else [])
        return t("the network splits: {groups}", lang, groups=partition_label(groups))
    if ev.cut is not None:
        return t("messages from {src} to {dst} are cut", lang,
                 src=", ".join(ev.cut.from_), dst=", ".join(ev.cut.to))
    if ev.heal:
        return t("the network heals", lang)
    if ev.crash is not None:
        return t("{node} crashes", lang, node=ev.crash)
    return t("{node} recovers", lang, node=ev.recover)


def op_text(model: Model, gid: int) -> str:
    op = model.ops[gid]
    if op.f == "read":
        return f"{op.process}@{op.node} read {op.key}"
    if op.f == "cas":
        old, new = op.value
        return f"{op.process}@{op.node} cas {op.key} {show_value(old)}→{show_value(new)}"
    return f"{op.process}@{op.node} write {op.key}={show_value(op.value)}"


def _outcome(model: Model, c: Completion) -> str:
    op = model.ops[c.op]
    if c.type == "ok":
        return "ok " + show_value(c.value) if op.f == "read" else "ok"
    return c.type


def msg_text(m: tuple[str, str, str, str]) -> str:
    return f"{m[0]}→{m[1]} {m[2]}"


def step_label(model: Model, a: Action, r: StepResult, lang: str | None = None) -> str:
    """``alice@G1 write x=v1 → ok  (G1 stores v1; replicate G1→G2 in flight)``."""
    rec = r.record or []
    kind = a[0]
    comps = [c for tag, c in rec if tag == "complete"]
    if kind == "fault":
        head = fault_label(model, int(rec[0][1]), lang)
    elif kind == "anyfault":
        what = a[1]
        if what[0] == "partition":
            head = t("the network splits: {groups}", lang,
                     groups=partition_label([list(g) for g in what[1]]))
        elif what[0] == "heal":
            head = t("the network heals", lang)
        elif what[0] == "crash":
            head = t("{node} crashes", lang, node=what[1])
        else:
            head = t("{node} recovers", lang, node=what[1])
    elif kind == "invoke":
        gid = int(rec[0][1])
        head = op_text(model, gid)
        mine = [c for c in comps if c.op == gid]
        if mine:
            head += " → " + _outcome(model, mine[0])
            comps = [c for c in comps if c.op != gid]
    elif kind == "deliver":
        head = t("{msg} delivered", lang, msg=msg_text(a[1]))
    elif kind == "drop":
        head = t("{msg} dropped", lang, msg=msg_text(a[1]))
    elif kind == "lost":
        why = t("the link is cut", lang) if (a[1][0], a[1][1]) in model.blocked[r.state.faults] \
            else t("{node} is down", lang, node=a[1][1])
        head = t("{msg} lost ({why})", lang, msg=msg_text(a[1]), why=why)
    elif kind == "timer":
        head = t("{node}'s timer {token} fires", lang, node=a[1][0], token=a[1][1])
    else:
        head = t("{client} gives up", lang, client=model.client_names[a[1]])
    for c in comps:
        head += f"; {op_text(model, c.op)} → {_outcome(model, c)}"
    notes = []
    for tag, x in rec:
        if tag == "stored":
            notes.append(t("{node} stores {value}", lang, node=x[0], value=show_value(x[2])))
        elif tag == "send":
            notes.append(t("{msg} in flight", lang, msg=msg_text(x)))
        elif tag == "cut":
            notes.append(t("{msg} cut", lang, msg=msg_text(x)))
    if notes:
        head += "  (" + "; ".join(notes) + ")"
    return head


def schedule_step(model: Model, a: Action, label: str) -> dict[str, Any]:
    """One step of ``schedule.json`` (see :mod:`capsim.sim.schedule`)."""
    kind = a[0]
    if kind == "fault":
        return {"do": "fault", "label": label}
    if kind == "anyfault":
        what = a[1]
        spec: dict[str, Any] = (
            {"partition": [list(g) for g in what[1]]} if what[0] == "partition"
            else {"heal": True} if what[0] == "heal" else {what[0]: what[1]})
        return {"do": "fault", **spec, "label": label}
    if kind in ("invoke", "timeout"):
        return {"do": kind, "client": model.client_names[a[1]], "label": label}
    if kind == "timer":
        return {"do": "timer", "node": a[1][0], "token": json.loads(a[1][1]), "label": label}
    src, dst, mkind, payload = a[1]
    return {"do": kind, "src": src, "dst": dst, "kind": mkind, "msg": json.loads(payload),
            "label": label}

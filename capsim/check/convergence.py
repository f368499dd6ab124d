"""Convergence: how long after the last heal until live replicas agree again."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from capsim.i18n import t
from capsim.records import Fault, TraceEntry


def convergence(trace: Sequence[TraceEntry], faults: Sequence[Fault],
                nodes: Sequence[str], duration: float) -> dict[str, Any]:
    """Seconds from the last heal (or recovery) until every live replica holds the
    same value for every key and keeps holding it to the end of the run.

    ``time`` is ``None`` with ``converged: false`` when they still disagree at
    the end ("never" within the run), or when a fault is still in force.
    """
    still = [f for f in faults if f.end >= duration]
    ended = [f.end for f in faults if f.end < duration]
    heal = max(ended) if ended else None
    down_at_end = {f.groups[0][0] for f in still if f.kind == "crash"}
    live = [n for n in nodes if n not in down_at_end]
    keys = {e.key for e in trace}
    live_set = set(live)
    # Per key, how many live replicas hold each value (by repr, so unhashable values
    # count too); a key agrees when one value is held by all. Updated per trace entry,
    # so the replay is one pass over the trace, whatever the number of keys and nodes.
    holders: dict[str, dict[str, int]] = {k: {"None": len(live)} for k in keys}
    state: dict[tuple[str, str], str] = {}
    disagree = 0
    agree_since: float | None = 0.0
    start = heal if heal is not None else 0.0

    for now, entries in groupby(sorted(trace, key=lambda e: e.time), key=lambda e: e.time):
        for e in entries:
            if e.node not in live_set:
                continue
            counts = holders[e.key]
            was_split = len(counts) > 1
            old = state.get((e.node, e.key), "None")
            new = repr(e.value)
            state[(e.node, e.key)] = new
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
            counts[new] = counts.get(new, 0) + 1
            disagree += (len(counts) > 1) - was_split
        if disagree:
            agree_since = None
        elif agree_since is None:
            agree_since = now
    out: dict[str, Any] = {"last_heal": heal, "live_nodes": live}
    net_open = [f for f in still if f.kind in ("partition", "cut")]
    if net_open:
        out.update(converged=False, at=None, time=None,
                   reason=f"{net_open[-1].label} is still in force at the end of the run")
        return out
    if agree_since is None:
        out.update(converged=False, at=None, time=None,
                   reason=t("live replicas still disagree at the end of the run", "en"))
        return out
    at = max(agree_since, start)
    out.update(converged=True, at=at, time=round(at - start, 9) if heal is not None else None)
    return out

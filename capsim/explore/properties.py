"""What the explorer proves: properties checked on every step of every schedule.

* ``linearizable`` — every history a schedule produces is linearizable
  (checked incrementally, key by key, see :mod:`capsim.explore.linear`).
* ``available`` — the A in CAP, per policy: every request to a live replica
  (``ap``: any live replica; every other policy: a live replica on a side of
  the network holding a majority of the replicas), which stays so until the
  request ends, is answered ``ok``. A ``fail``, an ``info``, or a client
  giving up on such a request violates it.
* ``converges`` — in every quiescent state after the last fault (every
  client done, nothing in flight), letting every replica's timers fire and
  delivering what they send, round after round (``SETTLE_ROUNDS`` rounds),
  leaves all live replicas holding the same value for every key.
* ``stale-free`` — no read returns a value that had been overwritten before
  the read began (capsim's stale read, :mod:`capsim.check.staleness`): its
  write ended before another write began that was acknowledged before the
  read began. Judged when the read completes; needs every value written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from capsim.errors import CapsimError
from capsim.explore.model import Action, Model, State, StepResult

PROPERTIES: tuple[str, ...] = ("linearizable", "available", "converges", "stale-free")
SETTLE_ROUNDS = 3


@dataclass(frozen=True)
class Violation:
    """One property broken, with what a sentence about it needs."""

    property: str
    detail: dict[str, Any]
    extra: tuple[Action, ...] = ()  # settle steps after the state (converges)


def parse_properties(names: Sequence[str]) -> list[str]:
    out = []
    for n in names:
        if n not in PROPERTIES:
            raise CapsimError(f"unknown property {n!r}; valid properties: {', '.join(PROPERTIES)}")
        if n not in out:
            out.append(n)
    return out or ["linearizable"]


class Checker:
    """The selected properties, asked about every step and every new state."""

    def __init__(self, properties: Sequence[str]) -> None:
        self.properties = list(properties)
        self._lin = "linearizable" in self.properties
        self._avail = "available" in self.properties
        self._conv = "converges" in self.properties
        self._stale = "stale-free" in self.properties

    def on_step(self, model: Model, s: State, a: Action, r: StepResult) -> list[Violation]:
        out: list[Violation] = []
        if self._lin and r.violation is not None:
            out.append(Violation("linearizable", {"key": r.violation}))
        if self._stale and r.stale is not None:
            op = model.ops[r.stale]
            value = next(c.value for c in r.completions if c.op == r.stale)
            out.append(Violation("stale-free", {"client": op.process, "node": op.node,
                                                "key": op.key, "value": value}))
        if self._avail:
            for c in r.completions:
                if c.counts and c.type != "ok":
                    op = model.ops[c.op]
                    out.append(Violation("available", {
                        "client": op.process, "node": op.node, "f": op.f, "type": c.type,
                        "error": c.error or ""}))
                    break
        return out

    def on_state(self, model: Model, s: State) -> list[Violation]:
        if not self._conv or not model.quiescent(s):
            return []
        v = settle(model, s)
        return [] if v is None else [v]


def values(model: Model, s: State) -> dict[str, dict[str, Any]]:
    """Each replica's value for each key in ``s`` (down replicas included)."""
    out: dict[str, dict[str, Any]] = {}
    for node in model.nodes:
        r = model.replica(s, node)
        out[node] = {k: r.value_of(k) for k in model.scenario.keys}
    return out


def _agree(model: Model, s: State) -> bool:
    vals = values(model, s)
    live = [n for n in model.nodes if n not in model.down[s.faults]]
    return all(len({repr(vals[n][k]) for n in live}) <= 1 for k in model.scenario.keys)


def settle(model: Model, s: State) -> Violation | None:
    """From quiescent ``s``: rounds of every timer, each followed by every delivery."""
    if _agree(model, s):
        return None
    steps: list[Action] = []
    for _ in range(SETTLE_ROUNDS):
        for tm in sorted(set(s.timers)):
            if ("timer", tm) not in model.actions(s):
                continue
            s = _do(model, s, ("timer", tm), steps)
            while s.flight:
                m = s.flight[0]
                kind = "deliver" if ("deliver", m) in model.actions(s) else "lost"
                s = _do(model, s, (kind, m), steps)
        if _agree(model, s):
            return None
    vals = values(model, s)
    live = [n for n in model.nodes if n not in model.down[s.faults]]
    key = next(k for k in model.scenario.keys if len({repr(vals[n][k]) for n in live}) > 1)
    return Violation("converges", {"key": key, "values": {n: vals[n][key] for n in live}},
                     tuple(steps))


def _do(model: Model, s: State, a: Action, steps: list[Action]) -> State:
    steps.append(a)
    return model.step(s, a).state

"""Hand-written register histories for the checker and format tests.

A history is written as operations (who, what, value, from when, to when);
:func:`build` turns them into the invoke/completion events a real run
records, in time order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capsim.history import Event, History


@dataclass(frozen=True)
class Op:
    process: str
    f: str
    value: Any
    start: float
    end: float | None  # None: never answered
    type: str = "ok"
    node: str | None = None
    key: str = "x"


def w(process: str, value: Any, start: float, end: float | None, **kw: Any) -> Op:
    return Op(process, "write", value, start, end, **kw)


def r(process: str, value: Any, start: float, end: float | None, **kw: Any) -> Op:
    return Op(process, "read", value, start, end, **kw)


def cas(process: str, expected: Any, new: Any, start: float, end: float | None, **kw: Any) -> Op:
    return Op(process, "cas", (expected, new), start, end, **kw)


def build(*ops: Op) -> History:
    """Events in time order; at equal times, completions before invokes."""
    raw: list[tuple[float, int, int, Event]] = []
    for seq, o in enumerate(ops):
        invoke_value = None if o.f == "read" else o.value
        invoke = Event(0, o.start, o.process, o.node, "invoke", o.f, o.key, invoke_value)  # type: ignore[arg-type]
        raw.append((o.start, 1, seq, invoke))
        if o.end is not None:
            value = o.value if (o.f != "read" or o.type == "ok") else None
            done = Event(0, o.end, o.process, o.node, o.type, o.f, o.key, value)  # type: ignore[arg-type]
            raw.append((o.end, 0, seq, done))
    raw.sort(key=lambda t: (t[0], t[1], t[2]))
    events = []
    for i, (_, _, _, e) in enumerate(raw):
        events.append(Event(i, e.time, e.process, e.node, e.type, e.f, e.key, e.value))
    return History(events)


def only_ops(history: History, invokes: set[int]) -> History:
    """The events of the operations whose invoke index is in ``invokes``, in history order."""
    keep: set[int] = set()
    for op in history.operations():
        if op.invoke.index in invokes:
            keep.add(id(op.invoke))
            if op.complete is not None:
                keep.add(id(op.complete))
    return History(e for e in history if id(e) in keep)


def drawn_op(draw: Any, values: Any, f: str, process: str, start: float, end: float | None,
             **kw: Any) -> Op:
    """A read, write or cas of values drawn from ``values`` (a hypothesis strategy).

    Draws one value, and a second only for a cas, in that order, so strategies
    built on it generate the same examples as when each wrote this out.
    """
    if f == "read":
        return r(process, draw(values), start, end, **kw)
    if f == "write":
        return w(process, draw(values), start, end, **kw)
    return cas(process, draw(values), draw(values), start, end, **kw)

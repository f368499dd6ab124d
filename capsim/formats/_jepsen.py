"""Turning Jepsen operations (from ``history.edn`` or ``history.txt``) into a capsim History.

Jepsen's conventions, and what capsim makes of them:

* ``:process`` is an integer; capsim names it ``"0"``, ``"1"`` … A process
  that is a keyword (``:nemesis``) is the fault injector, not a client: its
  operations are skipped.
* Independent keys (``jepsen.independent``) wrap every value as ``[k v]``.
  A history is read that way when every invoke and ok value is such a pair
  (and a cas's ``v`` is itself ``[old new]``); otherwise it is one register,
  named ``x``.
* Times are nanoseconds since the test began; capsim uses seconds. Without
  times (``history.txt``), the line number stands in for the time.
* Extra keys capsim writes so a round trip keeps its details (Jepsen tools
  ignore them): ``:client`` (the client's name, as Jepsen renumbers a process
  after an ``info``), ``:node``, ``:key`` (the key of a one-key history).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from capsim.errors import HistoryFormatError
from capsim.formats._common import validated
from capsim.history import EVENT_TYPES, OP_NAMES, Event, History

DEFAULT_KEY = "x"


@dataclass
class JepsenOp:
    """One Jepsen operation as read, values already plain Python.

    ``process`` is ``None`` for non-client processes (skipped). ``value_is_error``
    marks a ``history.txt`` completion whose value column holds the error
    (``:timed-out``) rather than a value.
    """

    line: int | None
    process: int | str | None
    type: str
    f: str
    value: Any
    time: float | None = None
    index: int | None = None
    key: str | None = None
    node: str | None = None
    client: str | None = None
    error: str | None = None
    value_is_error: bool = False


def key_name(k: Any) -> str:
    """Keys become strings: ``0`` -> ``"0"``; structured keys are written as JSON."""
    if isinstance(k, str):
        return k
    if isinstance(k, (int, float)) and not isinstance(k, bool):
        return str(k)
    return json.dumps(k, ensure_ascii=False, default=str)


def _pair(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) == 2


def _independent(ops: Sequence[JepsenOp]) -> bool:
    seen = False
    for o in ops:
        if o.key is not None or o.type in ("info", "fail"):
            continue
        if not _pair(o.value):
            return False
        if o.f == "cas" and o.type == "invoke" and not _pair(o.value[1]):
            return False
        seen = True
    return seen


def build_history(ops: Sequence[JepsenOp], source: str) -> History:
    """Check each op's fields, split independent keys, pair, and validate."""
    clients: list[JepsenOp] = []
    for o in ops:
        if o.process is None:
            continue
        if o.type not in EVENT_TYPES:
            raise HistoryFormatError(
                source, o.line, f":type :{o.type} is not one of :invoke, :ok, :fail, :info"
            )
        if o.f not in OP_NAMES:
            raise HistoryFormatError(
                source,
                o.line,
                f":f :{o.f} is not :read, :write or :cas (capsim checks registers only)",
            )
        clients.append(o)
    independent = _independent(clients)
    open_: dict[str, Event] = {}
    events: list[Event] = []
    lines: list[int | None] = []
    for pos, o in enumerate(clients):
        process = o.client if o.client is not None else str(o.process)
        inv = open_.get(process) if o.type != "invoke" else None
        value = o.value
        key = o.key
        if key is None and independent and _pair(value) and not o.value_is_error:
            key, value = key_name(value[0]), value[1]
        elif key is None:
            key = inv.key if inv is not None else DEFAULT_KEY
        if (
            o.type in ("info", "fail")
            and inv is not None
            and (o.value_is_error or (independent and o.key is None and not _pair(o.value)))
        ):
            value = inv.value
        if o.f == "cas" and _pair(value):
            value = tuple(value)
        if o.f == "read" and o.type == "invoke":
            value = None
        time = o.time if o.time is not None else float(o.line if o.line is not None else pos)
        e = Event(
            index=o.index if o.index is not None else pos,
            time=time,
            process=process,
            node=o.node,
            type=o.type,  # type: ignore[arg-type]
            f=o.f,  # type: ignore[arg-type]
            key=key,
            value=value,
            error=o.error,
        )
        if o.type == "invoke":
            open_[process] = e
        else:
            open_.pop(process, None)
        events.append(e)
        lines.append(o.line)
    return validated(events, lines, source)

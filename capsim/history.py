"""The history of a run: the only thing checkers and plots read.

A history is a time-ordered list of :class:`Event` records, one ``invoke`` and
one completion (``ok``, ``fail`` or ``info``) per client operation, exactly as
Jepsen records them. Keeping it a flat list of plain records (and JSON Lines on
disk) is what lets ``capsim check`` read histories that capsim did not make and
lets ``capsim plot`` redraw a run without re-running it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

try:  # orjson encodes a history ~5x faster than json; the text is the same JSON
    import orjson as _orjson
except ImportError:  # pragma: no cover - a dependency, but keep working without it
    _orjson = None  # type: ignore[assignment]


def json_line(obj: Any) -> str:
    """``obj`` as one compact line of JSON plus a newline (UTF-8 kept as is).

    Uses orjson when it can encode ``obj`` (plain str/int/float/list/dict),
    the standard library otherwise (e.g. integers past 64 bits).
    """
    if _orjson is not None:
        try:
            return _orjson.dumps(obj).decode() + "\n"
        except (TypeError, _orjson.JSONEncodeError):
            pass
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"


EventType = Literal["invoke", "ok", "fail", "info"]
OpName = Literal["read", "write", "cas"]

EVENT_TYPES: tuple[str, ...] = ("invoke", "ok", "fail", "info")
OP_NAMES: tuple[str, ...] = ("read", "write", "cas")
FIELDS: tuple[str, ...] = ("index", "time", "process", "node", "type", "f", "key", "value")


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a history.

    ``value`` is the value written (``write``), the value read (``read``, on
    ``ok``; ``None`` on the invoke), or ``[expected, new]`` (``cas``).
    ``error`` says in words why a request failed or is indeterminate; it is
    only written to disk when set.
    """

    index: int
    time: float
    process: str
    node: str | None
    type: EventType
    f: OpName
    key: str
    value: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index,
            "time": self.time,
            "process": self.process,
            "node": self.node,
            "type": self.type,
            "f": self.f,
            "key": self.key,
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
        }
        if self.error is not None:
            d["error"] = self.error
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        value = d.get("value")
        if d["f"] == "cas" and isinstance(value, list):
            value = tuple(value)
        return cls(
            index=int(d["index"]),
            time=float(d["time"]),
            process=str(d["process"]),
            node=None if d.get("node") is None else str(d["node"]),
            type=d["type"],
            f=d["f"],
            key=str(d["key"]),
            value=value,
            error=d.get("error"),
        )


@dataclass(frozen=True, slots=True)
class Operation:
    """An invoke paired with its completion: the unit checkers reason about.

    ``complete`` is ``None`` when the history ended before the op completed
    (treated like ``info``: it may take effect at any time after its invoke,
    or never).
    """

    invoke: Event
    complete: Event | None

    @property
    def type(self) -> str:
        return "info" if self.complete is None else self.complete.type

    @property
    def f(self) -> str:
        return self.invoke.f

    @property
    def key(self) -> str:
        return self.invoke.key

    @property
    def process(self) -> str:
        return self.invoke.process

    @property
    def node(self) -> str | None:
        return self.invoke.node

    @property
    def start(self) -> float:
        return self.invoke.time

    @property
    def end(self) -> float:
        """Completion time; ``inf`` for info and never-completed ops."""
        if self.complete is None or self.complete.type == "info":
            return float("inf")
        return self.complete.time

    @property
    def value(self) -> Any:
        """The value read (reads, from the completion) or written (writes, cas)."""
        if self.f == "read":
            return None if self.complete is None else self.complete.value
        return self.invoke.value


class History(Sequence[Event]):
    """An ordered, immutable list of events with JSON Lines I/O."""

    __slots__ = ("_events", "_ops")

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._events: tuple[Event, ...] = tuple(events)
        self._ops: tuple[Operation, ...] | None = None

    def __getitem__(self, i: Any) -> Any:
        return self._events[i]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self._events == other._events

    def __hash__(self) -> int:
        return hash(self._events)

    def __repr__(self) -> str:
        return f"History({len(self._events)} events)"

    def operations(self) -> list[Operation]:
        """Pair each invoke with the next completion of the same process.

        Jepsen's rule: a process has at most one operation outstanding, so its
        next completion event belongs to its last invoke. Computed once (a
        history never changes); each call returns a fresh list.
        """
        if self._ops is None:
            self._ops = tuple(self._pair())
        return list(self._ops)

    def _pair(self) -> list[Operation]:
        open_: dict[str, Event] = {}
        ops: list[Operation] = []
        slot: dict[str, int] = {}
        for e in self._events:
            if e.type == "invoke":
                if e.process in open_:
                    raise ValueError(
                        f"event {e.index}: process {e.process!r} invoked a new operation "
                        f"while operation {open_[e.process].index} was still open"
                    )
                open_[e.process] = e
                slot[e.process] = len(ops)
                ops.append(Operation(e, None))
            else:
                inv = open_.pop(e.process, None)
                if inv is None:
                    raise ValueError(
                        f"event {e.index}: {e.type} for process {e.process!r}, "
                        "which has no open invoke"
                    )
                ops[slot[e.process]] = Operation(inv, e)
        return ops

    def to_jsonl(self) -> str:
        return "".join(self.jsonl_lines())

    def jsonl_lines(self) -> Iterator[str]:
        """The history as JSON Lines, one line at a time (for streaming to a file)."""
        for e in self._events:
            yield json_line(e.to_dict())

    @classmethod
    def from_jsonl(cls, text: str, source: str = "<history>") -> History:
        """Parse JSON Lines; a bad line raises ``HistoryFormatError`` naming it."""
        from capsim.errors import HistoryFormatError

        events: list[Event] = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise HistoryFormatError(source, lineno, f"not JSON: {exc.msg}") from None
            if not isinstance(d, dict):
                raise HistoryFormatError(source, lineno, "expected a JSON object")
            missing = [k for k in ("index", "time", "process", "type", "f", "key") if k not in d]
            if missing:
                raise HistoryFormatError(source, lineno, f"missing field(s): {', '.join(missing)}")
            if d["type"] not in EVENT_TYPES:
                raise HistoryFormatError(
                    source, lineno, f"type {d['type']!r} is not one of {', '.join(EVENT_TYPES)}"
                )
            if d["f"] not in OP_NAMES:
                raise HistoryFormatError(
                    source, lineno, f"f {d['f']!r} is not one of {', '.join(OP_NAMES)}"
                )
            problem = _field_problem(d)
            if problem is not None:
                raise HistoryFormatError(source, lineno, problem)
            try:
                events.append(Event.from_dict(d))
            except (TypeError, ValueError, OverflowError) as exc:
                raise HistoryFormatError(source, lineno, str(exc)[:200]) from None
        return cls(events)

    @classmethod
    def read(cls, path: str | Path) -> History:
        p = Path(path)
        return cls.from_jsonl(p.read_text(encoding="utf-8"), source=str(p))


def _field_problem(d: dict[str, Any]) -> str | None:
    """What is wrong with one JSON event's fields (NaN times, 1e999 indices…), or None."""
    index, time_, key, process = d["index"], d["time"], d["key"], d["process"]
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return f"index must be a whole number >= 0, got {_short(index)}"
    if (isinstance(time_, bool) or not isinstance(time_, (int, float))
            or not math.isfinite(time_)):
        return f"time must be a finite number of seconds, got {_short(time_)}"
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        return f"key must be text or a whole number, got {_short(key)}"
    if isinstance(process, bool) or not isinstance(process, (str, int)):
        return f"process must be text or a whole number, got {_short(process)}"
    return None


def _short(v: Any, limit: int = 60) -> str:
    text = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else repr(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"

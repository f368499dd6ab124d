"""The message journal, kept in columns: a few dozen bytes per message, not hundreds.

A 100,000-operation run on 7 replicas sends about 1.5 million messages. As
one Python list (or tuple) per message the journal alone took most of the
run's memory (≈ 330 bytes a message, twice over while the result was being
built). Here each column is a typed ``array``: times as doubles, nodes,
kinds and statuses as small integer codes, the carried value as an index
into a table of distinct values. :class:`MessageLog` is a read-only
``Sequence`` of :class:`Message` that builds each tuple only
when asked, so code that reads ``result.messages`` works unchanged, and
``RunResult.messages_lines`` writes ``messages.jsonl`` line by line.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from capsim.records import Message, TraceEntry

STATUSES: tuple[str, ...] = ("delivered", "lost", "cut", "down")
_STATUS = {s: i for i, s in enumerate(STATUSES)}


class MessageLog(Sequence[Message]):
    """Append-only columns of messages; status may change once (delivered → cut/down)."""

    __slots__ = (
        "_dst",
        "_end",
        "_kind",
        "_kinds",
        "_names",
        "_node",
        "_sent",
        "_src",
        "_status",
        "_value",
        "_value_id",
        "_values",
    )

    def __init__(self) -> None:
        self._sent = array("d")
        self._end = array("d")
        self._src = array("H")
        self._dst = array("H")
        self._kind = array("H")
        self._status = array("B")
        self._value = array("I")  # 0 = carries no value; i > 0: self._values[i]
        self._names: list[str] = []
        self._node: dict[str, int] = {}
        self._kinds: dict[str, int] = {}
        self._values: list[Any] = [None]
        self._value_id: dict[Any, int] = {}

    # --- writing -----------------------------------------------------------------
    def _code(self, table: dict[str, int], name: str) -> int:
        code = table.get(name)
        if code is None:
            code = table[name] = len(table)
        return code

    def _value_code(self, value: Any) -> int:
        if value is None:
            return 0
        try:
            key: Any = (type(value), value)
            hash(key)
        except TypeError:  # a list (cas) or dict: its JSON text is its identity
            key = ("json", json.dumps(value, sort_keys=True, default=str))
        code = self._value_id.get(key)
        if code is None:
            code = self._value_id[key] = len(self._values)
            self._values.append(value)
        return code

    def append(self, sent: float, src: str, dst: str, kind: str, end: float, status: str,
               value: Any = None) -> int:
        """Record one message; return its index (for :meth:`set_status`)."""
        self._sent.append(sent)
        self._end.append(end)
        self._src.append(self._code(self._node, src))
        self._dst.append(self._code(self._node, dst))
        self._kind.append(self._code(self._kinds, kind))
        self._status.append(_STATUS[status])
        self._value.append(self._value_code(value))
        return len(self._sent) - 1

    def set_status(self, index: int, status: str) -> None:
        self._status[index] = _STATUS[status]

    def round_times(self, digits: int = 9) -> MessageLog:
        """Round every time in place (as the history's are); returns self."""
        for col in (self._sent, self._end):
            for i, x in enumerate(col):
                col[i] = round(x, digits)
        return self

    # --- reading -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._sent)

    def _message(self, i: int) -> Message:
        nodes = self._node_names()
        return Message(self._sent[i], nodes[self._src[i]], nodes[self._dst[i]],
                       self._kind_names()[self._kind[i]], self._end[i],
                       STATUSES[self._status[i]], self._values[self._value[i]])

    def _node_names(self) -> list[str]:
        if len(self._names) != len(self._node):
            self._names = sorted(self._node, key=self._node.__getitem__)
        return self._names

    def _kind_names(self) -> list[str]:
        return sorted(self._kinds, key=self._kinds.__getitem__)

    @overload
    def __getitem__(self, i: int) -> Message: ...
    @overload
    def __getitem__(self, i: slice) -> list[Message]: ...
    def __getitem__(self, i: int | slice) -> Message | list[Message]:
        if isinstance(i, slice):
            return [self._message(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("message index out of range")
        return self._message(i)

    def __iter__(self) -> Iterator[Message]:
        nodes, kinds, values = self._node_names(), self._kind_names(), self._values
        for i in range(len(self._sent)):
            yield Message(self._sent[i], nodes[self._src[i]], nodes[self._dst[i]],
                          kinds[self._kind[i]], self._end[i], STATUSES[self._status[i]],
                          values[self._value[i]])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MessageLog({len(self)} messages)"

    def nbytes(self) -> int:
        """Bytes held by the columns (the value table aside)."""
        cols = (self._sent, self._end, self._src, self._dst, self._kind, self._status,
                self._value)
        return sum(c.itemsize * len(c) for c in cols)


class TraceLog(Sequence[TraceEntry]):
    """The replica trace in columns (time, node, key, value code): ~16 bytes an entry.

    A 100k-op run on 7 replicas stores hundreds of thousands of values; as
    named tuples they took ~110 bytes each. Reads back as :class:`TraceEntry`
    tuples, built on demand, in the order appended.
    """

    __slots__ = ("_key", "_keys", "_node", "_nodes", "_time", "_value", "_value_id", "_values")

    def __init__(self) -> None:
        self._time = array("d")
        self._node = array("H")
        self._key = array("I")
        self._value = array("I")
        self._nodes: dict[str, int] = {}
        self._keys: dict[str, int] = {}
        self._values: list[Any] = []
        self._value_id: dict[Any, int] = {}

    @classmethod
    def of(cls, entries: Iterable[TraceEntry]) -> TraceLog:
        log = cls()
        for e in entries:
            log.append(e)
        return log

    def append(self, e: TraceEntry) -> None:
        self._time.append(e.time)
        self._node.append(_intern(self._nodes, e.node))
        self._key.append(_intern(self._keys, e.key))
        self._value.append(_value_code(self._values, self._value_id, e.value))

    def __len__(self) -> int:
        return len(self._time)

    @overload
    def __getitem__(self, i: int) -> TraceEntry: ...
    @overload
    def __getitem__(self, i: slice) -> list[TraceEntry]: ...
    def __getitem__(self, i: int | slice) -> TraceEntry | list[TraceEntry]:
        if isinstance(i, slice):
            return list(itertools.islice(self, *i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("trace index out of range")
        nodes, keys = _names(self._nodes), _names(self._keys)
        return TraceEntry(self._time[i], nodes[self._node[i]], keys[self._key[i]],
                          self._values[self._value[i]])

    def __iter__(self) -> Iterator[TraceEntry]:
        nodes, keys, values = _names(self._nodes), _names(self._keys), self._values
        for t, n, k, v in zip(self._time, self._node, self._key, self._value, strict=True):
            yield TraceEntry(t, nodes[n], keys[k], values[v])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TraceLog({len(self)} entries)"


def _intern(table: dict[str, int], name: str) -> int:
    code = table.get(name)
    if code is None:
        code = table[name] = len(table)
    return code


def _names(table: dict[str, int]) -> list[str]:
    return sorted(table, key=table.__getitem__)


def _value_code(values: list[Any], ids: dict[Any, int], value: Any) -> int:
    """Intern ``value`` (hashable by type and value, else by its JSON text)."""
    try:
        key: Any = (type(value), value)
        hash(key)
    except TypeError:
        key = ("json", json.dumps(value, sort_keys=True, default=str))
    code = ids.get(key)
    if code is None:
        code = ids[key] = len(values)
        values.append(value)
    return code

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

import contextlib
import itertools
import json
import os
import tempfile
import threading
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, overload

from capsim.records import Message, TraceEntry

STATUSES: tuple[str, ...] = ("delivered", "lost", "cut", "down")
_STATUS = {s: i for i, s in enumerate(STATUSES)}

#: Messages per block moved to disk. A journal never holds more than one block
#: of its wide columns in memory (~1.7 MB); a shorter journal never touches disk.
CHUNK = 1 << 16
#: The spilled columns, in file order within a block: (attribute, typecode).
_SPILLED = (("_sent", "d"), ("_end", "d"), ("_src", "H"), ("_dst", "H"), ("_kind", "H"),
            ("_value", "I"))
_ROW = sum(array(code).itemsize for _, code in _SPILLED)


class _Spill:
    """An anonymous temporary file of fixed-size blocks, read back by offset.

    The file is unlinked as soon as it is made (on systems that allow it), so
    nothing is left behind however the process ends; the descriptor closes
    when the journal is garbage collected.
    """

    def __init__(self, folder: str | Path | None) -> None:
        fd = path = None
        for where in (folder, None) if folder is not None else (None,):
            try:
                fd, path = tempfile.mkstemp(prefix=".capsim-journal-", dir=where)
                break
            except OSError:
                continue
        if fd is None or path is None:
            raise OSError("no folder to spill the message journal to")
        try:
            os.unlink(path)
            path = None
        except OSError:  # Windows: an open file cannot be unlinked; remove it on close
            pass
        self.fd = fd
        self.size = 0
        self.lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_spill, fd, path)

    def append(self, data: bytes) -> None:
        with self.lock:
            view = memoryview(data)
            while view:
                n = self._write_at(view, self.size)
                self.size += n
                view = view[n:]

    def read(self, offset: int, size: int) -> bytes:
        parts = []
        while size > 0:
            part = self._read_at(size, offset)
            if not part:
                raise OSError("the message journal's spill file is shorter than written")
            parts.append(part)
            size -= len(part)
            offset += len(part)
        return b"".join(parts)

    # Positional I/O where the system has it: a forked process (a sweep's
    # worker) shares the descriptor's offset, not its own pread/pwrite.
    def _write_at(self, data: memoryview, offset: int) -> int:
        if hasattr(os, "pwrite"):
            return os.pwrite(self.fd, data, offset)
        os.lseek(self.fd, offset, os.SEEK_SET)
        return os.write(self.fd, data)

    def _read_at(self, size: int, offset: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self.fd, size, offset)
        with self.lock:
            os.lseek(self.fd, offset, os.SEEK_SET)
            return os.read(self.fd, size)


def _close_spill(fd: int, path: str | None) -> None:
    os.close(fd)
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


class MessageLog(Sequence[Message]):
    """Append-only columns of messages; status may change once (delivered → cut/down).

    Past :data:`CHUNK` messages the wide columns (times, nodes, kind, value)
    move to an anonymous temporary file block by block as they fill, in
    ``spill_dir`` (default: the system's temporary folder): a 100k-op run's
    journal (~2 million messages, ~60 MB) then costs the run a few MB of
    memory while it simulates, checks and draws. Only the one-byte status
    column stays whole in memory, because a message's status changes when it
    arrives, after later messages were sent. Reading goes back to the file a
    block at a time (the last block read is kept), so iterating is linear
    and ``log[i]`` is cheap for nearby ``i``. ``digits`` rounds every time
    as it is appended (the history's 1 ns), the same doubles as rounding
    afterwards. ``spill=False`` keeps everything in memory.
    """

    __slots__ = (
        "__weakref__",
        "_block",
        "_can_spill",
        "_digits",
        "_dst",
        "_end",
        "_kind",
        "_kinds",
        "_names",
        "_node",
        "_sent",
        "_spill",
        "_spill_dir",
        "_spilled",
        "_src",
        "_status",
        "_value",
        "_value_id",
        "_values",
    )

    def __init__(self, *, spill: bool = True, spill_dir: str | Path | None = None,
                 digits: int | None = None) -> None:
        # The wide columns hold rows [self._spilled * CHUNK, len(self)); the rest is on disk.
        self._sent = array("d")
        self._end = array("d")
        self._src = array("H")
        self._dst = array("H")
        self._kind = array("H")
        self._value = array("I")  # 0 = carries no value; i > 0: self._values[i]
        self._status = array("B")  # every row
        self._names: list[str] = []
        self._node: dict[str, int] = {}
        self._kinds: dict[str, int] = {}
        self._values: list[Any] = [None]
        self._value_id: dict[Any, int] = {}
        self._digits = digits
        self._spill: _Spill | None = None
        self._spill_dir = spill_dir
        self._can_spill = spill
        self._spilled = 0  # blocks on disk
        self._block: tuple[int, tuple[array[Any], ...]] | None = None  # last block read

    # --- writing -----------------------------------------------------------------
    def _code(self, table: dict[str, int], name: str) -> int:
        code = table.get(name)
        if code is None:
            code = table[name] = len(table)
        return code

    def _value_code(self, value: Any) -> int:
        if value is None:
            return 0
        return _value_code(self._values, self._value_id, value)

    def append(self, sent: float, src: str, dst: str, kind: str, end: float, status: str,
               value: Any = None) -> int:
        """Record one message; return its index (for :meth:`set_status`)."""
        if self._digits is not None:
            sent, end = round(sent, self._digits), round(end, self._digits)
        self._sent.append(sent)
        self._end.append(end)
        self._src.append(self._code(self._node, src))
        self._dst.append(self._code(self._node, dst))
        self._kind.append(self._code(self._kinds, kind))
        self._status.append(_STATUS[status])
        self._value.append(self._value_code(value))
        if len(self._sent) >= CHUNK and self._can_spill:
            self._move_to_disk()
        return len(self._status) - 1

    def _move_to_disk(self) -> None:
        """Write every full block of the wide columns to the spill file, keep the rest."""
        try:
            if self._spill is None:
                self._spill = _Spill(self._spill_dir)
        except OSError:  # nowhere to write: keep the journal in memory, as before
            self._can_spill = False
            return
        while len(self._sent) >= CHUNK:
            cols = [getattr(self, name) for name, _ in _SPILLED]
            self._spill.append(b"".join(c[:CHUNK].tobytes() for c in cols))
            for c in cols:
                del c[:CHUNK]
            self._spilled += 1

    def set_status(self, index: int, status: str) -> None:
        self._status[index] = _STATUS[status]

    def round_times(self, digits: int = 9) -> MessageLog:
        """Round every time (as the history's are); returns self.

        Times already rounded to ``digits`` as they were appended are left as
        they are; a spilled journal that was not is rounded as it is read.
        """
        if self._digits == digits:
            return self
        if self._spilled:
            raise ValueError("a journal on disk rounds its times as they are appended "
                             "(MessageLog(digits=…)), not afterwards")
        for col in (self._sent, self._end):
            for i, x in enumerate(col):
                col[i] = round(x, digits)
        return self

    # --- reading -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._status)

    def _columns(self, b: int) -> tuple[array[Any], ...]:
        """Block ``b``'s wide columns (sent, end, src, dst, kind, value)."""
        if b >= self._spilled:
            return tuple(getattr(self, name) for name, _ in _SPILLED)
        if self._block is not None and self._block[0] == b:
            return self._block[1]
        assert self._spill is not None
        data = memoryview(self._spill.read(b * CHUNK * _ROW, CHUNK * _ROW))
        cols = []
        at = 0
        for _, code in _SPILLED:
            col = array(code)
            col.frombytes(data[at:at + CHUNK * col.itemsize])
            at += CHUNK * col.itemsize
            cols.append(col)
        self._block = (b, tuple(cols))
        return self._block[1]

    def _message(self, i: int) -> Message:
        b = min(i // CHUNK, self._spilled)
        sent, end, src, dst, kind, value = self._columns(b)
        j = i - b * CHUNK
        nodes = self._node_names()
        return Message(sent[j], nodes[src[j]], nodes[dst[j]], self._kind_names()[kind[j]],
                       end[j], STATUSES[self._status[i]], self._values[value[j]])

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
        status = self._status
        for b in range(self._spilled + 1):
            # One block's columns at a time (a journal is read once its run is over).
            sent, end, src, dst, kind, value = self._columns(b)
            base = b * CHUNK
            for j in range(min(len(sent), len(status) - base)):
                yield Message(sent[j], nodes[src[j]], nodes[dst[j]], kinds[kind[j]], end[j],
                              STATUSES[status[base + j]], values[value[j]])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MessageLog({len(self)} messages)"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and deep-copied) as its rows: a copy never shares the spill file."""
        return (_message_log, (list(self), self._digits))

    def nbytes(self) -> int:
        """Bytes the columns hold in memory (the value table aside; blocks on disk not)."""
        cols = (self._sent, self._end, self._src, self._dst, self._kind, self._status,
                self._value)
        return sum(c.itemsize * len(c) for c in cols)

    def on_disk(self) -> int:
        """Bytes of the journal moved to its spill file (0 for a short one)."""
        return self._spilled * CHUNK * _ROW


def _message_log(rows: list[Message], digits: int | None) -> MessageLog:
    log = MessageLog(digits=digits)
    for m in rows:
        log.append(*m)
    return log


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

    def columns(self) -> TraceColumns:
        """The trace as its columns, without making a tuple per entry (big pictures)."""
        return TraceColumns(self._time, self._node, self._key, self._value,
                            _names(self._nodes), _names(self._keys), self._values)


class TraceColumns(NamedTuple):
    """A trace in columns: ``time[i]`` and codes into ``nodes``, ``keys`` and ``values``.

    Equal values share a code (text by its characters, others by type and
    value, or by JSON text when unhashable).
    """

    time: array[float]
    node: array[int]
    key: array[int]
    value: array[int]
    nodes: list[str]
    keys: list[str]
    values: list[Any]


def trace_columns(trace: Sequence[TraceEntry]) -> TraceColumns:
    """Any trace (a :class:`TraceLog` or a list of entries) as :class:`TraceColumns`."""
    return (trace if isinstance(trace, TraceLog) else TraceLog.of(trace)).columns()


def _intern(table: dict[str, int], name: str) -> int:
    code = table.get(name)
    if code is None:
        code = table[name] = len(table)
    return code


def _names(table: dict[str, int]) -> list[str]:
    return sorted(table, key=table.__getitem__)


def _value_code(values: list[Any], ids: dict[Any, int], value: Any) -> int:
    """Intern ``value`` (hashable by type and value, else by its JSON text).

    Text (nearly every value) is its own key: no other type's value equals a
    ``str``, and a 100k-op run saves a tuple per distinct value.
    """
    key: Any = value
    if type(value) is not str:
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = ("json", json.dumps(value, sort_keys=True, default=str))
    code = ids.get(key)
    if code is None:
        code = ids[key] = len(values)
        values.append(value)
    return code

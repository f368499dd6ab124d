"""Jepsen's ``history.edn``: read it, and write one Knossos accepts.

Reading uses the ``edn_format`` package for anything unusual; the plain op
maps that make up almost every history go through a small strict reader
first, because ``edn_format`` builds a fresh parser per call (about half a
millisecond per line: minutes for a large history). Both readers give the same
values; the tests compare them.

Writing (:func:`to_edn`) follows what Knossos expects: one op map per line,
integer processes (a client that continues after an ``info`` gets a fresh
process number, because Jepsen considers that process crashed), times in
nanoseconds, ``:cas`` values as ``[old new]``; values are wrapped as
independent ``[k v]`` tuples only when the history has more than one key (so
a one-key history stays checkable by ``knossos.cli`` as a plain register).
The client's name, its node, and a one-key history's key (when it is not
``x``) ride along as ``:client``, ``:node`` and ``:key``, which Jepsen tools
ignore and :func:`parse_edn` reads back.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import edn_format

from capsim import atomic
from capsim.errors import HistoryFormatError
from capsim.formats._jepsen import DEFAULT_KEY, JepsenOp, build_history
from capsim.history import Event, History

#: The client that writes the initial values in an exported history.
INITIAL_CLIENT = "initial"

# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


class _Unsupported(Exception):
    """The fast reader leaves this text to ``edn_format``."""


_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,]+|;[^\n]*)
  | (?P<open>\#\{|[\[{(])
  | (?P<close>[\]})])
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<atom>[^\s,\[\]{}()"\\;]+)
    """,
    re.VERBOSE | re.DOTALL,
)
_INT = re.compile(r"[+-]?\d+N?")
_FLOAT = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_STR_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_CLOSERS = {"[": "]", "(": ")", "{": "}", "#{": "}"}


def _unescape(m: re.Match[str]) -> str:
    s = m.group(1)
    if s[0] == "u" and len(s) == 5:
        return chr(int(s[1:], 16))
    if s in _ESCAPES:
        return _ESCAPES[s]
    raise _Unsupported(f"string escape \\{s}")


def _atom(tok: str) -> Any:
    if tok == "nil":
        return None
    if tok == "true":
        return True
    if tok == "false":
        return False
    if _INT.fullmatch(tok):
        return int(tok.rstrip("N"))
    if _FLOAT.fullmatch(tok):
        return float(tok)
    if tok[0] == ":":
        if len(tok) > 1 and tok[1] != ":":
            return edn_format.Keyword(tok[1:])
        raise _Unsupported(tok)
    if tok[0] in "#\\" or tok[0].isdigit() or (tok[0] in "+-" and tok[1:2].isdigit()):
        raise _Unsupported(tok)  # tagged values, characters, 1.5M, …
    return edn_format.Symbol(tok)


def _fast_loads(text: str) -> Any:
    """Read one EDN value built from maps, vectors, lists, sets and atoms."""
    stack: list[tuple[str, list[Any]]] = []
    result: list[Any] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _Unsupported(text[pos : pos + 10])
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "open":
            stack.append((m.group(), []))
            continue
        if kind == "close":
            if not stack or _CLOSERS[stack[-1][0]] != m.group():
                raise _Unsupported("unbalanced")
            opener, items = stack.pop()
            value: Any
            if opener == "{":
                if len(items) % 2:
                    raise _Unsupported("odd map")
                value = dict(zip(items[::2], items[1::2], strict=True))
            elif opener == "#{":
                value = frozenset(items)
            else:
                value = items
        elif kind == "str":
            value = _STR_ESCAPE.sub(_unescape, m.group()[1:-1])
        else:
            value = _atom(m.group())
        (stack[-1][1] if stack else result).append(value)
    if stack or len(result) != 1:
        raise _Unsupported("not exactly one value")
    return result[0]


def loads_value(text: str) -> Any:
    try:
        return _fast_loads(text)
    except (_Unsupported, TypeError):
        return edn_format.loads(text)


def to_python(v: Any) -> Any:
    """EDN values as JSON-like Python: keywords and symbols become their names."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (edn_format.Keyword, edn_format.Symbol)):
        return v.name
    if isinstance(v, Mapping):
        return {_map_key(k): to_python(x) for k, x in v.items()}
    if isinstance(v, Sequence):
        return [to_python(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted((to_python(x) for x in v), key=repr)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (datetime.date, uuid.UUID)):
        return str(v)
    return str(v)


def _map_key(k: Any) -> str:
    k = to_python(k)
    return k if isinstance(k, str) else str(k)


def _name(v: Any) -> str | None:
    return v.name if isinstance(v, edn_format.Keyword) else None


def _op(m: Any, line: int | None, source: str, where: str) -> JepsenOp:
    if not isinstance(m, Mapping):
        raise HistoryFormatError(source, line, f"{where}: expected an op map {{:type …}}")
    fields = {k.name: v for k, v in m.items() if isinstance(k, edn_format.Keyword)}
    for required in ("type", "f", "process"):
        if required not in fields:
            raise HistoryFormatError(source, line, f"{where}: missing :{required}")
    type_, f = _name(fields["type"]), _name(fields["f"])
    if type_ is None:
        raise HistoryFormatError(source, line, f"{where}: :type must be a keyword like :invoke")
    raw_process = fields["process"]
    process: int | str | None
    if isinstance(raw_process, edn_format.Keyword):
        process = None  # :nemesis and friends
    elif isinstance(raw_process, (int, str)) and not isinstance(raw_process, bool):
        process = raw_process
    else:
        raise HistoryFormatError(source, line, f"{where}: :process must be an integer")
    if f is None:
        if process is None:
            f = str(fields["f"])
        else:
            raise HistoryFormatError(source, line, f"{where}: :f must be a keyword like :read")
    time_ = fields.get("time")
    if time_ is not None and (isinstance(time_, bool) or not isinstance(time_, (int, float))):
        raise HistoryFormatError(source, line, f"{where}: :time must be a number (nanoseconds)")
    index = fields.get("index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise HistoryFormatError(source, line, f"{where}: :index must be an integer")
    error = fields.get("error")
    key = fields.get("key")
    node = fields.get("node")
    client = fields.get("client")
    return JepsenOp(
        line=line,
        process=process,
        type=type_,
        f=f,
        value=to_python(fields.get("value")),
        time=None if time_ is None else time_ / 1e9,
        index=index,
        key=None if key is None else str(to_python(key)),
        node=None if node is None else str(to_python(node)),
        client=None if client is None else str(to_python(client)),
        error=None if error is None else _error_text(error),
    )


def _error_text(error: Any) -> str:
    if isinstance(error, str):
        return error
    if isinstance(error, edn_format.Keyword):
        return error.name
    return str(edn_format.dumps(error))


# The one-line op map Jepsen and capsim write, ``{:type :ok, :f :read, :value 3,
# :process 0, :time 12, :index 5}``, with plain atoms (or a vector of them) as
# values, is read by one regular expression per line: 5-10x faster than
# tokenising, which made parsing most of a large check's time. Anything else
# (escapes, nested maps, floats, tags, repeated keys …) takes the general path.
_SIMPLE_KW = r":[A-Za-z_*!?<>=+-][\w.*!?<>=+-]*"
_SIMPLE_ATOM = rf"(?:{_SIMPLE_KW}|[+-]?\d+|nil|true|false)(?=[\s,\]}}])"
_SIMPLE_VALUE = (
    rf'{_SIMPLE_ATOM}|"[^"\\\n]*"(?=[\s,}}])'
    rf"|\[[\s,]*(?:{_SIMPLE_ATOM}[\s,]*)*\](?=[\s,}}])"
)
_SIMPLE_FIELD = re.compile(rf"[\s,]*({_SIMPLE_KW})[\s,]+({_SIMPLE_VALUE})")
_SIMPLE_LINE = re.compile(rf"\s*\{{(?:[\s,]*{_SIMPLE_KW}[\s,]+(?:{_SIMPLE_VALUE}))*[\s,]*\}}\s*")
_SIMPLE_ITEM = re.compile(_SIMPLE_ATOM)


def _simple(tok: str) -> Any:
    """A token of :data:`_SIMPLE_VALUE` as plain Python (what :func:`to_python` gives)."""
    c = tok[0]
    if c == ":":
        return tok[1:]
    if c == '"':
        return tok[1:-1]
    if c == "[":
        return [_simple(t) for t in _SIMPLE_ITEM.findall(tok)]
    if tok == "nil":
        return None
    if tok == "true":
        return True
    if tok == "false":
        return False
    return int(tok)


def _simple_op(line_text: str, line: int) -> JepsenOp | None:
    """The op on one line when it is a plain op map, else None (the general reader decides)."""
    if not _SIMPLE_LINE.fullmatch(line_text):
        return None
    pairs = _SIMPLE_FIELD.findall(line_text)
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return None  # a key given twice: leave it to the general reader
    type_, f, process = fields.get(":type"), fields.get(":f"), fields.get(":process")
    if type_ is None or f is None or process is None or type_[0] != ":" or f[0] != ":":
        return None
    if process[0] == ":":
        pid: int | str | None = None
    elif process[0] == '"':
        pid = process[1:-1]
    elif process[0] in "+-0123456789":
        pid = int(process)
    else:
        return None
    if pid is None:
        return None  # :nemesis and friends: the general reader knows their rules
    time_, index, error = fields.get(":time"), fields.get(":index"), fields.get(":error")
    if time_ is not None and time_[0] not in "+-0123456789":
        return None
    if index is not None and index[0] not in "+-0123456789":
        return None
    if error is not None and error[0] not in ':"':
        return None
    key, node, client = fields.get(":key"), fields.get(":node"), fields.get(":client")
    return JepsenOp(
        line=line,
        process=pid,
        type=type_[1:],
        f=f[1:],
        value=None if (v := fields.get(":value")) is None else _simple(v),
        time=None if time_ is None else int(time_) / 1e9,
        index=None if index is None else int(index),
        key=None if key is None else str(_simple(key)),
        node=None if node is None else str(_simple(node)),
        client=None if client is None else str(_simple(client)),
        error=None if error is None else _simple(error),
    )


def _records(text: str, source: str) -> Iterator[tuple[Any, int | None, str]]:
    """Yield (value, line, where) for each op: one map per line, or one big vector.

    A plain one-line op map comes out already as a :class:`JepsenOp`.
    """
    stripped = text.lstrip()
    if stripped.startswith(("[", "(")):
        try:
            whole = loads_value(text)
        except Exception as exc:
            raise HistoryFormatError(source, None, f"not valid EDN: {exc}") from None
        if not isinstance(whole, Sequence) or isinstance(whole, str):
            raise HistoryFormatError(source, None, "expected a vector of op maps")
        for i, m in enumerate(whole):
            yield m, None, f"op {i}"
        return
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i + 1
        i += 1
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        quick = _simple_op(line, start)
        if quick is not None:
            yield quick, start, f"line {start}"
            continue
        chunk = line
        while True:
            try:
                value = loads_value(chunk)
                break
            except Exception as exc:
                # An op map pretty-printed over several lines: read on.
                if "EOF" in str(exc) and i < len(lines) and i - start < 50:
                    chunk += "\n" + lines[i]
                    i += 1
                    continue
                raise HistoryFormatError(source, start, f"not valid EDN: {exc}") from None
        yield value, start, f"line {start}"


def parse_edn(text: str, source: str = "<history>") -> History:
    """Read a Jepsen ``history.edn``; a bad op raises ``HistoryFormatError`` naming its line."""
    ops = [
        m if isinstance(m, JepsenOp) else _op(m, line, source, where)
        for m, line, where in _records(text, source)
    ]
    return build_history(ops, source)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _edn_key(key: str) -> Any:
    """``"0"`` goes back out as the integer Jepsen used; other keys stay strings."""
    try:
        k = int(key)
    except ValueError:
        return key
    return k if str(k) == key else key


def _edn_value(v: Any) -> str:
    return str(edn_format.dumps(_for_dump(v)))


def _for_dump(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_for_dump(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _for_dump(x) for k, x in v.items()}
    return v


def _processes(history: History) -> list[int]:
    """One integer process per event; a fresh one after each ``info``.

    Names that already are integers (histories read from Jepsen) keep them.
    """
    reserved = {int(e.process) for e in history if e.process.isdigit()}
    taken: set[int] = set()
    current: dict[str, int] = {}
    crashed: set[str] = set()
    counter = 0
    out: list[int] = []

    def fresh() -> int:
        nonlocal counter
        while counter in reserved or counter in taken:
            counter += 1
        taken.add(counter)
        return counter

    for e in history:
        p = e.process
        if e.type == "invoke" and (p not in current or p in crashed):
            if p not in current and p.isdigit() and int(p) not in taken:
                current[p] = int(p)
                taken.add(int(p))
            else:
                current[p] = fresh()
            crashed.discard(p)
        elif p not in current:
            current[p] = fresh()
        out.append(current[p])
        if e.type == "info":
            crashed.add(p)
    return out


def with_initial_writes(history: History, initial: Mapping[str, Any] | None) -> History:
    """Prepend a write of each key's initial value, acknowledged before anything else.

    Knossos's registers start empty (``nil``); a write that completes before
    every other operation is the same as starting with that value, so the
    exported file checks the same way in Knossos as in capsim. Keys that the
    history never uses, and initial values of ``None``, add nothing.
    """
    if not initial:
        return history
    keys = list(dict.fromkeys(e.key for e in history))
    wanted = [k for k in keys if initial.get(k) is not None]
    if not wanted:
        return history
    t0 = min([0.0, *(e.time for e in history)])
    names = {e.process for e in history}
    who = INITIAL_CLIENT
    while who in names:
        who = "_" + who
    first: list[Event] = []
    for k in wanted:
        for kind in ("invoke", "ok"):
            first.append(Event(0, t0, who, None, kind, "write", k, initial[k]))
    events = [*first, *history]
    return History(
        Event(i, e.time, e.process, e.node, e.type, e.f, e.key, e.value, e.error)
        for i, e in enumerate(events)
    )


def to_edn(history: History, *, initial: Mapping[str, Any] | None = None) -> str:
    """The history as Jepsen ``history.edn`` text (see the module notes).

    With ``initial`` (the scenario's initial values), each key's initial value
    is written first by a client named ``initial`` (:func:`with_initial_writes`),
    so Knossos, whose registers start as ``nil``, reaches the same verdict.
    """
    history = with_initial_writes(history, initial)
    keys = {e.key for e in history}
    multi = len(keys) > 1
    lines = []
    for i, (e, process) in enumerate(zip(history, _processes(history), strict=True)):
        value = None if (e.f == "read" and e.type == "invoke") else e.value
        if multi:
            value = [_edn_key(e.key), value]
        parts = [
            f":type :{e.type}",
            f":f :{e.f}",
            f":value {_edn_value(value)}",
            f":process {process}",
            f":time {round(e.time * 1e9)}",
            f":index {i}",
        ]
        if e.process != str(process):
            parts.append(f":client {_edn_value(e.process)}")
        if e.node is not None:
            parts.append(f":node {_edn_value(e.node)}")
        if not multi and e.key != DEFAULT_KEY:
            parts.append(f":key {_edn_value(e.key)}")
        if e.error is not None:
            parts.append(f":error {_edn_value(e.error)}")
        lines.append("{" + ", ".join(parts) + "}\n")
    return "".join(lines)


def write_edn(
    history: History, path: str | Path, *, initial: Mapping[str, Any] | None = None
) -> None:
    """Write ``history.edn`` for Knossos/Jepsen tools, atomically (see :func:`to_edn`)."""
    atomic.write_text(path, to_edn(history, initial=initial))

"""Jepsen's ``history.txt`` and log lines: ``process<TAB>:type<TAB>:f<TAB>value[<TAB>error]``.

These lines carry no times, so the line number stands in for the time
(``t=12 s`` means line 12); what counts for linearizability is only their
order. A log-line prefix such as ``INFO  jepsen.util - `` before the process
is ignored, and lines without a tab that look like other log output (a level
or a date first) are skipped, so a whole ``jepsen.log`` can be read too.
Values are EDN (``nil``, ``3``, ``[1 2]``, ``[k v]`` for independent keys).
On ``info``/``fail`` lines Jepsen may print the error (``:timed-out``) where
the value goes; capsim then keeps the invoke's value and records the error.
"""

from __future__ import annotations

import re

import edn_format

from capsim.errors import HistoryFormatError
from capsim.formats._jepsen import JepsenOp, build_history
from capsim.formats.edn import loads_value, to_python
from capsim.history import History

_LOG_NOISE = re.compile(r"^\s*(?:\d{4}-\d\d-\d\d|INFO|WARN|WARNING|DEBUG|ERROR|TRACE|FATAL)\b")
_PROCESS = re.compile(r"-?\d+")


def _keyword(field: str, what: str, source: str, line: int) -> str:
    f = field.strip()
    if len(f) < 2 or f[0] != ":":
        raise HistoryFormatError(
            source, line, f"{what} should be a keyword like :{what}, got {f!r}"
        )
    return f[1:]


def parse_txt(text: str, source: str = "<history>") -> History:
    """Read Jepsen ``history.txt`` lines; a bad line raises ``HistoryFormatError`` naming it."""
    ops: list[JepsenOp] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if "\t" not in raw:
            if _LOG_NOISE.match(raw):
                continue
            raise HistoryFormatError(
                source, n, "expected process<TAB>:type<TAB>:f<TAB>value, found no tabs"
            )
        fields = raw.split("\t")
        if len(fields) < 4:
            raise HistoryFormatError(
                source,
                n,
                f"expected 4 tab-separated fields (process, :type, :f, value), got {len(fields)}",
            )
        head = fields[0]
        if " - " in head:
            head = head.rsplit(" - ", 1)[1]
        head = head.strip()
        process: int | None
        if _PROCESS.fullmatch(head):
            process = int(head)
        elif head.startswith(":"):
            process = None  # :nemesis
        else:
            raise HistoryFormatError(source, n, f"process should be an integer, got {head!r}")
        type_ = _keyword(fields[1], "type", source, n)
        f = _keyword(fields[2], "f", source, n)
        try:
            parsed = loads_value(fields[3].strip() or "nil")
        except Exception as exc:
            raise HistoryFormatError(source, n, f"value is not valid EDN: {exc}") from None
        value_is_error = type_ in ("info", "fail") and isinstance(parsed, edn_format.Keyword)
        error = "\t".join(fields[4:]).strip() or None
        if value_is_error and error is None:
            error = parsed.name
        ops.append(
            JepsenOp(
                line=n,
                process=process,
                type=type_,
                f=f,
                value=to_python(parsed),
                error=error,
                value_is_error=value_is_error,
            )
        )
    return build_history(ops, source)

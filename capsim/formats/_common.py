"""What every history reader shares: the check that invokes and completions pair up."""

from __future__ import annotations

import math
from collections.abc import Sequence

from capsim.errors import HistoryFormatError
from capsim.history import Event, History


def validated(events: Sequence[Event], lines: Sequence[int | None], source: str) -> History:
    """Return the events as a History, or name the first line that breaks Jepsen's rules.

    The rules (the ones :meth:`History.operations` relies on): a process has at
    most one operation open; every completion belongs to an open invoke of the
    same process, with the same ``f`` and key; a cas carries ``[expected, new]``.
    """
    open_: dict[str, tuple[Event, int | None]] = {}
    for e, line in zip(events, lines, strict=True):
        if not math.isfinite(e.time):
            raise HistoryFormatError(source, line, f"time must be a finite number, got {e.time}")
        if e.type == "invoke":
            if e.f == "cas" and not (isinstance(e.value, (list, tuple)) and len(e.value) == 2):
                raise HistoryFormatError(
                    source, line, f"a cas needs the value [expected, new], got {e.value!r}"
                )
            if e.process in open_:
                _, prev = open_[e.process]
                at = f" (line {prev})" if prev is not None else ""
                raise HistoryFormatError(
                    source,
                    line,
                    f"process {e.process} invokes a new operation while its previous one{at} "
                    "has not completed",
                )
            open_[e.process] = (e, line)
            continue
        if e.process not in open_:
            raise HistoryFormatError(
                source, line, f"{e.type} for process {e.process}, which has no open invoke"
            )
        inv, _ = open_.pop(e.process)
        if inv.f != e.f:
            raise HistoryFormatError(
                source, line, f"{e.type} :{e.f} completes an invoke of :{inv.f}"
            )
        if inv.key != e.key:
            raise HistoryFormatError(
                source, line, f"completion for key {e.key!r} answers an invoke on key {inv.key!r}"
            )
    return History(events)

"""Stale reads: a read returned a value that had certainly been overwritten.

A read is stale when every write that could have produced its value had
been superseded, before the read began, by a write that was acknowledged
before the read began and was invoked after that source write completed.
The initial value counts as a write that completed before time began. So a
stale read is one no timing argument can excuse; linearizability is the
stricter, global test.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from capsim.history import Operation

_NEG_INF = float("-inf")


def _written(op: Operation) -> Any:
    return op.invoke.value[1] if op.f == "cas" else op.invoke.value


def stale_reads(ops: Sequence[Operation], initial: Mapping[str, Any]) -> dict[str, Any]:
    by_key: dict[str, list[Operation]] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    stale: list[int] = []
    unexplained: list[int] = []
    reads = 0
    for key in sorted(by_key):
        kops = by_key[key]
        writes = [op for op in kops if op.f in ("write", "cas") and op.type in ("ok", "info")]
        # Acknowledged writes sorted by completion, with the running max of their starts:
        acked = sorted((op for op in writes if op.type == "ok"), key=lambda o: o.end)
        ends = [op.end for op in acked]
        max_start: list[float] = []
        m = _NEG_INF
        for op in acked:
            m = max(m, op.start)
            max_start.append(m)
        sources: dict[Any, list[float]] = {}
        if key in initial:
            sources.setdefault(initial[key], []).append(_NEG_INF)
        for op in writes:
            sources.setdefault(_hashable(_written(op)), []).append(op.end)
        for op in kops:
            if op.f != "read" or op.type != "ok":
                continue
            reads += 1
            ends_of_sources = sources.get(_hashable(op.value))
            if not ends_of_sources:
                if not (op.value is None and key not in initial):
                    unexplained.append(op.invoke.index)
                continue
            i = bisect.bisect_left(ends, op.start)  # acked writes done before the read began
            if i == 0:
                continue
            latest_superseder_start = max_start[i - 1]
            if all(e < latest_superseder_start for e in ends_of_sources):
                stale.append(op.invoke.index)
    return {
        "count": len(stale),
        "reads": reads,
        "rate": (len(stale) / reads) if reads else None,
        "ops": stale,
        "never_written": unexplained,
    }


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v

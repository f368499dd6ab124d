"""What a history alone says about its keys' initial values.

A capsim history (like a Jepsen one) records operations, not the state the
register started in. A read of ``v0`` that no operation wrote is then either
a violation (the key started empty) or the initial value: only the run knows.
:func:`unwritten_reads` finds the values that could be initial, so a checker
without the run's ``result.json`` can say "it depends" instead of a wrong NO.
"""

from __future__ import annotations

from typing import Any

from capsim.history import History


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((str(k), _hashable(x)) for k, x in v.items()))
    return v


def unwritten_reads(history: History) -> dict[str, list[Any]]:
    """Per key, the values ok reads returned that no write or cas could have written.

    In the order first read; keys where every read value was written are left out.
    """
    written: dict[str, set[Any]] = {}
    read: dict[str, list[Any]] = {}
    for op in history.operations():
        if op.f == "write":
            written.setdefault(op.key, set()).add(_hashable(op.value))
        elif op.f == "cas" and isinstance(op.value, (list, tuple)) and len(op.value) == 2:
            written.setdefault(op.key, set()).add(_hashable(op.value[1]))
        elif op.f == "read" and op.type == "ok" and op.value is not None:
            seen = read.setdefault(op.key, [])
            if op.value not in seen:
                seen.append(op.value)
    out: dict[str, list[Any]] = {}
    for key, values in read.items():
        w = written.get(key, set())
        rest = [v for v in values if _hashable(v) not in w]
        if rest:
            out[key] = rest
    return out


__all__ = ["unwritten_reads"]

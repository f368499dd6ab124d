"""PRAM, or FIFO consistency (Lipton & Sandberg, 1988).

Every client p sees all the writes in one order that keeps each client's
own order (its writes, and p's own reads and writes among them), and each of
p's reads returns the last value written before it. Different clients may
see concurrent writes of different clients in different orders.
Equivalently (Brzezinski et al., PDP 2004): read your writes + monotonic
reads + monotonic writes. Engine: :mod:`capsim.check.views`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from capsim.check.model_result import ModelResult
from capsim.check.views import decide
from capsim.history import History


def check_pram(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
               lang: str | None = None) -> ModelResult:
    """Is every client's view a PRAM serialization? Requires unique written values."""
    h = history if isinstance(history, History) else History(history)
    return decide("pram", h, initial or {}, lang)


__all__ = ["check_pram"]

"""Session guarantees (Terry et al., PDIS 1994), one client session at a time.

Each is checked as in Brzezinski, Sobaniec & Wawrzyniak (PDP 2004): for every
client p, one order of all writes and p's own operations in which each of
p's reads returns the last value written before it, and which keeps

* **RYW** (read your writes): p's acknowledged writes before p's later reads;
* **MR** (monotonic reads): the write each of p's reads read from before p's
  later reads;
* **MW** (monotonic writes): every client's acknowledged writes in that
  client's order;
* **WFR** (writes follow reads): what a client read before that client's
  later writes.

See :mod:`capsim.check.views` for the engine and the Jepsen outcomes. PRAM
is RYW + MR + MW (+ each client's own order), causal memory is PRAM + WFR,
so a ``no`` here is a ``no`` for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from capsim.check.model_result import ModelResult
from capsim.check.views import decide
from capsim.history import History


def check_ryw(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
              lang: str | None = None) -> ModelResult:
    """Read your writes."""
    return decide("ryw", _h(history), initial or {}, lang)


def check_mr(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
             lang: str | None = None) -> ModelResult:
    """Monotonic reads."""
    return decide("mr", _h(history), initial or {}, lang)


def check_mw(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
             lang: str | None = None) -> ModelResult:
    """Monotonic writes."""
    return decide("mw", _h(history), initial or {}, lang)


def check_wfr(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
              lang: str | None = None) -> ModelResult:
    """Writes follow reads."""
    return decide("wfr", _h(history), initial or {}, lang)


def _h(history: History | Sequence[Any]) -> History:
    return history if isinstance(history, History) else History(history)


__all__ = ["check_mr", "check_mw", "check_ryw", "check_wfr"]

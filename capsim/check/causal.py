"""Causal consistency, in its *causal memory* variant (CM).

Bouajjani, Enea, Guerraoui & Hamza ("On verifying causal consistency",
POPL 2017) define three variants for histories whose written values are
unique: CC (weak causal consistency: each operation alone must be
explainable by its causal past), CCv (causal convergence: one arbitration
order of all writes, as in COPS' causal+) and CM (causal memory, Ahamad et
al., Distributed Computing 1995). capsim checks **CM**:

    the causal order co = (program order ∪ read-from)⁺ must be acyclic, and
    for every client p there is one order of p's operations and the writes
    in their causal past that extends co and in which every read of p
    returns the last value written before it.

Why CM: it is the textbook "causal consistency" that Viotti & Vukolić and
the HAT paper put between sequential consistency and PRAM, it is exactly
PRAM + writes-follow-reads in one view (Brzezinski et al., PDP 2004), so the ladder's
implications (sequential ⇒ causal ⇒ PRAM ⇒ RYW, MR, MW; causal ⇒ WFR)
hold (the converse needs the guarantees to hold in one common view per
client, not each in its own), and its violations are explained per client ("bob saw an effect
before its cause"). CC is weaker (a client may read 1, 2, 1 of two
concurrent writes, which breaks MR) and CCv is incomparable with CM
(``p1: w(x,1) r(x,2)``, ``p2: w(x,2) r(x,1)`` is CM but not CCv); the tests
hold both separating histories.

A violation is named by Bouajjani et al.'s bad patterns: ThinAirRead,
CyclicCO (the causal order has a cycle), WriteCOInitRead / WriteCORead (a
read returns an initial or overwritten value although a newer write to the
key is in its causal past), WriteHBInitRead / CyclicHB (the same, after
the forced "happens-before" edges of one client's view are added). The
check itself is :mod:`capsim.check.views` with every edge set on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from capsim.check.model_result import ModelResult
from capsim.check.views import decide
from capsim.history import History


def check_causal(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
                 lang: str | None = None) -> ModelResult:
    """Is the history causal memory (CM)? Requires unique written values."""
    h = history if isinstance(history, History) else History(history)
    return decide("causal", h, initial or {}, lang)


__all__ = ["check_causal"]

"""The verdict of one consistency model on one history, shared by every model checker.

A checker answers ``yes``, ``no`` or ``unknown`` (a budget ran out, or the
history is outside what the checker decides, e.g. repeated written values
for the causal family). For ``no`` it names a *witness*: a small set of
operations that on its own already breaks the model (taking away any one of
them makes the violation go away), and a sentence that says why in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

ModelVerdict: TypeAlias = Literal["yes", "no", "unknown"]

#: The ladder, strongest first. ``convergence`` (the bottom rung) is not a
#: property of the history alone: it reads the replica trace, see
#: :mod:`capsim.check.convergence`.
MODELS: tuple[str, ...] = (
    "linearizable",
    "sequential",
    "causal",
    "pram",
    "ryw",
    "mr",
    "mw",
    "wfr",
)

#: Short names for the compact ladder line.
SHORT: dict[str, str] = {
    "linearizable": "linearizable",
    "sequential": "sequential",
    "causal": "causal",
    "pram": "PRAM",
    "ryw": "RYW",
    "mr": "MR",
    "mw": "MW",
    "wfr": "WFR",
}


def _json_time(t: float) -> float | None:
    return t if math.isfinite(t) else None


@dataclass(frozen=True, slots=True)
class WitnessOp:
    """One operation of a witness, as plots and machine readers want it."""

    index: int
    process: str
    node: str | None
    f: str
    key: str
    type: str
    value: Any
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        v = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "index": self.index,
            "process": self.process,
            "node": self.node,
            "f": self.f,
            "key": self.key,
            "type": self.type,
            "value": v,
            "start": self.start,
            "end": _json_time(self.end),
        }


@dataclass(frozen=True, slots=True)
class ModelResult:
    """One model's verdict.

    ``witness`` holds the invoke-event indices of the guilty operations
    (``witness_ops`` their details); ``process`` is whose view broke, for
    the per-client models; ``implied_by`` names the stronger model whose
    ``yes`` settled this one without a search; ``pattern`` names the shape
    of the violation (e.g. Bouajjani et al.'s ``CyclicHB``).
    """

    model: str
    verdict: ModelVerdict
    sentence: str = ""
    witness: tuple[int, ...] = ()
    witness_ops: tuple[WitnessOp, ...] = ()
    process: str | None = None
    implied_by: str | None = None
    reason: str | None = None
    pattern: str | None = None
    steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "verdict": self.verdict,
            "sentence": self.sentence,
            "witness": list(self.witness),
            "witness_ops": [o.to_dict() for o in self.witness_ops],
            "process": self.process,
            "implied_by": self.implied_by,
            "reason": self.reason,
            "pattern": self.pattern,
            "steps": self.steps,
            **self.extra,
        }


__all__ = ["MODELS", "SHORT", "ModelResult", "ModelVerdict", "WitnessOp"]

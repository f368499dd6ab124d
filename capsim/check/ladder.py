"""The consistency ladder: which guarantees one history keeps, strongest first.

    linearizable ⇒ sequential ⇒ causal (CM) ⇒ PRAM ⇒ RYW, MR, MW
                                causal (CM) ⇒ WFR

(convergence, the bottom rung, is about replicas, not the history: see
:mod:`capsim.check.convergence`). Each rung is its own checker; this module
runs them in order and uses the implications to skip work: once a model
holds, every model below it holds too and is reported as ``yes`` with
``implied_by`` naming the reason. The tests assert each implication on
generated histories with every checker run on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from capsim.check.causal import check_causal
from capsim.check.linearizable import LinearizabilityResult, check_linearizable
from capsim.check.model_result import MODELS, ModelResult
from capsim.check.model_words import implied, ladder_line, witness_ops
from capsim.check.pram import check_pram
from capsim.check.sequential import DEFAULT_STEPS, check_sequential
from capsim.check.session import check_mr, check_mw, check_ryw, check_wfr
from capsim.history import History

#: The next stronger model(s) whose ``yes`` settles a model.
IMPLIED_BY: dict[str, tuple[str, ...]] = {
    "sequential": ("linearizable",),
    "causal": ("sequential",),
    "pram": ("causal",),
    "ryw": ("pram",),
    "mr": ("pram",),
    "mw": ("pram",),
    "wfr": ("causal",),
}

_VIEW_CHECKERS: dict[str, Callable[..., ModelResult]] = {
    "causal": check_causal,
    "pram": check_pram,
    "ryw": check_ryw,
    "mr": check_mr,
    "mw": check_mw,
    "wfr": check_wfr,
}


def stronger(model: str) -> set[str]:
    """Every model that implies ``model`` (transitively)."""
    out: set[str] = set()
    todo = list(IMPLIED_BY.get(model, ()))
    while todo:
        m = todo.pop()
        if m not in out:
            out.add(m)
            todo.extend(IMPLIED_BY.get(m, ()))
    return out


@dataclass(frozen=True, slots=True)
class Ladder:
    """The verdict of each model asked for, in ladder order."""

    results: dict[str, ModelResult]

    def verdicts(self) -> dict[str, str]:
        return {m: r.verdict for m, r in self.results.items()}

    def line(self, lang: str | None = None) -> str:
        return ladder_line(self.verdicts(), lang)

    def strongest_broken(self) -> ModelResult | None:
        """The weakest... no: the *lowest* rung that breaks is the most telling; this is
        the strongest model whose violation is not implied by a weaker one's.
        """
        broken = [r for r in self.results.values() if r.verdict == "no"]
        return broken[-1] if broken else None

    def to_dict(self) -> dict[str, Any]:
        return {m: r.to_dict() for m, r in self.results.items()}


def from_linearizability(lin: LinearizabilityResult | Mapping[str, Any]) -> ModelResult:
    """The linearizability checker's answer as a ladder rung."""
    d = lin.to_dict() if isinstance(lin, LinearizabilityResult) else dict(lin)
    v = d.get("linearizable")
    verdict = "yes" if v is True else "no" if v is False else "unknown"
    from capsim.check.model_result import WitnessOp

    wops = tuple(
        WitnessOp(o["index"], o["process"], o.get("node"), o["f"], d.get("key") or "", o["type"],
                  tuple(o["value"]) if isinstance(o["value"], list) else o["value"], o["start"],
                  float("inf") if o.get("end") is None else o["end"])
        for o in d.get("op_details", [])
    )
    return ModelResult("linearizable", verdict, d.get("explanation", ""),  # type: ignore[arg-type]
                       tuple(d.get("ops", [])), wops, reason=d.get("reason"),
                       steps=d.get("steps", 0))


def check_ladder(
    history: History | Sequence[Any],
    *,
    initial: Mapping[str, Any] | None = None,
    models: Iterable[str] = MODELS,
    linearizability: LinearizabilityResult | Mapping[str, Any] | None = None,
    budget_steps: int | None = DEFAULT_STEPS,
    lang: str | None = None,
) -> Ladder:
    """Check each of ``models`` on ``history``, strongest first, skipping implied ones.

    ``linearizability`` reuses a verdict already computed (``capsim run`` has
    one); ``budget_steps`` bounds the sequential-consistency search (its
    verdict is ``unknown`` when it runs out). Unknown model names raise
    ``ValueError``.
    """
    h = history if isinstance(history, History) else History(history)
    init = dict(initial or {})
    wanted = list(models)
    bad = [m for m in wanted if m not in MODELS]
    if bad:
        raise ValueError(f"unknown model(s) {', '.join(bad)}; valid: {', '.join(MODELS)}")
    out: dict[str, ModelResult] = {}
    for m in MODELS:
        if m not in wanted:
            continue
        holds = [s for s in IMPLIED_BY.get(m, ()) if s in out and out[s].verdict == "yes"]
        if holds:
            out[m] = ModelResult(m, "yes", implied(holds[0], lang), implied_by=holds[0])
            continue
        if m == "linearizable":
            lin = linearizability if linearizability is not None else check_linearizable(
                h, initial=init)
            out[m] = from_linearizability(lin)
        elif m == "sequential":
            out[m] = check_sequential(h, initial=init, budget_steps=budget_steps, lang=lang)
        else:
            out[m] = _VIEW_CHECKERS[m](h, initial=init, lang=lang)
    return Ladder(out)


__all__ = ["IMPLIED_BY", "Ladder", "check_ladder", "from_linearizability", "stronger",
           "witness_ops"]

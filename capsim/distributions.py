"""Latency distributions: validated specs that compile to fast samplers.

A spec is data (so it lives in scenario files and JSON); ``sampler()`` turns
it into a plain function of a ``random.Random`` so the engine's hot path is
one call per message, with every draw coming from the run's own generator.
Times are in seconds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Sampler = Callable[[random.Random], float]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def sampler(self) -> Sampler:  # pragma: no cover - overridden
        raise NotImplementedError

    def upper_bound(self) -> float:
        """A bound no sample exceeds, or ``inf`` for unbounded distributions."""
        return math.inf

    def lower_bound(self) -> float:
        return 0.0


class Constant(_Dist):
    """Every message takes exactly ``value`` seconds."""

    dist: Literal["constant"]
    value: float = Field(ge=0)

    def sampler(self) -> Sampler:
        v = self.value
        return lambda rng: v

    def upper_bound(self) -> float:
        return self.value

    def lower_bound(self) -> float:
        return self.value


class Uniform(_Dist):
    """Uniform between ``low`` and ``high`` seconds."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def sampler(self) -> Sampler:
        lo, span = self.low, self.high - self.low
        return lambda rng: lo + span * rng.random()

    def upper_bound(self) -> float:
        return self.high

    def lower_bound(self) -> float:
        return self.low


class Exponential(_Dist):
    """Exponential with the given ``mean`` seconds (plus an optional ``shift``)."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)
    shift: float = Field(default=0.0, ge=0)

    def sampler(self) -> Sampler:
        rate, shift = 1.0 / self.mean, self.shift
        return lambda rng: shift + rng.expovariate(rate)

    def lower_bound(self) -> float:
        return self.shift


class LogNormal(_Dist):
    """Log-normal: ``exp(N(mu, sigma))`` seconds, the classic heavy-ish tail."""

    dist: Literal["lognormal"]
    mu: float
    sigma: float = Field(gt=0)

    def sampler(self) -> Sampler:
        mu, sigma = self.mu, self.sigma

        def sample(rng: random.Random) -> float:
            try:
                return rng.lognormvariate(mu, sigma)
            except OverflowError:  # exp() of a huge draw: a message that never arrives
                return math.inf

        return sample


class Pareto(_Dist):
    """Pareto type I with scale ``xm`` seconds and shape ``alpha``."""

    dist: Literal["pareto"]
    xm: float = Field(gt=0)
    alpha: float = Field(gt=0)

    def sampler(self) -> Sampler:
        xm, alpha = self.xm, self.alpha

        def sample(rng: random.Random) -> float:
            try:
                return xm * rng.paretovariate(alpha)
            except (OverflowError, ZeroDivisionError):  # alpha near 0: an endless tail
                return math.inf

        return sample

    def lower_bound(self) -> float:
        return self.xm


class Component(BaseModel):
    """One weighted part of a mixture."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    weight: float = Field(gt=0)
    of: Annotated[
        Constant | Uniform | Exponential | LogNormal | Pareto,
        Field(discriminator="dist"),
    ]


class Mixture(_Dist):
    """A weighted mixture, e.g. the PBS paper's Pareto + exponential fits."""

    dist: Literal["mixture"]
    components: list[Component] = Field(min_length=1)

    def sampler(self) -> Sampler:
        total = sum(c.weight for c in self.components)
        cum: list[float] = []
        acc = 0.0
        for c in self.components:
            acc += c.weight / total
            cum.append(acc)
        samplers = [c.of.sampler() for c in self.components]
        last = len(samplers) - 1

        def sample(rng: random.Random) -> float:
            u = rng.random()
            for i, edge in enumerate(cum):
                if u < edge:
                    return samplers[i](rng)
            return samplers[last](rng)

        return sample

    def upper_bound(self) -> float:
        return max(c.of.upper_bound() for c in self.components)

    def lower_bound(self) -> float:
        return min(c.of.lower_bound() for c in self.components)


Distribution = Annotated[
    Constant | Uniform | Exponential | LogNormal | Pareto | Mixture,
    Field(discriminator="dist"),
]
"""Any latency distribution, told apart by its ``dist`` field."""

DIST_NAMES = ("constant", "uniform", "exponential", "lognormal", "pareto", "mixture")

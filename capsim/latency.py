"""Latency models shared by the simulator's network and PBS: the PBS paper's production mixtures.

They live here, below both :mod:`capsim.sim` and :mod:`capsim.pbs`, because
both draw from them; neither owns them.

Bailis et al. (PVLDB 5(8), 2012, Table 3) fitted each one-way message delay of
a Dynamo-style quorum system to a two-part mixture: a Pareto (type I) body and
an exponential tail, in milliseconds. The four delays are named after the WARS
model: **W** (coordinator to replica, carrying a write), **A** (the replica's
write ack back), **R** (read request to a replica), **S** (the replica's read
response back).

The models are kept as data (:class:`Component` tuples) rather than as code so
that two consumers can share them: the vectorised Monte Carlo in
:mod:`capsim.pbs.montecarlo` (numpy, milliseconds) and the SimPy simulator's
network (``random.Random``, seconds), which builds one closure per link with
:meth:`LatencyModel.sampler`. Both draw from exactly the same distributions.

The parameters are those of the authors' simulator
(``pbailis/pbs-vldb-historical-paper-material``, ``nrw_solver/src/Simulator.java``)
except where :data:`YMMR_WRITE_ALPHA` says otherwise; see ``docs/pbs.md``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DelayKind = Literal["w", "a", "r", "s"]
DELAY_KINDS: tuple[DelayKind, ...] = ("w", "a", "r", "s")
DistName = Literal["pareto", "exponential"]

YMMR_WRITE_ALPHA = 3.5
"""Shape of the Pareto body of Yammer's write delay W.

The paper's Table 3 prints 3.35; the authors' simulator uses 3.5, and only
3.5 reproduces Table 4: the exact W=1 write latency is 10.77 ms with 3.5
against the published 10.73-10.83, but 11.12 ms with 3.35 (and 36 ms with
1.35); P(consistent at commit) for R=W=1 is 89.3% with 3.5, as published,
and 88.7% with 3.35. ``docs/pbs.md`` and ``tests/test_pbs_paper.py`` have
the details.
"""


class Component(NamedTuple):
    """One part of a mixture: ``(weight, "pareto", {"xm", "alpha"})`` or
    ``(weight, "exponential", {"rate"})``, all in milliseconds (rate per ms).

    A plain tuple so a consumer can unpack it without importing capsim types.
    """

    weight: float
    dist: DistName
    params: Mapping[str, float]


def pareto(weight: float, xm: float, alpha: float) -> Component:
    """A Pareto type I part: ``P(X > x) = (xm / x) ** alpha`` for ``x >= xm``."""
    return Component(weight, "pareto", MappingProxyType({"xm": xm, "alpha": alpha}))


def exponential(weight: float, rate: float) -> Component:
    """An exponential part with ``rate`` per millisecond (mean ``1 / rate`` ms)."""
    return Component(weight, "exponential", MappingProxyType({"rate": rate}))


Mixture = tuple[Component, ...]


def _check_mixture(name: str, kind: str, mix: Mixture) -> None:
    if not mix:
        raise ValueError(f"{name}.{kind}: a mixture needs at least one component")
    total = sum(c.weight for c in mix)
    if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"{name}.{kind}: weights sum to {total}, not 1")
    for c in mix:
        if c.weight <= 0:
            raise ValueError(f"{name}.{kind}: weight {c.weight} must be positive")
        if c.dist == "pareto":
            if c.params["xm"] <= 0 or c.params["alpha"] <= 0:
                raise ValueError(f"{name}.{kind}: pareto needs xm > 0 and alpha > 0")
        elif c.dist == "exponential":
            if c.params["rate"] <= 0:
                raise ValueError(f"{name}.{kind}: exponential needs rate > 0")
        else:
            raise ValueError(f"{name}.{kind}: unknown distribution {c.dist!r}")


def _draw_one(mix: Mixture, rng: random.Random) -> float:
    """One delay in ms from ``mix``, with two uniforms from ``rng``."""
    u = rng.random()
    chosen = mix[-1]
    for c in mix:
        if u < c.weight:
            chosen = c
            break
        u -= c.weight
    v = 1.0 - rng.random()  # in (0, 1]: never divides by zero
    if chosen.dist == "pareto":
        return chosen.params["xm"] / v ** (1.0 / chosen.params["alpha"])
    return -math.log(v) / chosen.params["rate"]


@dataclass(frozen=True)
class LatencyModel:
    """The four one-way delay distributions of one production setting.

    ``remote_ms`` is the WAN extra: every message between a client and a
    replica outside its datacenter pays it on top of the base delay. In a trial
    one replica of N, chosen uniformly, shares the writer's datacenter and,
    independently, one shares the reader's (the authors' ``MULTIDC`` mode);
    the others are remote. It is 0 for single-datacenter models.
    """

    name: str
    description: str
    w: Mixture
    a: Mixture
    r: Mixture
    s: Mixture
    remote_ms: float = 0.0
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for kind in DELAY_KINDS:
            _check_mixture(self.name, kind, self.delay(kind))
        if self.remote_ms < 0:
            raise ValueError(f"{self.name}: remote_ms must be >= 0")

    def delay(self, kind: DelayKind) -> Mixture:
        """The mixture of one of the four delays, ``"w"``, ``"a"``, ``"r"`` or ``"s"``."""
        if kind not in DELAY_KINDS:
            raise ValueError(f"unknown delay {kind!r}; use one of w, a, r, s")
        mix: Mixture = getattr(self, kind)
        return mix

    def sample(
        self,
        kind: DelayKind,
        size: int | tuple[int, ...],
        rng: np.random.Generator,
        *,
        remote: bool = False,
    ) -> npt.NDArray[np.float64]:
        """``size`` independent delays in ms (vectorised; one uniform per delay).

        ``remote=True`` adds :attr:`remote_ms` to every draw, as for a message
        to a replica in another datacenter.
        """
        import numpy as np

        out = np.empty(size, dtype=np.float64)
        sample_mixture(self.delay(kind), rng, out)
        if remote and self.remote_ms:
            out += self.remote_ms
        return out

    def sample_one(self, kind: DelayKind, rng: random.Random, *, remote: bool = False) -> float:
        """One delay in ms drawn with a stdlib ``random.Random`` (for per-message use)."""
        x = _draw_one(self.delay(kind), rng)
        return x + self.remote_ms if remote else x

    def sampler(
        self, kind: DelayKind, *, remote: bool = False, scale: float = 1e-3
    ) -> Callable[[random.Random], float]:
        """A ``rng -> delay`` closure in simulator units (``scale=1e-3``: seconds).

        The SimPy network takes one such sampler per link; building it once
        keeps the per-message cost to the draw itself.
        """
        mix = self.delay(kind)
        extra = self.remote_ms if remote else 0.0

        def draw(rng: random.Random) -> float:
            return (_draw_one(mix, rng) + extra) * scale

        return draw

    def mean_ms(self, kind: DelayKind) -> float:
        """The mean one-way delay in ms (infinite for a Pareto part with alpha <= 1)."""
        total = 0.0
        for c in self.delay(kind):
            if c.dist == "pareto":
                xm, alpha = c.params["xm"], c.params["alpha"]
                m = math.inf if alpha <= 1 else alpha * xm / (alpha - 1)
            else:
                m = 1.0 / c.params["rate"]
            total += c.weight * m
        return total

    def to_dict(self) -> dict[str, object]:
        """Plain, JSON-ready data: ``{"w": [[weight, dist, {params}], ...], ...}``."""
        d: dict[str, object] = {"name": self.name, "description": self.description}
        for kind in DELAY_KINDS:
            d[kind] = [[c.weight, c.dist, dict(c.params)] for c in self.delay(kind)]
        d["remote_ms"] = self.remote_ms
        return d


def sample_mixture(mix: Mixture, rng: np.random.Generator, out: npt.NDArray[np.float64]) -> None:
    """Fill ``out`` with draws from ``mix`` (in place, any shape).

    One uniform per draw picks the component *and* supplies its value: given
    that ``U`` fell in a component's slice of (0, 1], its position inside the
    slice is again uniform. Both component kinds are then functions of
    ``E = -log(V)`` (exponential: ``E / rate``; Pareto: ``xm * exp(E / alpha)``,
    the same as ``xm / V ** (1 / alpha)``), which halves the random numbers
    and avoids ``pow`` -- most of the Monte Carlo's time is spent here.
    """
    import numpy as np

    u = out
    rng.random(out=u)
    np.subtract(1.0, u, out=u)  # (0, 1]: never log(0)
    if len(mix) == 1:
        np.log(u, out=u)
        np.negative(u, out=u)
        _transform(mix[0], u, u)
        return
    # Which slice of (0, 1] each draw fell in, and where inside it. The
    # masks are nested (beyond[i] implies beyond[i-1]), so overwriting in
    # order leaves each draw with its own component. u > edge makes u - edge
    # strictly positive (IEEE subtraction of unequal numbers is never 0).
    # Everything is done in place: fresh large temporaries cost page faults.
    beyond = []
    edge = 0.0
    for c in mix[:-1]:
        edge += c.weight
        beyond.append(u > edge)
    v = np.multiply(u, 1.0 / mix[0].weight)
    tmp = np.empty_like(u) if len(mix) > 2 else u
    edge = mix[0].weight
    for c, mask in zip(mix[1:], beyond, strict=True):
        np.subtract(u, edge, out=tmp)
        tmp *= 1.0 / c.weight
        np.copyto(v, tmp, where=mask)
        edge += c.weight
    np.minimum(v, 1.0, out=v)  # rounding may overshoot 1 by an ulp: keep delays >= 0
    e = np.log(v, out=v)
    np.negative(e, out=e)
    _transform(mix[0], e, u)
    for i, (c, mask) in enumerate(zip(mix[1:], beyond, strict=True)):
        last = i == len(beyond) - 1
        np.copyto(u, _transform(c, e, e if last else tmp), where=mask)


def _transform(
    c: Component, e: npt.NDArray[np.float64], out: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Turn standard exponentials ``e`` into draws from component ``c``, into ``out``."""
    import numpy as np

    if c.dist == "pareto":
        r = np.multiply(e, 1.0 / c.params["alpha"], out=out)
        np.exp(r, out=r)
        r *= c.params["xm"]
        return r
    return np.multiply(e, 1.0 / c.params["rate"], out=out)


_SSD_ARS: Mixture = (pareto(0.9122, 0.235, 10.0), exponential(0.0878, 1.66))
_DISK_W: Mixture = (pareto(0.38, 1.05, 1.51), exponential(0.62, 0.183))
_YMMR_W: Mixture = (pareto(0.939, 3.0, YMMR_WRITE_ALPHA), exponential(0.061, 0.0028))
_YMMR_ARS: Mixture = (pareto(0.982, 1.5, 3.8), exponential(0.018, 0.0217))

_SOURCE = "Bailis et al., PVLDB 5(8) 2012, Table 3; authors' Simulator.java"

PBS_MODELS: Mapping[str, LatencyModel] = MappingProxyType(
    {
        "LNKD-SSD": LatencyModel(
            "LNKD-SSD",
            "LinkedIn Voldemort on SSDs: every delay fast and light-tailed",
            w=_SSD_ARS,
            a=_SSD_ARS,
            r=_SSD_ARS,
            s=_SSD_ARS,
            source=_SOURCE,
        ),
        "LNKD-DISK": LatencyModel(
            "LNKD-DISK",
            "LinkedIn Voldemort on spinning disks: slow, heavy-tailed writes (W)",
            w=_DISK_W,
            a=_SSD_ARS,
            r=_SSD_ARS,
            s=_SSD_ARS,
            source=_SOURCE,
        ),
        "YMMR": LatencyModel(
            "YMMR",
            "Yammer Riak: millisecond delays with a long exponential tail",
            w=_YMMR_W,
            a=_YMMR_ARS,
            r=_YMMR_ARS,
            s=_YMMR_ARS,
            source=_SOURCE,
        ),
        "WAN": LatencyModel(
            "WAN",
            "LNKD-DISK across datacenters: +75 ms to every replica outside the client's DC",
            w=_DISK_W,
            a=_SSD_ARS,
            r=_SSD_ARS,
            s=_SSD_ARS,
            remote_ms=75.0,
            source=_SOURCE,
        ),
    }
)
"""The paper's four models by name (``PBS_MODELS["LNKD-SSD"].w`` etc.)."""

MODEL_NAMES: tuple[str, ...] = tuple(PBS_MODELS)


def get_model(name: str) -> LatencyModel:
    """The model called ``name`` (case-insensitive); a clear ``ValueError`` otherwise."""
    key = name.strip().upper()
    if key not in PBS_MODELS:
        raise ValueError(f"unknown latency model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return PBS_MODELS[key]


__all__ = [
    "DELAY_KINDS",
    "MODEL_NAMES",
    "PBS_MODELS",
    "YMMR_WRITE_ALPHA",
    "Component",
    "DelayKind",
    "LatencyModel",
    "Mixture",
    "exponential",
    "get_model",
    "pareto",
    "sample_mixture",
]

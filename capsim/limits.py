"""How big a run may get before capsim refuses it, and the estimate it checks.

A scenario can be valid and still endless: ``rate: 1e30``, ``duration: 1e9``
with anti-entropy every microsecond, a million clients. capsim estimates a
run's size before it starts and refuses one above its scenario's ``limits``
with an error naming the limit, the estimate and the setting that raises it
(``limits: {events: …}`` in the scenario file). The defaults let every
classroom scenario through and keep a run under a minute or so.

The estimate, per policy (it need not be exact, only of the right size):

- operations = scheduled ones + ``workload.rate`` × the workload's window;
- events = operations × (2 + 4 × nodes) (request, reply, and a message out
  and back to every replica), plus, for policies with timers, anti-entropy
  rounds (duration ÷ ``sync_interval`` × nodes²) and lock retries
  (operations × timeout ÷ ``retry`` × nodes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from capsim.i18n import t


class Scenario(Protocol):
    """What the limits read of a scenario (:class:`capsim.scenario.Scenario` has it).

    A protocol, not an import: the scenario module imports :class:`Limits`.
    """

    @property
    def nodes(self) -> list[str]: ...
    @property
    def clients(self) -> Any: ...
    @property
    def operations(self) -> Any: ...
    @property
    def workload(self) -> Any: ...
    @property
    def duration(self) -> float: ...
    @property
    def timeout(self) -> float: ...
    @property
    def params(self) -> Any: ...
    @property
    def policies(self) -> list[str]: ...
    @property
    def limits(self) -> Limits: ...

Loc = tuple[str | int, ...]


class Limits(BaseModel):
    """The largest run a scenario may ask for; raise one in the file to go further."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    events: int = Field(default=5_000_000, ge=1, description="Estimated simulated events.")
    operations: int = Field(default=500_000, ge=1, description="Estimated operations.")
    nodes: int = Field(default=100, ge=1, description="Replicas.")
    clients: int = Field(default=1_000, ge=1, description="Clients (named plus generated).")
    keys: int = Field(default=10_000, ge=1, description="Keys of the generated workload.")


def estimate(scenario: Scenario, params: Mapping[str, Mapping[str, Any]] | None = None,
             policies: list[str] | None = None) -> dict[str, float]:
    """The estimated size of a run: nodes, clients, keys, operations, events (worst policy)."""
    from capsim.policies import REGISTRY

    n = len(scenario.nodes)
    w = scenario.workload
    ops = float(len(scenario.operations))
    clients = float(len(scenario.clients))
    keys = 1.0
    if w is not None:
        end = scenario.duration if w.end is None else w.end
        ops += w.rate * max(0.0, end - w.start)
        clients += w.clients
        keys = float(w.keys)
    events = ops * (2 + 4 * n)
    worst = events
    for name in policies or scenario.policies:
        cls = REGISTRY.get(name)
        if cls is None:
            continue
        given = {**scenario.params.get(name, {}), **((params or {}).get(name, {}))}
        try:
            p = cls.Params.model_validate(given, context={"nodes": list(scenario.nodes)})
        except ValueError:
            continue  # reported elsewhere
        extra = 0.0
        sync = getattr(p, "sync_interval", None)
        if sync:
            extra += scenario.duration / sync * n * n
        retry = getattr(p, "retry", None)
        if retry:
            extra += ops * scenario.timeout / retry * n
        worst = max(worst, events + extra)
    return {"nodes": n, "clients": clients, "keys": keys, "operations": ops, "events": worst}


_WHAT = {
    "nodes": ("nodes", "the scenario has {est} replicas, more than limits.nodes ({max})"),
    "clients": ("clients", "the run would have {est} clients, more than limits.clients ({max})"),
    "keys": ("workload.keys", "the workload would use {est} keys, more than limits.keys ({max})"),
    "operations": ("workload.rate", "the run would issue about {est} operations, more than "
                   "limits.operations ({max}); lower workload.rate or shorten duration"),
    "events": ("duration", "the run would take about {est} simulated events, more than "
               "limits.events ({max}); shorten duration, lower workload.rate or raise "
               "sync_interval/retry"),
}


def problems(scenario: Scenario, params: Mapping[str, Mapping[str, Any]] | None = None,
             policies: list[str] | None = None) -> list[tuple[Loc, str]]:
    """One problem per limit the run would exceed, naming the setting that raises it."""
    est = estimate(scenario, params, policies)
    limits = scenario.limits
    out: list[tuple[Loc, str]] = []
    for key in ("nodes", "clients", "keys", "operations", "events"):
        value, most = est[key], getattr(limits, key)
        if value > most:
            field, text = _WHAT[key]
            loc: Loc = tuple(field.split("."))
            msg = t(text, None, est=_big(value), max=f"{most:,}")
            out.append((loc, msg + t(" (to run it anyway, raise it: limits: {{{key}: N}})",
                                     None, key=key)))
    return out


def _big(x: float) -> str:
    return f"{x:,.0f}" if x < 1e15 else f"{x:.1e}"


__all__ = ["Limits", "estimate", "problems"]

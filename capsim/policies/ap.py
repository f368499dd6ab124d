"""``ap``: answer at once from the local copy; replicate in the background.

Each write is stamped with a version and the node id (ties broken by id),
applied locally, acknowledged, and sent to every peer; a replica keeps the
highest version it has seen (last-writer-wins). What "last writer" means is
the ``clock`` parameter: ``lamport`` (default) orders writes by a Lamport
counter, so of two concurrent writes on different replicas the one with the
larger node id wins even if it was acknowledged *earlier* in real time, and a
later read keeps returning the loser's overwritten value; ``hybrid`` stamps
each write with max(now in microseconds, counter + 1), a hybrid logical clock,
so with the simulator's perfect clocks the write acknowledged last wins.
Every ``sync_interval`` seconds each replica pushes its whole map to its peers
(anti-entropy), which
repairs what a partition kept apart, so replicas converge after a heal.

``cas`` is applied to the local copy only — a good way to show lost updates.

Durable: the map and the clock. Volatile: nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from capsim.policies.base import (
    ZERO,
    Effect,
    Policy,
    Reply,
    Request,
    Send,
    SetTimer,
    Stored,
    Version,
    version,
)


class APParams(BaseModel):
    """Tunables of ``ap``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    sync_interval: float = Field(
        default=1.0, gt=0, description="Seconds between anti-entropy rounds."
    )
    replicate: bool = Field(
        default=True, description="Send each write to the peers right away."
    )
    clock: Literal["lamport", "hybrid"] = Field(
        default="lamport",
        description="What 'last writer' means: lamport (a counter; concurrent writes are "
        "ordered by node id) or hybrid (real time first: the write made last wins).",
    )


class AP(Policy):
    name = "ap"
    summary = "local reads and writes, async replication, last-writer-wins, anti-entropy"
    supports = frozenset({"read", "write", "cas"})
    Params = APParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: dict[str, tuple[Any, Version]] = {
            k: (v, ZERO) for k, v in self.initial.items()
        }
        self.clock = 0
        self._now = 0.0
        assert isinstance(self.params, APParams)
        self.sync_interval = self.params.sync_interval

    def value_of(self, key: str) -> Any:
        return self.store.get(key, (None, ZERO))[0]

    def durable_state(self) -> dict[str, Any]:
        return {**super().durable_state(), "clock": self.clock}

    def restore(self, state: Mapping[str, Any]) -> None:
        super().restore(state)
        self.clock = int(state.get("clock", self.clock))

    def start(self, now: float) -> list[Effect]:
        return [SetTimer(self.sync_interval, "sync")] if self.peers else []

    def on_request(self, now: float, req: Request) -> list[Effect]:
        self._now = now  # the hybrid clock's physical part, read by _write
        current, _ = self.store.get(req.key, (None, ZERO))
        if req.f == "read":
            return [Reply(req.id, "ok", current)]
        if req.f == "cas":
            expected, new = req.value
            if current != expected:
                return [Reply(req.id, "fail", error=(
                    f"{self.node} holds {current!r} for {req.key}, not {expected!r}"))]
            return self._write(req, new)
        return self._write(req, req.value)

    def _write(self, req: Request, value: Any) -> list[Effect]:
        assert isinstance(self.params, APParams)
        if self.params.clock == "hybrid":
            self.clock = max(round(self._now * 1_000_000), self.clock + 1)
        else:
            self.clock += 1
        ver = (self.clock, self.node)
        self.store[req.key] = (value, ver)
        out: list[Effect] = [Stored(req.key, value), Reply(req.id, "ok", req.value)]
        if self.params.replicate:
            msg = {"t": "put", "key": req.key, "value": value, "ver": list(ver)}
            out.extend(Send(p, msg, "replicate") for p in self.peers)
        return out

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        if msg["t"] == "put":
            return self._merge(msg["key"], msg["value"], version(msg["ver"]))
        if msg["t"] == "sync":
            out: list[Effect] = []
            for key, (value, ver) in msg["state"].items():
                out.extend(self._merge(key, value, version(ver)))
            return out
        return []

    def _merge(self, key: str, value: Any, ver: Version) -> list[Effect]:
        self.clock = max(self.clock, ver[0])
        if ver > self.store.get(key, (None, ZERO))[1]:
            self.store[key] = (value, ver)
            return [Stored(key, value)]
        return []

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        if token != "sync":
            return []
        state = {k: [v, list(ver)] for k, (v, ver) in sorted(self.store.items())}
        out: list[Effect] = [Send(p, {"t": "sync", "state": state}, "sync") for p in self.peers]
        out.append(SetTimer(self.sync_interval, "sync"))
        return out

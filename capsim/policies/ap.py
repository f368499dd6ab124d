"""``ap``: answer at once from the local copy; replicate in the background.

Each write is stamped with a Lamport clock and the node id (ties broken by
id), applied locally, acknowledged, and sent to every peer; a replica keeps
the highest version it has seen (last-writer-wins). Every ``sync_interval``
seconds each replica pushes to its peers — to at most ``sync_fanout`` of
them, in turn, in a large cluster — the keys that changed since the peer last
acknowledged a push (delta anti-entropy), which repairs what a partition or a
lost message kept apart, so replicas converge after a heal. A quiet replica
sends nothing.

``cas`` is applied to the local copy only — a good way to show lost updates.

Durable: the map and the clock. Volatile: what peers have acknowledged (after
a restart a replica offers its whole map once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from capsim.i18n import t
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

    model_config = ConfigDict(extra="forbid", frozen=True)
    sync_interval: float = Field(
        default=1.0, gt=0, description="Seconds between anti-entropy rounds."
    )
    replicate: bool = Field(
        default=True, description="Send each write to the peers right away."
    )
    sync_fanout: int = Field(
        default=8, ge=1,
        description="Peers each anti-entropy round pushes to (round-robin); all peers when "
                    "there are no more than this.",
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
        self._sync_round = 0
        # Delta anti-entropy: every change gets a local sequence number; a peer is
        # sent only the keys changed since the last sequence it acknowledged.
        self._seq = 0
        self._changed: dict[str, int] = {}  # key -> seq of its last change, oldest first
        self._learned_from: dict[str, str] = {}  # key -> the peer whose value we hold
        self._acked = dict.fromkeys(self.peers, 0)
        assert isinstance(self.params, APParams)
        self.sync_interval = self.params.sync_interval

    def value_of(self, key: str) -> Any:
        return self.store.get(key, (None, ZERO))[0]

    def durable_state(self) -> dict[str, Any]:
        return {**super().durable_state(), "clock": self.clock}

    def restore(self, state: Mapping[str, Any]) -> None:
        super().restore(state)
        self.clock = int(state.get("clock", self.clock))
        self._forget_acks()

    def on_crash(self) -> None:
        self._forget_acks()

    def _forget_acks(self) -> None:
        """After a restart nothing is known of what peers have: offer them everything once."""
        self._seq = 0
        self._changed = {}
        self._learned_from = {}
        for key in sorted(self.store):
            self._changed_now(key)
        self._acked = dict.fromkeys(self.peers, 0)

    def _changed_now(self, key: str, source: str | None = None) -> None:
        if source is None:
            self._learned_from.pop(key, None)
        else:
            self._learned_from[key] = source
        self._seq += 1
        self._changed.pop(key, None)
        self._changed[key] = self._seq

    def start(self, now: float) -> list[Effect]:
        return [SetTimer(self.sync_interval, "sync")] if self.peers else []

    def on_request(self, now: float, req: Request) -> list[Effect]:
        current, _ = self.store.get(req.key, (None, ZERO))
        if req.f == "read":
            return [Reply(req.id, "ok", current)]
        if req.f == "cas":
            expected, new = req.value
            if current != expected:
                return [Reply(req.id, "fail", error=t(
                    "{node} holds {held} for {key}, not {wanted}", "en", node=self.node,
                    held=repr(current), key=req.key, wanted=repr(expected)))]
            return self._write(req, new)
        return self._write(req, req.value)

    def _write(self, req: Request, value: Any) -> list[Effect]:
        self.clock += 1
        ver = (self.clock, self.node)
        self.store[req.key] = (value, ver)
        self._changed_now(req.key)
        out: list[Effect] = [Stored(req.key, value), Reply(req.id, "ok", req.value)]
        if self.params.replicate:  # type: ignore[attr-defined]
            msg = {"t": "put", "key": req.key, "value": value, "ver": list(ver)}
            out.extend(Send(p, msg, "replicate") for p in self.peers)
        return out

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        if msg["t"] == "put":
            return self._merge(msg["key"], msg["value"], version(msg["ver"]), src)
        if msg["t"] == "sync":
            out: list[Effect] = []
            for key, (value, ver) in msg["state"].items():
                out.extend(self._merge(key, value, version(ver), src))
            out.append(Send(src, {"t": "sync-ack", "upto": msg["upto"]}, "sync-ack"))
            return out
        if msg["t"] == "sync-ack" and src in self._acked:
            self._acked[src] = max(self._acked[src], int(msg["upto"]))
        return []

    def _merge(self, key: str, value: Any, ver: Version, src: str) -> list[Effect]:
        self.clock = max(self.clock, ver[0])
        if ver > self.store.get(key, (None, ZERO))[1]:
            self.store[key] = (value, ver)
            self._changed_now(key, source=src)
            return [Stored(key, value)]
        return []

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        if token != "sync":
            return []
        out: list[Effect] = []
        for peer in self._sync_targets():
            delta = self._unacked(peer)
            if delta:
                out.append(Send(peer, {"t": "sync", "state": delta, "upto": self._seq}, "sync"))
        out.append(SetTimer(self.sync_interval, "sync"))
        return out

    def _unacked(self, peer: str) -> dict[str, list[Any]]:
        """The keys changed here since ``peer`` last acknowledged a sync, sorted.

        A push can be lost (a partition, loss), so a peer's sequence advances
        only when it acknowledges; until then the same keys go again next
        round. A value is not pushed back to the peer it came from. The cost
        of a round is what may differ, not the whole map.
        """
        since = self._acked[peer]
        keys = []
        for key, seq in reversed(self._changed.items()):
            if seq <= since:
                break
            if self._learned_from.get(key) != peer:
                keys.append(key)
        return {k: [self.store[k][0], list(self.store[k][1])] for k in sorted(keys)}

    def _sync_targets(self) -> list[str]:
        """The peers of this round: all in a small cluster, else the next ``sync_fanout``.

        Pushing to every peer costs nodes² messages a round, which stops a
        200-node run; like real gossip, each replica pushes to a few peers,
        taking them in turn so that every pair meets within
        ``ceil(peers / fanout)`` rounds. Deterministic: no randomness needed.
        """
        fanout = self.params.sync_fanout  # type: ignore[attr-defined]
        if len(self.peers) <= fanout:
            return self.peers
        start = self._sync_round * fanout
        self._sync_round += 1
        return [self.peers[(start + i) % len(self.peers)] for i in range(fanout)]

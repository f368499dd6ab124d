"""Deliberately broken policies (and checkers): proof that each property can fail.

A property that never fails proves nothing; each of these breaks one
promise in a way real systems have, and ``test_broken_policies.py`` asserts
that hypothesis finds a counterexample for it. They are passed to
``simulate(policy=Class)`` directly and never registered.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, ClassVar

from capsim.check.linearizable import check_linearizable
from capsim.history import Event, History
from capsim.policies.ap import AP
from capsim.policies.base import ZERO, Effect, Policy, Reply, Request, Send, SetTimer, Stored
from capsim.policies.cp import CP, _Op
from capsim.policies.raft import Raft


class QuorumOfOne(CP):
    """``cp`` that counts its own vote as a majority: fast, and neither consistent nor CP."""

    name = "cp-quorum-1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.majority = 1


class SameVersionCP(CP):
    """``cp`` as first written: a write's own vote is the coordinator's copy *at the request*.

    Two writes coordinated by one node at about the same time then both pick
    version (k+1, node); replicas keep whichever arrives first, so they hold
    different values under one version and reads disagree forever. The
    property "cp is consistent" found this in capsim's own ``cp`` (see
    ``test_regressions.py``); this fixture keeps the bug alive so the
    property keeps proving it can find it.
    """

    name = "cp-same-version"

    def _progress(self, opid: int, op: _Op) -> list[Effect]:
        if op.phase != "query" or len(op.replies) < self.majority:
            return super()._progress(opid, op)
        best_v, best = max(op.replies.values(), key=lambda r: r[1])
        if op.req.f == "write":
            op.value, op.version = op.req.value, (best[0] + 1, self.node)
        else:
            op.value, op.version = best_v, best
            if all(r[1] == best for r in op.replies.values()):
                del self.ops[opid]
                return [Reply(op.req.id, "ok", best_v)]
        op.phase = "store"
        out: list[Effect] = []
        if op.version > self.store.get(op.req.key, (None, ZERO))[1]:
            self.store[op.req.key] = (op.value, op.version)
            out.append(Stored(op.req.key, op.value))
        op.acks.add(self.node)
        msg = {"t": "put", "op": opid, "key": op.req.key, "value": op.value,
               "ver": list(op.version)}
        out.extend(Send(p, msg, "store") for p in self.peers)
        out.extend(super()._progress(opid, op))
        return out


class LocalReadCP(CP):
    """``cp`` with the classic "optimisation" of answering reads from the local copy."""

    name = "cp-local-reads"

    def on_request(self, now: float, req: Request) -> list[Effect]:
        if req.f == "read":
            return [Reply(req.id, "ok", self.value_of(req.key))]
        return super().on_request(now, req)


class StaleSnapshotAP(AP):
    """``ap`` whose reads come from a snapshot taken at boot (a cache never invalidated)."""

    name = "ap-stale-snapshot"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshot = dict(self.initial)

    def on_request(self, now: float, req: Request) -> list[Effect]:
        if req.f == "read":
            return [Reply(req.id, "ok", self.snapshot.get(req.key))]
        return super().on_request(now, req)


class RefusingAP(AP):
    """"``ap``" that first checks every peer is reachable and refuses when one is not.

    That is a CP system wearing an AP label: unavailable in any partition,
    and slow (a round trip) even without one.
    """

    name = "ap-refusing"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: dict[int, tuple[Request, set[str]]] = {}

    def on_request(self, now: float, req: Request) -> list[Effect]:
        if not self.peers:
            return super().on_request(now, req)
        self.waiting[req.id] = (req, set())
        out: list[Effect] = [Send(p, {"t": "ping", "id": req.id}, "query") for p in self.peers]
        out.append(SetTimer(self.timeout / 2, ("refuse", req.id)))
        return out

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        if msg["t"] == "ping":
            return [Send(src, {"t": "pong", "id": msg["id"]}, "reply")]
        if msg["t"] == "pong":
            entry = self.waiting.get(msg["id"])
            if entry is None:
                return []
            entry[1].add(src)
            if len(entry[1]) == len(self.peers):
                del self.waiting[msg["id"]]
                return super().on_request(now, entry[0])
            return []
        return super().on_message(now, src, msg)

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        if isinstance(token, tuple) and token[0] == "refuse":
            entry = self.waiting.pop(token[1], None)
            if entry is None:
                return []
            return [Reply(entry[0].id, "fail", error=f"{self.node} cannot reach every peer")]
        return super().on_timer(now, token)

    def on_crash(self) -> None:
        self.waiting.clear()


class NoAntiEntropyAP(AP):
    """``ap`` without anti-entropy: what a partition kept apart stays apart."""

    name = "ap-no-anti-entropy"

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        return [SetTimer(self.sync_interval, "sync")] if token == "sync" else []


class NondeterministicAP(AP):
    """``ap`` that delays replication by a draw from the *global* random module."""

    name = "ap-global-random"

    def _write(self, req: Request, value: Any) -> list[Effect]:
        out: list[Effect] = []
        for e in super()._write(req, value):
            if isinstance(e, Send):
                out.append(SetTimer(random.random() / 10, ("send", e.dst, e.msg)))
            else:
                out.append(e)
        return out

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        if isinstance(token, tuple) and token[0] == "send":
            return [Send(token[1], token[2], "replicate")]
        return super().on_timer(now, token)


class Telepathic(Policy):
    """Replicas that share one dict outside the network: 'beats' CAP by cheating.

    Every replica answers at once from memory shared by all of them, so
    during a partition it is both available and consistent, which no
    message-passing system can be (the shared dict is reset at boot).
    """

    name = "telepathic"
    supports = frozenset({"read", "write"})
    shared: ClassVar[dict[str, Any]] = {}

    def start(self, now: float) -> list[Effect]:
        Telepathic.shared = dict(self.initial)
        return []

    def on_request(self, now: float, req: Request) -> list[Effect]:
        if req.f == "write":
            Telepathic.shared[req.key] = req.value
            return [Stored(req.key, req.value), Reply(req.id, "ok", req.value)]
        return [Reply(req.id, "ok", Telepathic.shared.get(req.key))]

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        return []

    def value_of(self, key: str) -> Any:
        return Telepathic.shared.get(key)


# --- broken checkers ------------------------------------------------------------------


def always_linearizable(history: History, initial: Mapping[str, Any]) -> Any:
    """A checker that never finds anything wrong."""
    return True


def forgets_failures(history: History, initial: Mapping[str, Any]) -> Any:
    """A checker that treats ``fail`` as ``ok``: a refused write 'happened' after all."""
    events = [
        Event(e.index, e.time, e.process, e.node, "ok" if e.type == "fail" else e.type,
              e.f, e.key, e.value, e.error)
        for e in history
    ]
    return check_linearizable(History(events), initial=initial).linearizable


_steps_so_far = [0]


def cumulative_steps(history: History, initial: Mapping[str, Any]) -> Any:
    """A checker that reports search steps summed over every call so far (module state)."""
    result = check_linearizable(history, initial=initial).to_dict()
    _steps_so_far[0] += result["steps"] + 1
    result["steps"] = _steps_so_far[0]
    return result


__all__ = [
    "LocalReadCP",
    "NoAntiEntropyAP",
    "NondeterministicAP",
    "QuorumOfOne",
    "RefusingAP",
    "SameVersionCP",
    "StaleSnapshotAP",
    "Telepathic",
    "always_linearizable",
    "cumulative_steps",
    "forgets_failures",
]


class Figure8Raft(Raft):
    """``raft`` with the bug of the Raft paper's Figure 8.

    A leader commits an entry of an *earlier* term as soon as a majority
    stores it (counting replicas), and, as in the paper's figure, a new
    leader appends no empty entry of its own term. A later leader whose log
    ends in a newer term can then be elected without that entry and
    overwrite it everywhere: a committed write is lost.
    """

    name = "raft-figure-8"
    commit_only_current_term = False
    empty_entry_on_election = False

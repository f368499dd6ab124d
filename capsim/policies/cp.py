"""``cp``: a linearizable register over majority quorums (the ABD algorithm).

Attiya, Bar-Noy and Dolev's multi-writer register. A write asks a majority
for the highest version, then stores value + a higher version on a majority.
A read asks a majority, takes the highest, and (unless the whole quorum
already agreed) writes it back to a majority before answering, so no later
read can see an older value. With two replicas a majority is both: during a
G1 | G2 partition nobody can read or write — the course's "G2 is locked".

The coordinator gives up on an operation after ``give_up`` × the client
timeout. Giving up before anything was stored is a clean ``fail`` (the op did
not happen); giving up a write while storing is ``info`` (it may yet take
effect on the replicas that stored it).

Durable: the stored values and versions. Volatile: operations in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


class CPParams(BaseModel):
    """Tunables of ``cp``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    give_up: float = Field(
        default=0.8, gt=0, le=1,
        description="Give up an operation after this fraction of the client timeout.",
    )


@dataclass(slots=True)
class _Op:
    req: Request
    phase: str  # "query" or "store"
    replies: dict[str, tuple[Any, Version]] = field(default_factory=dict)
    acks: set[str] = field(default_factory=set)
    value: Any = None
    version: Version = ZERO


class CP(Policy):
    name = "cp"
    summary = "majority quorums (ABD): consistent, refuses when it cannot reach a majority"
    supports = frozenset({"read", "write"})
    Params = CPParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: dict[str, tuple[Any, Version]] = {
            k: (v, ZERO) for k, v in self.initial.items()
        }
        self.majority = len(self.nodes) // 2 + 1
        self.ops: dict[int, _Op] = {}
        self._next = 0
        assert isinstance(self.params, CPParams)
        self._give_up = self.params.give_up * self.timeout

    def value_of(self, key: str) -> Any:
        return self.store.get(key, (None, ZERO))[0]

    def on_crash(self) -> None:
        self.ops.clear()

    def on_request(self, now: float, req: Request) -> list[Effect]:
        if req.f not in self.supports:
            return [Reply(req.id, "fail", error=t("{policy} does not offer {f}", "en",
                                                  policy="cp", f=req.f))]
        self._next += 1
        opid = self._next
        op = _Op(req, "query")
        op.replies[self.node] = self.store.get(req.key, (None, ZERO))
        self.ops[opid] = op
        out: list[Effect] = [
            Send(p, {"t": "get", "op": opid, "key": req.key}, "query") for p in self.peers
        ]
        out.append(SetTimer(self._give_up, opid))
        out.extend(self._progress(opid, op))
        return out

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        t = msg["t"]
        if t == "get":
            v, ver = self.store.get(msg["key"], (None, ZERO))
            return [Send(src, {"t": "got", "op": msg["op"], "value": v, "ver": list(ver)}, "reply")]
        if t == "put":
            out: list[Effect] = []
            key, ver = msg["key"], version(msg["ver"])
            if ver > self.store.get(key, (None, ZERO))[1]:
                self.store[key] = (msg["value"], ver)
                out.append(Stored(key, msg["value"]))
            out.append(Send(src, {"t": "stored", "op": msg["op"]}, "ack"))
            return out
        op = self.ops.get(msg["op"])
        if op is None:
            return []  # a late answer for an operation we finished or gave up
        if t == "got" and op.phase == "query":
            op.replies[src] = (msg["value"], version(msg["ver"]))
            return self._progress(msg["op"], op)
        if t == "stored" and op.phase == "store":
            op.acks.add(src)
            return self._progress(msg["op"], op)
        return []

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        op = self.ops.pop(token, None)
        if op is None:
            return []
        if op.phase == "query":
            heard = len(op.replies)
            return [Reply(op.req.id, "fail", error=t(
                "{node} could not reach a majority: {heard} of {n} replicas answered, "
                "{need} needed", "en", node=self.node, heard=heard, n=len(self.nodes),
                need=self.majority))]
        if op.req.f == "write":
            return [Reply(op.req.id, "info", error=t(
                "{node} stored the write on {acks} of {n} replicas, {need} needed; it may "
                "still take effect", "en", node=self.node, acks=len(op.acks),
                n=len(self.nodes), need=self.majority))]
        return [Reply(op.req.id, "fail", error=t(
            "{node} could not write the value back to a majority", "en", node=self.node))]

    def _progress(self, opid: int, op: _Op) -> list[Effect]:
        if op.phase == "query":
            if len(op.replies) < self.majority:
                return []
            # Our own answer as of now, not as of the request: a concurrent
            # write coordinated here may have stored a higher version since,
            # and two writes must never pick the same version.
            op.replies[self.node] = self.store.get(op.req.key, (None, ZERO))
            best_v, best = max(op.replies.values(), key=lambda r: r[1])
            if op.req.f == "write":
                op.value, op.version = op.req.value, (best[0] + 1, self.node)
            else:
                op.value, op.version = best_v, best
                if all(r[1] == best for r in op.replies.values()):
                    # The whole quorum already holds it: it is on a majority.
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
            out.extend(self._progress(opid, op))
            return out
        if len(op.acks) < self.majority:
            return []
        del self.ops[opid]
        return [Reply(op.req.id, "ok", op.value if op.req.f == "read" else op.req.value)]

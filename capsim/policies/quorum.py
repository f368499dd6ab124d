"""``quorum``: Dynamo-style partial quorums with N, R and W (as in Cassandra, Riak).

Each key lives on N replicas. A write is sent to all N and acknowledged to
the client after W of them acknowledged it; a read is sent to all N and
answered after the first R replies, with the value of the highest version
among them. With R + W > N every read quorum meets every write quorum, so a
read sees the latest acknowledged write (a *strict* quorum); with R + W <= N
it may not (a *partial* quorum) — how often, and for how long after a write,
is what Bailis et al.'s PBS paper measured, and what ``capsim pbs`` computes.

Coordination. With ``coordinator: client`` (the default, and the PBS model)
the client itself sends to all N replicas, each one message delay away — its
home replica included: the coordinator runs on the home node's policy object,
but its messages to that replica travel through the network like any other.
With ``coordinator: replica`` the home replica coordinates and its own copy
answers at once (it stores a write before anyone else, and counts as the
first read reply). A client then always reads its own writes at its home;
a read elsewhere races the write's propagation from an earlier commit.

Message kinds are the PBS paper's four one-way delays, so a latency preset
(``network: {latency: LNKD-DISK}``) times each with its own distribution:
``W`` (write to a replica, also read repair), ``A`` (write ack), ``R`` (read
request), ``S`` (read response).

Versions are (counter, node id), compared last-writer-wins. The counter is a
Lamport clock that is also kept at least at the local time in microseconds (a
hybrid logical clock, as Cassandra's write timestamps): a write that starts
after another was acknowledged then gets a higher version even if its
coordinator never heard of the first one, which is what "R + W > N is never
stale" needs. (In the simulator all clocks agree; in the live runtime skewed
clocks can reorder writes, the well-known LWW caveat.)

There is no anti-entropy: a replica that missed a write keeps the old value
until a newer write reaches it or, with ``read_repair: true``, a read that saw
it answer an older version sends it the newest one (after answering the client,
as in Dynamo, so repair costs no read latency).

The coordinator gives up after ``give_up`` × the client timeout. A read that
heard fewer than R replies fails (it changed nothing); a write acknowledged by
fewer than W is ``info``: the replicas that got it keep it.

Placement: with N equal to the number of nodes (the default) every node holds
every key. With a smaller N, key k's replicas are N consecutive nodes in the
scenario's order, starting at ``crc32(k) mod nodes``; a coordinator that is not
among them coordinates as a client would. (Nodes outside a key's replicas keep
its initial value, so the convergence check reads "never".)

Durable: the stored values and versions, the clock. Volatile: operations in flight.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from capsim.errors import CapsimError
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


def nrw_problems(n: int | None, r: int, w: int, nodes: int | None) -> list[str]:
    """What is wrong with (N, R, W) on a cluster of ``nodes``, in words (empty if fine).

    ``n=None`` means "every node"; ``nodes=None`` means the cluster is not known yet.
    """
    out: list[str] = []
    if n is not None and nodes is not None and n > nodes:
        out.append(f"N={n} is more than the {nodes} nodes: a key needs N distinct replicas")
    eff = n if n is not None else nodes
    if eff is None:
        return out
    what = f"N={eff}" if n is not None else f"N={eff} (the number of nodes)"
    if r > eff:
        out.append(f"R={r} is more than {what}: a read cannot wait for more replies "
                   "than there are replicas")
    if w > eff:
        out.append(f"W={w} is more than {what}: a write cannot wait for more acks "
                   "than there are replicas")
    return out


class QuorumParams(BaseModel):
    """Tunables of ``quorum``: ``params: {quorum: {n: 3, r: 1, w: 1}}`` or ``--nrw 3,1,1``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    n: int | None = Field(
        default=None, ge=1,
        description="Replicas of each key (default: every node; at most the number of nodes).",
    )
    r: int = Field(default=1, ge=1, description="Replies a read waits for.")
    w: int = Field(default=1, ge=1, description="Acks a write waits for.")
    coordinator: Literal["client", "replica"] = Field(
        default="client",
        description="client: every replica is one message delay away (the PBS model); "
        "replica: the home replica's own copy answers at once.",
    )
    read_repair: bool = Field(
        default=False,
        description="After answering, send the newest value to replicas that answered older.",
    )
    give_up: float = Field(
        default=0.8, gt=0, le=1,
        description="Give up an operation after this fraction of the client timeout.",
    )

    @model_validator(mode="after")
    def _fits(self, info: ValidationInfo) -> QuorumParams:
        nodes = (info.context or {}).get("nodes") if info is not None else None
        problems = nrw_problems(self.n, self.r, self.w, None if nodes is None else len(nodes))
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(slots=True)
class _Op:
    req: Request
    replicas: list[str]
    version: Version = ZERO
    acks: set[str] = field(default_factory=set)
    replies: dict[str, tuple[Any, Version]] = field(default_factory=dict)
    repaired: dict[str, Version] = field(default_factory=dict)
    answered: bool = False


class Quorum(Policy):
    name = "quorum"
    summary = "Dynamo-style N/R/W partial quorums, last-writer-wins (PBS paper)"
    supports = frozenset({"read", "write"})
    Params = QuorumParams

    @classmethod
    def describe(cls, params: Mapping[str, Any], nodes: int) -> str:
        n = params.get("n") or nodes
        extra = [f"{k}={params[k]}" for k in ("coordinator", "read_repair")
                 if k in params and params[k] != QuorumParams.model_fields[k].default]
        return " ".join([f"quorum N={n} R={params.get('r', 1)} W={params.get('w', 1)}", *extra])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p = self.params
        assert isinstance(p, QuorumParams)
        problems = nrw_problems(p.n, p.r, p.w, len(self.nodes))
        if problems:
            raise CapsimError("quorum: " + "; ".join(problems))
        self.n = p.n if p.n is not None else len(self.nodes)
        self.r, self.w = p.r, p.w
        self.local = p.coordinator == "replica"
        self.read_repair = p.read_repair
        self._give_up = p.give_up * self.timeout
        self.store: dict[str, tuple[Any, Version]] = {
            k: (v, ZERO) for k, v in self.initial.items() if self.node in self.replicas_for(k)
        }
        self.clock = 0
        self.ops: dict[int, _Op] = {}
        self._next = 0

    # --- placement and state ---------------------------------------------------
    def replicas_for(self, key: str) -> list[str]:
        """The N nodes that hold ``key`` (all of them when N is the number of nodes)."""
        if self.n == len(self.nodes):
            return self.nodes
        start = zlib.crc32(key.encode("utf-8")) % len(self.nodes)
        return [self.nodes[(start + i) % len(self.nodes)] for i in range(self.n)]

    def value_of(self, key: str) -> Any:
        if key not in self.store:
            return self.initial.get(key)
        return self.store[key][0]

    def durable_state(self) -> dict[str, Any]:
        return {**super().durable_state(), "clock": self.clock}

    def restore(self, state: Mapping[str, Any]) -> None:
        super().restore(state)
        self.clock = int(state.get("clock", self.clock))

    def on_crash(self) -> None:
        self.ops.clear()

    def _tick(self, now: float) -> Version:
        self.clock = max(self.clock + 1, int(now * 1_000_000))
        return (self.clock, self.node)

    def _merge(self, key: str, value: Any, ver: Version) -> list[Effect]:
        self.clock = max(self.clock, ver[0])
        if ver > self.store.get(key, (None, ZERO))[1]:
            self.store[key] = (value, ver)
            return [Stored(key, value)]
        return []

    # --- the coordinator -------------------------------------------------------
    def on_request(self, now: float, req: Request) -> list[Effect]:
        if req.f not in self.supports:
            return [Reply(req.id, "fail", error=t("{policy} does not offer {f}", "en",
                                                  policy="quorum", f=req.f))]
        self._next += 1
        opid = self._next
        op = _Op(req, self.replicas_for(req.key))
        self.ops[opid] = op
        local = self.local and self.node in op.replicas
        out: list[Effect] = []
        if req.f == "write":
            op.version = self._tick(now)
            msg = {"t": "write", "op": opid, "key": req.key, "value": req.value,
                   "ver": list(op.version)}
            for dst in op.replicas:
                if local and dst == self.node:
                    out.extend(self._merge(req.key, req.value, op.version))
                    op.acks.add(dst)
                else:
                    out.append(Send(dst, msg, "W"))
        else:
            msg = {"t": "read", "op": opid, "key": req.key}
            for dst in op.replicas:
                if local and dst == self.node:
                    op.replies[dst] = self.store.get(req.key, (None, ZERO))
                else:
                    out.append(Send(dst, msg, "R"))
        out.append(SetTimer(self._give_up, opid))
        out.extend(self._progress(opid, op))
        return out

    def _progress(self, opid: int, op: _Op) -> list[Effect]:
        req = op.req
        if req.f == "write":
            if len(op.acks) < self.w:
                return []
            del self.ops[opid]  # later acks change nothing
            return [Reply(req.id, "ok", req.value)]
        out: list[Effect] = []
        if not op.answered:
            if len(op.replies) < self.r:
                return []
            op.answered = True
            best_value, _ = max(op.replies.values(), key=lambda r: r[1])
            out.append(Reply(req.id, "ok", best_value))
        if self.read_repair:
            out.extend(self._repair(op))
        if not self.read_repair or len(op.replies) == len(op.replicas):
            del self.ops[opid]
        return out

    def _repair(self, op: _Op) -> list[Effect]:
        """Send the newest value seen to every replica that answered with an older one."""
        best_value, best = max(op.replies.values(), key=lambda r: r[1])
        out: list[Effect] = []
        key = op.req.key
        for src, (_, ver) in sorted(op.replies.items()):
            if ver < best and op.repaired.get(src, ZERO) < best:
                op.repaired[src] = best
                if src == self.node and self.local:
                    out.extend(self._merge(key, best_value, best))
                else:
                    out.append(Send(src, {"t": "repair", "key": key, "value": best_value,
                                          "ver": list(best)}, "W"))
        return out

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        op = self.ops.pop(token, None)
        if op is None or op.answered:
            return []  # done (a read kept only to repair late repliers)
        n = len(op.replicas)
        if op.req.f == "read":
            return [Reply(op.req.id, "fail", error=t(
                "{node} heard from {heard} of {n} replicas in {seconds} s, R={r} needed", "en",
                node=self.node, heard=len(op.replies), n=n, seconds=f"{self._give_up:g}",
                r=self.r))]
        return [Reply(op.req.id, "info", error=t(
            "{acks} of {n} replicas acknowledged the write in {seconds} s, W={w} needed; it "
            "may still take effect", "en", acks=len(op.acks), n=n,
            seconds=f"{self._give_up:g}", w=self.w))]

    # --- the replicas ----------------------------------------------------------
    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        t = msg["t"]
        if t == "write":
            out = self._merge(msg["key"], msg["value"], version(msg["ver"]))
            out.append(Send(src, {"t": "ack", "op": msg["op"]}, "A"))
            return out
        if t == "read":
            value, ver = self.store.get(msg["key"], (None, ZERO))
            return [Send(src, {"t": "value", "op": msg["op"], "value": value,
                               "ver": list(ver)}, "S")]
        if t == "repair":
            return self._merge(msg["key"], msg["value"], version(msg["ver"]))
        op = self.ops.get(msg["op"])
        if op is None:
            return []  # a late answer for an operation we finished or gave up
        if t == "ack" and op.req.f == "write":
            op.acks.add(src)
            return self._progress(msg["op"], op)
        if t == "value" and op.req.f == "read":
            ver = version(msg["ver"])
            self.clock = max(self.clock, ver[0])
            op.replies[src] = (msg["value"], ver)
            return self._progress(msg["op"], op)
        return []

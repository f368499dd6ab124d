"""``lock``: the course's literal consistent system — write everywhere under a lock.

A write at one replica first locks the key on every other replica (prepare),
then writes everywhere and unlocks (commit): two-phase commit. The client
hears ``ok`` once every replica has written and unlocked. While a replica
holds a lock it refuses reads and writes of that key at once, with ``fail``
and a reason ("G2 is locked by G1's write of x"), rather than holding them:
a refusal shows on the timeline right where the lock is, and ``fail`` is
exact — the refused operation did not happen. Reads are served from the
local copy otherwise: every replica holds the last committed value or is
locked, so a read is never stale.

If some replica cannot be locked — no answer within ``give_up`` × the client
timeout (a partition, a crash), or it is locked by another write — the write
is aborted: locks are released and the client gets ``fail`` (nothing was
written anywhere). Two writes racing for the same key both see the other's
lock and both abort; nobody waits, so nobody deadlocks.

Once the coordinator has decided, it resends the decision (commit or abort)
every ``retry`` seconds until each replica confirms. A replica that locked a
key and then lost contact stays locked — it cannot know whether the write
committed — until the decision reaches it: two-phase commit's blocking, and
the course's "during the partition G2 cannot read or write while locked".
A write whose commit is not confirmed in time is ``info`` to its client: it
is stored on the coordinator and will reach the others.

Durable: the values and versions, the locks, the decisions still to deliver,
and which writes a replica has seen end (so a prepare that arrives after its
abort is refused). A coordinator that crashes before deciding aborts on
recovery. Volatile: which client waits for which write.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from capsim.i18n import t as t_  # `t` names transactions here
from capsim.policies.base import (
    ZERO,
    Effect,
    Marked,
    Policy,
    Reply,
    Request,
    Send,
    SetTimer,
    Stored,
    Version,
    freeze_store,
    thaw_store,
    version,
)

_RETRY = "retry"


class LockParams(BaseModel):
    """Tunables of ``lock``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    give_up: float = Field(
        default=0.8, gt=0, le=1,
        description="Abort a write whose locks are not all granted after this fraction "
        "of the client timeout.",
    )
    retry: float = Field(
        default=0.5, gt=0,
        description="Seconds between resending a decision (commit or abort) not yet confirmed.",
    )


@dataclass(slots=True)
class _Txn:
    """One write, on its coordinator."""

    key: str
    value: Any
    phase: str  # "prepare", "commit" or "abort"
    peers: list[str]
    version: Version = ZERO
    locked: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)  # peers yet to confirm the decision
    request: int | None = None  # the client's request, while it waits (volatile)


class Lock(Policy):
    name = "lock"
    summary = "write-all under a lock (two-phase commit): locked replicas refuse reads and writes"
    supports = frozenset({"read", "write"})
    Params = LockParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.params, LockParams)
        self._give_up = self.params.give_up * self.timeout
        self._retry = self.params.retry
        self.store: dict[str, tuple[Any, Version]] = {
            k: (v, ZERO) for k, v in self.initial.items()
        }
        self.locks: dict[str, str] = {}  # key -> the write (txn id) holding it
        self.ended: set[str] = set()  # txn ids this replica saw commit or abort
        self.txns: dict[str, _Txn] = {}  # writes this node coordinates
        self._next = 0
        self._retrying = False
        self._shown: set[str] = set()  # keys last reported locked (observation only)

    def value_of(self, key: str) -> Any:
        return self.store.get(key, (None, ZERO))[0]

    # --- durability ------------------------------------------------------------
    def durable_state(self) -> dict[str, Any]:
        txns = {
            tid: {"key": t.key, "value": t.value, "phase": t.phase, "peers": t.peers,
                  "version": list(t.version), "locked": sorted(t.locked),
                  "waiting": sorted(t.waiting)}
            for tid, t in sorted(self.txns.items())
        }
        return {**super().durable_state(), "locks": dict(sorted(self.locks.items())),
                "ended": sorted(self.ended), "txns": txns, "next": self._next}

    def restore(self, state: Mapping[str, Any]) -> None:
        super().restore(state)
        self.locks = {str(k): str(v) for k, v in state.get("locks", {}).items()}
        self.ended = {str(t) for t in state.get("ended", [])}
        self._next = int(state.get("next", self._next))
        self.txns = {
            tid: _Txn(t["key"], t["value"], t["phase"], list(t["peers"]), version(t["version"]),
                      set(t["locked"]), set(t["waiting"]))
            for tid, t in state.get("txns", {}).items()
        }
        self._forget_clients()  # a restarted process lost them, as in a crash

    def snapshot(self) -> Hashable:
        txns = tuple(
            (tid, t.key, t.value, t.phase, tuple(t.peers), t.version, tuple(sorted(t.locked)),
             tuple(sorted(t.waiting)), t.request)
            for tid, t in sorted(self.txns.items())
        )
        return (freeze_store(self.store), tuple(sorted(self.locks.items())),
                tuple(sorted(self.ended)), txns, self._next, self._retrying)

    def restore_snapshot(self, snap: Hashable) -> None:
        store, locks, ended, txns, nxt, retrying = cast(
            tuple[Any, Any, Any, Any, int, bool], snap)
        self._next, self._retrying = nxt, retrying
        self.store = thaw_store(store)
        self.locks = dict(locks)
        self._shown = set(self.locks)  # every handler ends with the marks up to date
        self.ended = set(ended)
        self.txns = {
            tid: _Txn(key, value, phase, list(peers), ver, set(locked), set(waiting), request)
            for tid, key, value, phase, peers, ver, locked, waiting, request in txns
        }

    def on_crash(self) -> None:
        self._retrying = False  # the crash cancelled the timer
        self._forget_clients()

    def _forget_clients(self) -> None:
        for tid, t in self.txns.items():
            t.request = None
            if t.phase == "prepare":  # undecided: decide abort, sent on recovery
                self._decide_abort(tid, t)

    def on_recover(self, now: float) -> list[Effect]:
        return self._resend() + self._marks()

    def _marks(self) -> list[Effect]:
        """``Marked`` observations for keys locked or unlocked since the last report.

        Called at the end of every handler, so a picture can show when each
        replica was locked without reading the policy's state.
        """
        now_locked = set(self.locks)
        if now_locked == self._shown:
            return []
        out: list[Effect] = [Marked(k, "locked") for k in sorted(now_locked - self._shown)]
        out += [Marked(k, None) for k in sorted(self._shown - now_locked)]
        self._shown = now_locked
        return out

    # --- clients ---------------------------------------------------------------
    def _locked_error(self, key: str) -> str:
        owner = self.locks[key].split(":", 1)[0]
        if owner == self.node:
            return t_("{node} is locked by its own write of {key}; it cannot read or write "
                      "{key} until that write commits or aborts", "en", node=self.node, key=key)
        return t_("{node} is locked by {owner}'s write of {key}; it cannot read or write {key} "
                  "until that write commits or aborts", "en", node=self.node, owner=owner, key=key)

    def on_request(self, now: float, req: Request) -> list[Effect]:
        return self._request(req) + self._marks()

    def _request(self, req: Request) -> list[Effect]:
        if req.f not in self.supports:
            return [Reply(req.id, "fail", error=t_("{policy} does not offer {f}", "en",
                                                  policy="lock", f=req.f))]
        if req.key in self.locks:
            return [Reply(req.id, "fail", error=self._locked_error(req.key))]
        if req.f == "read":
            return [Reply(req.id, "ok", self.value_of(req.key))]
        self._next += 1
        tid = f"{self.node}:{self._next}"
        t = _Txn(req.key, req.value, "prepare", list(self.peers), request=req.id)
        self.txns[tid] = t
        self.locks[req.key] = tid
        if not t.peers:
            return self._commit(tid, t)
        out: list[Effect] = [
            Send(p, {"t": "prepare", "txn": tid, "key": req.key}, "prepare") for p in t.peers
        ]
        out.append(SetTimer(self._give_up, tid))
        return out

    # --- the coordinator -------------------------------------------------------
    def _commit(self, tid: str, t: _Txn) -> list[Effect]:
        """Every replica is locked: write here, unlock here, tell the others."""
        t.phase = "commit"
        t.version = (max(t.version[0], self.store.get(t.key, (None, ZERO))[1][0]) + 1, self.node)
        out: list[Effect] = []
        self.store[t.key] = (t.value, t.version)
        out.append(Stored(t.key, t.value))
        del self.locks[t.key]
        t.waiting = set(t.peers)
        out.extend(self._send_decision(tid, t))
        out.extend(self._finish_if_done(tid, t))
        return out

    def _decide_abort(self, tid: str, t: _Txn) -> None:
        t.phase = "abort"
        if self.locks.get(t.key) == tid:
            del self.locks[t.key]
        t.waiting = set(t.peers)  # also those that never answered: they may hold the lock

    def _abort(self, tid: str, t: _Txn, why: str) -> list[Effect]:
        self._decide_abort(tid, t)
        out: list[Effect] = []
        if t.request is not None:
            out.append(Reply(t.request, "fail", error=t_(
                "{why}; {node} aborted the write of {key}, nothing was written", "en",
                why=why, node=self.node, key=t.key)))
            t.request = None
        out.extend(self._send_decision(tid, t))
        return out

    def _send_decision(self, tid: str, t: _Txn) -> list[Effect]:
        out: list[Effect] = []
        for p in sorted(t.waiting):
            if t.phase == "commit":
                msg = {"t": "commit", "txn": tid, "key": t.key, "value": t.value,
                       "ver": list(t.version)}
                out.append(Send(p, msg, "commit"))
            else:
                out.append(Send(p, {"t": "abort", "txn": tid, "key": t.key}, "abort"))
        if t.waiting and not self._retrying:
            self._retrying = True
            out.append(SetTimer(self._retry, _RETRY))
        return out

    def _finish_if_done(self, tid: str, t: _Txn) -> list[Effect]:
        if t.waiting:
            return []
        del self.txns[tid]
        if t.request is not None and t.phase == "commit":
            return [Reply(t.request, "ok", t.value)]
        return []

    def _resend(self) -> list[Effect]:
        out: list[Effect] = []
        for tid, t in sorted(self.txns.items()):
            if t.phase != "prepare" and t.waiting:
                out.extend(self._send_decision(tid, t))
        return out

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        return self._timer(token) + self._marks()

    def _timer(self, token: Any) -> list[Effect]:
        if token == _RETRY:
            self._retrying = False
            return self._resend()
        t = self.txns.get(token)
        if t is None:
            return []
        if t.phase == "prepare":
            silent = [p for p in t.peers if p not in t.locked]
            return self._abort(token, t, t_(
                "{nodes} could not be locked (no answer in {seconds} s)", "en",
                nodes=", ".join(silent), seconds=f"{self._give_up:g}"))
        if t.phase == "commit" and t.request is not None:
            request, t.request = t.request, None
            return [Reply(request, "info", error=t_(
                "{node} wrote {key}, but {nodes} has not confirmed the commit in {seconds} s; "
                "it stays locked until it does, and the write will reach it", "en",
                node=self.node, key=t.key, nodes=", ".join(sorted(t.waiting)),
                seconds=f"{self._give_up:g}"))]
        return []

    # --- messages --------------------------------------------------------------
    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        return self._message(src, msg) + self._marks()

    def _message(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        t = msg["t"]
        tid = msg["txn"]
        if t == "prepare":
            key = msg["key"]
            holder = self.locks.get(key)
            if tid in self.ended or (holder is not None and holder != tid):
                return [Send(src, {"t": "refused", "txn": tid, "holder": holder}, "ack")]
            self.locks[key] = tid
            ver = self.store.get(key, (None, ZERO))[1]
            return [Send(src, {"t": "locked", "txn": tid, "ver": list(ver)}, "ack")]
        if t in ("commit", "abort"):
            out: list[Effect] = []
            key = msg["key"]
            if t == "commit" and tid not in self.ended:
                ver = version(msg["ver"])
                if ver > self.store.get(key, (None, ZERO))[1]:
                    self.store[key] = (msg["value"], ver)
                    out.append(Stored(key, msg["value"]))
            if self.locks.get(key) == tid:
                del self.locks[key]
            self.ended.add(tid)
            out.append(Send(src, {"t": "done", "txn": tid}, "ack"))
            return out
        txn = self.txns.get(tid)
        if txn is None:
            return []
        if t == "locked" and txn.phase == "prepare":
            txn.locked.add(src)
            ver = version(msg["ver"])
            txn.version = max(txn.version, (ver[0], ""))
            if len(txn.locked) == len(txn.peers):
                return self._commit(tid, txn)
            return []
        if t == "refused" and txn.phase == "prepare":
            holder = msg.get("holder")
            why = (t_("{src} is locked by {holder}'s write of {key}", "en", src=src,
                       holder=str(holder).split(":", 1)[0], key=txn.key)
                   if holder else t_("{src} already saw this write end", "en", src=src))
            return self._abort(tid, txn, why)
        if t == "done" and txn.phase != "prepare":
            txn.waiting.discard(src)
            return self._finish_if_done(tid, txn)
        return []

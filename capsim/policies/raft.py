"""``raft``: a replicated log with an elected leader (Ongaro & Ousterhout, 2014).

The consensus algorithm under etcd, and so under every Kubernetes cluster.
Written the etcd-raft way: a state machine that takes events (a client
request, a peer message, a timer) and returns effects; it never reads a
clock. Time enters only through timers, so the simulator, the live runtime
and the explorer (which fires timers in any order) all drive the same code.

**Elections.** A follower that hears nothing from a leader for a randomised
election timeout (uniform in ``election_timeout = [lo, hi]`` seconds, drawn
from the node's own seeded generator ``self.rng``) first asks for *pre-votes*
(dissertation §9.6; etcd's ``PreVote``): only if a majority would vote for it
does it raise its term and ask for real votes. A voter grants a vote once per
term, and only to a candidate whose log is at least as up to date as its own
(last term, then last index: §5.4.1). A voter that heard from a leader within
``lo`` ignores (pre-)vote requests (§4.2.3; etcd's ``CheckQuorum``): a node
that was cut off cannot depose a working leader when it comes back.

**Replication.** The leader appends a client's write (or cas) to its log and
sends AppendEntries; a follower accepts entries only if its log holds the
entry just before them (the consistency check) and truncates whatever
conflicts. The leader commits an entry once a majority stores it **and it is
from the leader's own term** (§5.4.2, Figure 8: an entry of an earlier term
is committed only indirectly). Every node applies committed entries in order
to a key-value map; a ``cas`` is decided when it is applied, identically on
every node. A new leader appends an empty entry so that it can commit.

**Messages** carry a kind for the message diagram: ``prevote``, ``vote``,
``vote-reply`` (to either), ``append`` (AppendEntries with entries),
``heartbeat`` (without), ``ack`` (the answer to either), ``forward`` (a
client's request on its way to the leader, and the answer on its way back).

**Heartbeats and ticks.** The leader's heartbeat timer fires every
``heartbeat`` seconds; each firing is a *tick* (the only clock a leader has,
as in etcd). With ``check_quorum`` a leader that has not heard from a
majority for ``lo`` seconds' worth of ticks steps down on its own.

**Clients.** A client talks to its home node. A leader serves it; a follower
that knows the current term's leader (from its AppendEntries) forwards the
request there and passes the answer back; a node that knows no leader fails
the request at once ("no leader"). That is how clients learn of the leader:
they never do, their node does. A write's client hears ``ok`` when its home
node applies the committed entry; a write still pending when its leader
steps down gets ``info`` (it may yet be committed by the next leader).

**Reads.** ``read: index`` (default, linearizable): the leader notes its
commit index, confirms it is still leader by a heartbeat round acknowledged
by a majority (ReadIndex, dissertation §6.4), then answers. ``read: lease``:
the leader answers at once while it holds a *lease*: fewer than ``lo``
seconds' worth of its own ticks have passed since it sent a heartbeat round a
majority acknowledged (no other node can have been elected since). Fast, and
safe only while ticks keep pace with real time: a process stop (``pause``)
freezes the ticks, so a paused leader wakes up believing in a lease that
outlived its term and serves a stale read. ``read: local``: any node answers
from what it has applied: explicitly stale.

Durable (survives a crash, as etcd's HardState + log): term, vote, log,
commit index, and a boot counter (so a request id reused after a restart is
never mistaken for an old one). Volatile: role, leader, votes, replication
progress, pending requests, ticks; the key-value map is rebuilt from the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from capsim.i18n import t
from capsim.policies.base import (
    Effect,
    Policy,
    Reply,
    Request,
    Role,
    Send,
    SetTimer,
    Stored,
)

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"

Cmd = tuple[str, str, Any, str, int, int]
"""A log command: (f, key, value, origin node, request id, origin's boot count)."""
Entry = tuple[int, Cmd | None]
"""A log entry: (term, command); ``None`` is a new leader's empty entry."""


class RaftParams(BaseModel):
    """Tunables of ``raft`` (seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    election_timeout: tuple[float, float] = Field(
        default=(0.5, 1.0),
        description="A follower starts an election after a random time in [lo, hi] "
        "without hearing from a leader.",
    )
    heartbeat: float = Field(
        default=0.1, gt=0, description="Seconds between the leader's heartbeats (its tick)."
    )
    read: Literal["index", "lease", "local"] = Field(
        default="index",
        description="index: linearizable (ReadIndex); lease: fast, trusts the leader's "
        "ticks; local: any node answers from its own copy (stale).",
    )
    pre_vote: bool = Field(default=True, description="Ask for pre-votes before an election.")
    check_quorum: bool = Field(
        default=True,
        description="A leader without a majority for an election timeout steps down; "
        "voters that hear a leader ignore vote requests.",
    )

    @model_validator(mode="after")
    def _sane(self) -> RaftParams:
        lo, hi = self.election_timeout
        if not 0 < lo <= hi:
            raise ValueError(
                f"election_timeout must be [lo, hi] with 0 < lo <= hi (got [{lo}, {hi}])"
            )
        if self.heartbeat >= lo:
            raise ValueError(
                f"heartbeat ({self.heartbeat}) must be shorter than the election timeout's "
                f"lower bound ({lo}), or followers start elections between heartbeats"
            )
        if self.read == "lease" and not self.check_quorum:
            raise ValueError("read: lease needs check_quorum: true (a lease is only as good "
                             "as the leader's promise to step down)")
        return self


class _Read:
    """A read waiting at the leader for a heartbeat round (ReadIndex)."""

    __slots__ = ("index", "key", "origin", "rid", "round")

    def __init__(self, origin: str, rid: int, key: str, index: int, round_: int) -> None:
        self.origin, self.rid, self.key, self.index, self.round = origin, rid, key, index, round_

    def frozen(self) -> tuple[str, int, str, int, int]:
        return (self.origin, self.rid, self.key, self.index, self.round)


def _cmd(x: Any) -> Cmd | None:
    """A command back from JSON (lists) to the tuple the log holds."""
    if x is None:
        return None
    f, key, value, origin, rid, boot = x
    if isinstance(value, list):
        value = tuple(value)
    return (str(f), str(key), value, str(origin), int(rid), int(boot))


def _entry(x: Any) -> Entry:
    return (int(x[0]), _cmd(x[1]))


def _jsonable(e: Entry) -> list[Any]:
    term, cmd = e
    if cmd is None:
        return [term, None]
    f, key, value, origin, rid, boot = cmd
    return [term, [f, key, list(value) if isinstance(value, tuple) else value,
                   origin, rid, boot]]


class Raft(Policy):
    name = "raft"
    summary = "Raft consensus (etcd): a leader orders writes, a majority commits; cas offered"
    supports = frozenset({"read", "write", "cas"})
    Params = RaftParams

    #: Figure 8's rule. A deliberately broken subclass sets it False to commit
    #: entries of earlier terms by counting replicas.
    commit_only_current_term: bool = True
    #: A new leader appends an empty entry of its term (dissertation §6.4), so
    #: it can commit (and serve reads) at once.
    empty_entry_on_election: bool = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.params, RaftParams)
        p = self.params
        self.lo, self.hi = p.election_timeout
        self.hb = p.heartbeat
        self.majority = len(self.nodes) // 2 + 1
        # Durable.
        self.term = 0
        self.voted_for: str | None = None
        self.log: list[Entry] = [(0, None)]  # log[i] is entry i; index 0 is a sentinel
        self.commit = 0
        self.boots = 0
        # Volatile.
        self.state: dict[str, Any] = dict(self.initial)
        self.applied = 0
        # Timer generations only grow, even across a crash: a timer set before
        # the crash can never be mistaken for a new one.
        self.egen = 0  # election timer generation: older timers are ignored
        self.lgen = 0  # leadership generation: heartbeat timers of an old term are ignored
        self._volatile()
        self._seen: tuple[str, int, int] | None = None

    def _volatile(self) -> None:
        """Forget everything a crash loses."""
        self.role = FOLLOWER
        self.leader: str | None = None
        self.recent = False  # heard from the leader within lo (its lease on our vote)
        self.prevoting = False
        self.votes: set[str] = set()
        self.next: dict[str, int] = {}
        self.match: dict[str, int] = {}
        self.tick = 0
        self.round = 0
        self.round_tick: dict[int, int] = {}
        self.acked: dict[str, int] = {}
        self.quorum_tick = 0
        self.pending: dict[int, Request] = {}  # this node's clients, by request id
        self.reads: list[_Read] = []  # reads waiting for a heartbeat round (leader)
        self.unready: list[_Read] = []  # reads waiting for this term's first commit (leader)
        self.egen += 1
        self.lgen += 1
        self.etimeout = 0.0  # this round's random election timeout

    # --- observation -------------------------------------------------------------
    def value_of(self, key: str) -> Any:
        return self.state.get(key)

    @property
    def last_index(self) -> int:
        return len(self.log) - 1

    @property
    def last_term(self) -> int:
        return self.log[-1][0]

    def _observe(self, out: list[Effect]) -> list[Effect]:
        """Append a :class:`Role` observation when role, term or commit index changed."""
        seen = (self.role, self.term, self.commit)
        if seen != self._seen:
            self._seen = seen
            out.append(Role(self.role, self.term, self.commit, self.leader))
        return out

    # --- durability ----------------------------------------------------------------
    def durable_state(self) -> dict[str, Any]:
        return {"term": self.term, "vote": self.voted_for, "commit": self.commit,
                "boots": self.boots, "log": [_jsonable(e) for e in self.log[1:]]}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.term = int(state.get("term", 0))
        vote = state.get("vote")
        self.voted_for = None if vote is None else str(vote)
        self.log = [(0, None), *(_entry(e) for e in state.get("log", []))]
        self.commit = min(int(state.get("commit", 0)), self.last_index)
        self.boots = int(state.get("boots", 0))
        self.state, self.applied = dict(self.initial), 0
        self._apply_committed()  # no client is waiting: nothing to answer
        self.pending.clear()

    def on_crash(self) -> None:
        self._volatile()

    def on_recover(self, now: float) -> list[Effect]:
        self._volatile()
        self.boots += 1
        return self.start(now)

    # --- explorer support ------------------------------------------------------------
    def snapshot(self) -> tuple[Any, ...]:
        """All state, canonical and hashable (for ``capsim explore``)."""
        return (
            self.term, self.voted_for, tuple(self.log), self.commit, self.boots,
            tuple(sorted(self.state.items())), self.applied, self.role, self.leader,
            self.recent, self.prevoting, tuple(sorted(self.votes)),
            tuple(sorted(self.next.items())), tuple(sorted(self.match.items())),
            self.tick, self.round, tuple(sorted(self.round_tick.items())),
            tuple(sorted(self.acked.items())), self.quorum_tick,
            tuple(sorted(self.pending.items())),
            tuple(r.frozen() for r in self.reads), tuple(r.frozen() for r in self.unready),
            self.egen, self.lgen, self.etimeout, self._seen, self.rng.getstate(),
        )

    def restore_snapshot(self, snap: tuple[Any, ...]) -> None:
        """Become exactly the replica :meth:`snapshot` described."""
        (self.term, self.voted_for, log, self.commit, self.boots, state, self.applied,
         self.role, self.leader, self.recent, self.prevoting, votes, nxt, match,
         self.tick, self.round, round_tick, acked, self.quorum_tick, pending, reads,
         unready, self.egen, self.lgen, self.etimeout, self._seen, rng) = snap
        self.log = list(log)
        self.state = dict(state)
        self.votes = set(votes)
        self.next, self.match = dict(nxt), dict(match)
        self.round_tick, self.acked = dict(round_tick), dict(acked)
        self.pending = dict(pending)
        self.reads = [_Read(*r) for r in reads]
        self.unready = [_Read(*r) for r in unready]
        self.rng.setstate(rng)

    # --- timers ----------------------------------------------------------------------
    def start(self, now: float) -> list[Effect]:
        return self._observe(self._reset_election())

    def _reset_election(self) -> list[Effect]:
        """Restart the election timer with a fresh random timeout (first its quiet part)."""
        self.egen += 1
        self.etimeout = self.rng.uniform(self.lo, self.hi)
        return [SetTimer(self.lo, ("quiet", self.egen))]

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        kind, gen = token
        out: list[Effect] = []
        if kind == "beat":
            if gen == self.lgen and self.role == LEADER:
                out = self._tick()
        elif gen == self.egen and self.role != LEADER:
            if kind == "quiet":
                # lo has passed without a word from a leader: our vote is free again.
                self.recent = False
                rest = self.etimeout - self.lo
                out = [SetTimer(rest, ("elect", gen))] if rest > 0 else self._campaign()
            elif kind == "elect":
                out = self._campaign()
        return self._observe(out)

    def _campaign(self) -> list[Effect]:
        if self.params.pre_vote and self.majority > 1:  # type: ignore[attr-defined]
            self.prevoting = True
            self.votes = {self.node}
            msg = {"t": "prevote", "term": self.term + 1, "li": self.last_index,
                   "lt": self.last_term}
            out: list[Effect] = [Send(p, msg, "prevote") for p in self.peers]
            return out + self._reset_election()
        return self._become_candidate()

    def _become_candidate(self) -> list[Effect]:
        self.prevoting = False
        self.term += 1
        self.role, self.leader, self.voted_for = CANDIDATE, None, self.node
        self.votes = {self.node}
        out: list[Effect] = self._reset_election()
        if len(self.votes) >= self.majority:
            return out + self._become_leader()
        msg = {"t": "vote", "term": self.term, "li": self.last_index, "lt": self.last_term}
        out.extend(Send(p, msg, "vote") for p in self.peers)
        return out

    def _become_leader(self) -> list[Effect]:
        self.role, self.leader, self.prevoting = LEADER, self.node, False
        self.egen += 1  # no elections while leading
        self.lgen += 1
        if self.empty_entry_on_election:
            self.log.append((self.term, None))  # so that this term can commit (§8)
        self.next = dict.fromkeys(self.peers, self.last_index)
        self.match = dict.fromkeys(self.peers, 0)
        self.tick = self.quorum_tick = 0
        self.round, self.round_tick, self.acked = 0, {}, {}
        self.reads, self.unready = [], []
        out: list[Effect] = [SetTimer(self.hb, ("beat", self.lgen))]
        out.extend(self._broadcast())
        out.extend(self._maybe_commit())
        return out

    def _tick(self) -> list[Effect]:
        self.tick += 1
        if self.params.check_quorum and (  # type: ignore[attr-defined]
                self.tick - self.quorum_tick) * self.hb > self.lo and self.majority > 1:
            return self._step_down(self.term, None, why=(
                t("{node} heard from no majority for {seconds} s and stepped down", "en",
                  node=self.node, seconds=f"{self.lo:g}")))
        return [SetTimer(self.hb, ("beat", self.lgen)), *self._broadcast()]

    # --- leaving office ------------------------------------------------------------------
    def _step_down(self, term: int, leader: str | None, why: str) -> list[Effect]:
        """Become a follower (in ``term``, of ``leader`` if known)."""
        out: list[Effect] = []
        if term > self.term:
            self.term, self.voted_for = term, None
        was_leader = self.role == LEADER
        self.role, self.leader, self.prevoting = FOLLOWER, leader, False
        self.recent = leader is not None
        if was_leader:
            self.lgen += 1
            for r in [*self.reads, *self.unready]:
                out.extend(self._answer_read(r, None, why))
            self.reads, self.unready = [], []
            for rid, req in sorted(self.pending.items()):
                if req.f != "read":  # waiting for its entry to commit
                    out.append(Reply(rid, "info", error=t(
                        "{why}; the {f} may still take effect", "en", why=why, f=req.f)))
                    del self.pending[rid]
        return out + self._reset_election()

    # --- clients -----------------------------------------------------------------------
    def on_request(self, now: float, req: Request) -> list[Effect]:
        if req.f not in self.supports:
            return [Reply(req.id, "fail", error=t("{policy} does not offer {f}", "en",
                                                         policy="raft", f=req.f))]
        if req.f == "read" and self.params.read == "local":  # type: ignore[attr-defined]
            return [Reply(req.id, "ok", self.value_of(req.key))]
        value = tuple(req.value) if isinstance(req.value, list) else req.value
        req = Request(req.id, req.f, req.key, value)
        if self.role == LEADER:
            self.pending[req.id] = req
            return self._observe(self._lead(self.node, req.id, self.boots, req))
        if self.leader is not None:
            self.pending[req.id] = req
            msg = {"t": "fwd", "rid": req.id, "boot": self.boots, "f": req.f, "key": req.key,
                   "value": list(value) if isinstance(value, tuple) else value}
            return [Send(self.leader, msg, "forward")]
        if self.role == CANDIDATE or self.prevoting:
            return [Reply(req.id, "fail", error=t(
                "no leader: {node} knows no leader in term {term} (it is asking for votes)",
                "en", node=self.node, term=self.term))]
        return [Reply(req.id, "fail", error=t(
            "no leader: {node} knows no leader in term {term}", "en",
            node=self.node, term=self.term))]

    def _lead(self, origin: str, rid: int, boot: int, req: Request) -> list[Effect]:
        """The leader takes a request (its own client's, or forwarded from ``origin``)."""
        if req.f == "read":
            read = _Read(origin, rid, req.key, self.commit, 0)
            if (self.params.read == "lease"  # type: ignore[attr-defined]
                    and self._lease() and self._committed_in_term()):
                return self._answer_read(read, self.value_of(req.key), None)
            if not self._committed_in_term():
                self.unready.append(read)
                return []
            return self._read_index(read)
        self.log.append((self.term, (req.f, req.key, req.value, origin, rid, boot)))
        return self._broadcast() + self._maybe_commit()

    def _committed_in_term(self) -> bool:
        return self.log[self.commit][0] == self.term

    def _read_index(self, read: _Read) -> list[Effect]:
        read.index = self.commit
        if self.majority == 1:
            return self._answer_read(read, self.value_of(read.key), None)
        out = self._broadcast()  # a new heartbeat round: is anyone else leader?
        read.round = self.round
        self.reads.append(read)
        return out

    def _answer_read(self, read: _Read, value: Any, error: str | None) -> list[Effect]:
        if read.origin == self.node:
            req = self.pending.pop(read.rid, None)
            if req is None:
                return []
            if error is not None:
                return [Reply(read.rid, "fail", error=error)]
            return [Reply(read.rid, "ok", value)]
        msg: dict[str, Any] = {"t": "answer", "rid": read.rid, "value": value}
        if error is not None:
            msg["error"] = error
        return [Send(read.origin, msg, "forward")]

    def _lease(self) -> bool:
        """A majority acknowledged a round sent less than lo ago, by this leader's ticks."""
        r = self._quorum_round()
        return r > 0 and (self.tick - self.round_tick[r] + 1) * self.hb <= self.lo

    # --- replication --------------------------------------------------------------------
    def _broadcast(self) -> list[Effect]:
        """One AppendEntries (a heartbeat when it carries nothing) to every peer: a new round."""
        self.round += 1
        self.round_tick[self.round] = self.tick
        return [self._append_to(p) for p in self.peers]

    def _append_to(self, peer: str) -> Send:
        prev = self.next[peer] - 1
        entries = [_jsonable(e) for e in self.log[prev + 1:]]
        msg = {"t": "app", "term": self.term, "prev": prev, "pt": self.log[prev][0],
               "entries": entries, "commit": self.commit, "round": self.round}
        return Send(peer, msg, "append" if entries else "heartbeat")

    def _quorum_round(self) -> int:
        rounds = sorted([self.round, *(self.acked.get(p, 0) for p in self.peers)], reverse=True)
        return rounds[self.majority - 1]

    def _maybe_commit(self) -> list[Effect]:
        idx = sorted([self.last_index, *self.match.values()], reverse=True)[self.majority - 1]
        if idx <= self.commit:
            return []
        if self.commit_only_current_term and self.log[idx][0] != self.term:
            return []  # Figure 8: an earlier term's entry commits only under a newer one
        self.commit = idx
        out = self._apply_committed()
        if self._committed_in_term() and self.unready:
            waiting, self.unready = self.unready, []
            for r in waiting:
                out.extend(self._read_index(r))
        if self.peers:
            out.extend(self._broadcast())  # tell the followers the commit index now
        return out

    def _apply_committed(self) -> list[Effect]:
        out: list[Effect] = []
        while self.applied < self.commit:
            self.applied += 1
            cmd = self.log[self.applied][1]
            if cmd is None:
                continue
            f, key, value, origin, rid, boot = cmd
            error = None
            if f == "write":
                self.state[key] = value
                out.append(Stored(key, value))
            else:  # cas
                expected, new = value
                if self.state.get(key) == expected:
                    self.state[key] = new
                    out.append(Stored(key, new))
                else:
                    error = t("{key} held {held}, not {expected}", "en", key=key,
                              held=repr(self.state.get(key)), expected=repr(expected))
            if origin == self.node and boot == self.boots and rid in self.pending:
                del self.pending[rid]
                out.append(Reply(rid, "ok", value) if error is None
                           else Reply(rid, "fail", error=error))
        return out

    # --- messages ---------------------------------------------------------------------------
    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        handler = getattr(self, "_on_" + str(msg.get("t")), None)
        if handler is None:
            return []
        return self._observe(handler(src, msg))

    def _in_lease(self) -> bool:
        """We heard from a leader recently (or are one): vote requests are ignored."""
        if not self.params.check_quorum:  # type: ignore[attr-defined]
            return False
        return self.role == LEADER or (self.leader is not None and self.recent)

    def _up_to_date(self, msg: Mapping[str, Any]) -> bool:
        return (int(msg["lt"]), int(msg["li"])) >= (self.last_term, self.last_index)

    def _on_prevote(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        term = int(msg["term"])
        grant = term > self.term and not self._in_lease() and self._up_to_date(msg)
        return [Send(src, {"t": "prevote_resp", "term": term, "granted": grant,
                           "mine": self.term}, "vote-reply")]

    def _on_prevote_resp(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        if int(msg["mine"]) > self.term and not msg["granted"]:
            return self._step_down(int(msg["mine"]), None, why=(
                t("{node} learnt that term {term} began", "en", node=self.node,
                  term=msg["mine"])))
        if not self.prevoting or int(msg["term"]) != self.term + 1 or not msg["granted"]:
            return []
        self.votes.add(src)
        if len(self.votes) >= self.majority:
            return self._become_candidate()
        return []

    def _on_vote(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        term = int(msg["term"])
        out: list[Effect] = []
        if term > self.term:
            if self._in_lease():
                return []  # a leader is alive: ignore the disruption (§4.2.3)
            out = self._step_down(term, None, why=(
                t("{node} saw term {term} begin and stepped down", "en", node=self.node,
                  term=term)))
        grant = (term == self.term and self.voted_for in (None, src)
                 and self._up_to_date(msg))
        if grant:
            self.voted_for = src
            out.extend(self._reset_election())
        out.append(Send(src, {"t": "vote_resp", "term": self.term, "granted": grant},
                        "vote-reply"))
        return out

    def _on_vote_resp(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        term = int(msg["term"])
        if term > self.term:
            return self._step_down(term, None, why=(
                t("{node} saw term {term} begin and stepped down", "en", node=self.node,
                  term=term)))
        if self.role != CANDIDATE or term != self.term or not msg["granted"]:
            return []
        self.votes.add(src)
        if len(self.votes) >= self.majority:
            return self._become_leader()
        return []

    def _on_app(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        term = int(msg["term"])
        rnd = int(msg["round"])
        if term < self.term:  # a deposed leader: tell it the news
            return [Send(src, {"t": "app_resp", "term": self.term, "ok": False, "match": 0,
                               "hint": self.last_index, "round": rnd}, "ack")]
        out: list[Effect] = []
        if term > self.term or self.role != FOLLOWER:
            out = self._step_down(term, src, why=(
                t("{node} heard from {src}, leader of term {term}, and stepped down", "en",
                  node=self.node, src=src, term=term)))
        else:
            out = self._reset_election()
        self.leader, self.recent = src, True
        prev = int(msg["prev"])
        if prev > self.last_index or self.log[prev][0] != int(msg["pt"]):
            out.append(Send(src, {"t": "app_resp", "term": self.term, "ok": False, "match": 0,
                                  "hint": min(prev - 1, self.last_index), "round": rnd},
                            "ack"))
            return out
        idx = prev
        for raw in msg["entries"]:
            idx += 1
            e = _entry(raw)
            if idx <= self.last_index:
                if self.log[idx][0] == e[0]:
                    continue  # already have it (Log Matching)
                del self.log[idx:]  # a conflict: drop it and everything after
            self.log.append(e)
        if int(msg["commit"]) > self.commit:
            self.commit = max(self.commit, min(int(msg["commit"]), idx))
            out.extend(self._apply_committed())
        out.append(Send(src, {"t": "app_resp", "term": self.term, "ok": True, "match": idx,
                              "hint": 0, "round": rnd},
                        "ack"))
        return out

    def _on_app_resp(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        term = int(msg["term"])
        if term > self.term:
            return self._step_down(term, None, why=(
                t("{node} learnt that term {term} began and stepped down", "en",
                  node=self.node, term=term)))
        if self.role != LEADER or term != self.term:
            return []
        self.acked[src] = max(self.acked.get(src, 0), int(msg["round"]))
        out: list[Effect] = []
        if msg["ok"]:
            self.match[src] = max(self.match[src], int(msg["match"]))
            self.next[src] = max(self.next[src], self.match[src] + 1)
            out.extend(self._maybe_commit())
        else:
            self.next[src] = max(1, min(self.next[src] - 1, int(msg["hint"]) + 1))
            out.append(self._append_to(src))
        out.extend(self._reads_confirmed())
        return out

    def _reads_confirmed(self) -> list[Effect]:
        """Answer the reads whose heartbeat round a majority has acknowledged."""
        r = self._quorum_round()
        if r > 0:
            self.quorum_tick = max(self.quorum_tick, self.round_tick[r])
            for old in [k for k in self.round_tick if k < r]:
                if all(read.round != old for read in self.reads):
                    del self.round_tick[old]
        out: list[Effect] = []
        if not self.reads:
            return out
        ready = [rd for rd in self.reads if rd.round <= r and rd.index <= self.applied]
        self.reads = [rd for rd in self.reads if rd not in ready]
        for rd in ready:
            out.extend(self._answer_read(rd, self.value_of(rd.key), None))
        return out

    def _on_fwd(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        rid = int(msg["rid"])
        if self.role != LEADER:
            return [Send(src, {"t": "answer", "rid": rid, "value": None, "error": (
                t("{node} is no longer the leader (term {term})", "en", node=self.node,
                  term=self.term))}, "forward")]
        value = msg.get("value")
        req = Request(rid, str(msg["f"]), str(msg["key"]),
                      tuple(value) if isinstance(value, list) else value)
        return self._lead(src, rid, int(msg["boot"]), req)

    def _on_answer(self, src: str, msg: dict[str, Any]) -> list[Effect]:
        rid = int(msg["rid"])
        req = self.pending.pop(rid, None)
        if req is None:
            return []
        if msg.get("error"):
            return [Reply(rid, "fail", error=str(msg["error"]))]
        return [Reply(rid, "ok", msg.get("value"))]

"""The explorer's model: one global state of a scenario, and the steps out of it.

A state is every replica's policy snapshot, the multiset of messages in
flight, the pending timers, how far the fault schedule has got, where each
client is (next operation, outstanding request), the drops still allowed,
and, per key, the linearizability checker's *frontier* (see
:mod:`capsim.explore.linear`). Everything is a tuple, so states hash and
compare: the search keeps exact visited sets of them.

Time is abstracted: a step has no duration, only a place in the order. The
orders explored (docs/explore.md says the same in words):

* **Messages** in flight may be delivered in any order; any one may instead
  be dropped while ``drops`` remain. A message whose link is cut, or whose
  destination is down, when it arrives is lost (that costs no drop); a
  message sent over a cut link is lost at once, as in the simulator.
* **Timers are longer than messages**: a replica's timer fires only when no
  message is in flight (each in-flight message is delivered or lost first).
  A slow message is therefore modelled as a lost one.
* **Client timeouts are longer than replica timers** (every policy gives up
  at ``give_up`` < 1 of the client timeout): a client gives up on a request
  only when nothing is in flight and its home replica has no timer left —
  which is how a request to a crashed replica ends (``info``).
* **Clients** issue their operations in their own order; different clients
  interleave freely.
* **Faults** happen in the scenario's order, each after every operation the
  scenario schedules before it has been issued and before any operation
  scheduled at or after it is issued.

A step at position ``k`` of a schedule is recorded at time ``k`` (seconds):
the history of a schedule has times 1, 2, 3, … and ``capsim run --schedule``
gives the same. Policies are handed ``now = 0`` (``POLICY_NOW``), so a
state's future never depends on how long the path to it was (quorum's hybrid
clock becomes a plain Lamport clock).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from capsim.explore.linear import KeyFrontier, LinOp
from capsim.policies.base import Marked, Policy, Reply, Request, Role, Send, SetTimer, Stored
from capsim.scenario import Scenario
from capsim.sim.schedule import POLICY_NOW, canon, client_plans
from capsim.sim.workload import PlannedOp

MEMO_LIMIT = 500_000
"""Local transitions remembered (replica snapshot + event -> effects); cleared when full."""

# A message in flight: (src, dst, kind, payload as canonical JSON).
Msg = tuple[str, str, str, str]
# A pending timer: (node, token as JSON).
Timer = tuple[str, str]


class State(NamedTuple):
    """One global state (all fields immutable and hashable)."""

    policies: tuple[int, ...]  # per node, the id of its snapshot (Model.snapshot(id))
    flight: tuple[Msg, ...]  # sorted multiset
    timers: tuple[Timer, ...]  # sorted multiset
    faults: int  # nemesis events that happened (with any_faults: the fault configuration's id)
    clients: tuple[tuple[int, int, bool], ...]  # (next op, outstanding op id or -1, counts)
    drops: int  # drops still allowed
    keys: tuple[KeyFrontier, ...]
    stale: tuple[StaleKey, ...] = ()  # per key, when stale reads are tracked
    budget: int = 0  # arbitrary faults still allowed (any_faults)


class StaleKey(NamedTuple):
    """What capsim's stale-read definition needs of a key's history so far.

    ``closed``: values whose (only) write was acknowledged (and the initial
    value); ``superseded``: values whose write ended before some acknowledged
    write began; per open write, the values closed when it began; per open
    read, the values superseded when it began. A read is stale when it
    returns a value superseded before it began (values are written once).
    """

    closed: frozenset[Any]
    superseded: frozenset[Any]
    writes: tuple[tuple[int, frozenset[Any]], ...]
    reads: tuple[tuple[int, frozenset[Any]], ...]

    def invoke(self, op: PlannedOp, gid: int) -> StaleKey:
        if op.f == "read":
            return self._replace(reads=tuple(sorted((*self.reads, (gid, self.superseded)))))
        return self._replace(writes=tuple(sorted((*self.writes, (gid, self.closed)))))

    def complete(self, op: PlannedOp, gid: int, type_: str, value: Any) -> tuple[StaleKey, bool]:
        """The key after ``gid`` ended, and whether it was a stale read."""
        if op.f == "read":
            seen = dict(self.reads)[gid]
            rest = tuple(r for r in self.reads if r[0] != gid)
            return self._replace(reads=rest), type_ == "ok" and value in seen
        began = dict(self.writes)[gid]
        rest = tuple(w for w in self.writes if w[0] != gid)
        if type_ != "ok":
            return self._replace(writes=rest), False
        written = op.value[1] if op.f == "cas" else op.value
        return self._replace(writes=rest, closed=self.closed | {written},
                             superseded=self.superseded | began), False


# Actions: ("fault",), ("invoke", client), ("deliver", msg), ("drop", msg),
# ("lost", msg), ("timer", timer), ("timeout", client).
Action = tuple[Any, ...]


class Completion(NamedTuple):
    """A request's end as a step saw it, for properties and histories."""

    op: int
    type: str
    value: Any
    error: str | None
    replica: bool  # answered by the replica (False: the client gave up)
    counts: bool  # a request the availability property says must be answered ok


@dataclass
class StepResult:
    state: State
    completions: list[Completion]
    violation: str | None  # a key whose frontier emptied: not linearizable
    stale: int | None = None  # an op id: a read that returned a superseded value
    record: list[tuple[str, Any]] | None = None  # ("event", ...) / ("msg", ...) when asked


class Model:
    """A scenario under one policy, as a transition system."""

    def __init__(self, scenario: Scenario, policy_cls: type[Policy], params: Any,
                 *, drops: int = 0, availability: str | None = None,
                 stale: bool = False, any_faults: int | None = None) -> None:
        """``availability``: which requests must be answered ok — ``"live"`` (to any
        live replica), ``"majority"`` (to a live replica on a side of the network
        with a majority of the replicas) or None (not tracked).
        """
        self.availability = availability
        self.scenario = scenario
        self.policy_cls = policy_cls
        self.nodes = list(scenario.nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        self.timeout = scenario.timeout
        self.replicas: list[Policy] = [
            policy_cls(n, self.nodes, scenario.initial, params, timeout=scenario.timeout)
            for n in self.nodes
        ]
        # Snapshots of the replicas as built (fails early if a policy has none).
        self._fresh = [r.snapshot() for r in self.replicas]
        self._memo: dict[Any, Any] = {}
        # Snapshots are interned: a state holds small ids, so hashing a state (the
        # visited set does it for every transition) never walks a replica's state.
        self._snaps: list[Any] = []
        self._snap_ids: dict[Any, int] = {}
        self.client_names, plans, _ = client_plans(scenario)
        self.ops: list[PlannedOp] = []  # op id -> planned op; its request id is op id + 1
        self.client_ops: list[list[int]] = []
        for ps in plans:
            ids = []
            for p in ps:
                ids.append(len(self.ops))
                self.ops.append(p)
            self.client_ops.append(ids)
        self.keys = sorted({p.key for p in self.ops})
        self.key_index = {k: i for i, k in enumerate(self.keys)}
        self.lin_ops = [LinOp(i, p.f, _freeze(p.value)) for i, p in enumerate(self.ops)]
        # With any_faults=K the scenario's nemesis is replaced by up to K arbitrary
        # faults (a split into two sides, a crash) at any step; heals and recoveries
        # are free. ``faults`` then names a configuration interned in blocked/down.
        self.any_faults = any_faults
        self.nemesis = [] if any_faults is not None else list(scenario.nemesis)
        self._configs: dict[tuple[frozenset[tuple[str, str]], frozenset[str]], int] = {}
        # Network and crash state after the first i faults.
        self.blocked: list[frozenset[tuple[str, str]]] = []
        self.down: list[frozenset[str]] = []
        blocked: set[tuple[str, str]] = set()
        down: set[str] = set()
        for i in range(len(self.nemesis) + 1):
            self.blocked.append(frozenset(blocked))
            self.down.append(frozenset(down))
            if i == len(self.nemesis):
                break
            ev = self.nemesis[i]
            if ev.partition is not None:
                named = {n for g in ev.partition for n in g}
                rest = [n for n in self.nodes if n not in named]
                full = [list(g) for g in ev.partition] + ([rest] if rest else [])
                side = {n: j for j, g in enumerate(full) for n in g}
                blocked = {(a, b) for a in self.nodes for b in self.nodes if side[a] != side[b]}
            elif ev.cut is not None:
                blocked |= {(a, b) for a in ev.cut.from_ for b in ev.cut.to if a != b}
            elif ev.heal:
                blocked = set()
            elif ev.crash is not None:
                down.add(ev.crash)
            elif ev.recover is not None:
                down.discard(ev.recover)
        # Fault i may happen once each client has issued its ops scheduled before it;
        # op j may be issued once the faults scheduled at or before it have happened.
        self.fault_needs = [
            tuple(sum(1 for j in ids if self.ops[j].at < ev.at) for ids in self.client_ops)
            for ev in self.nemesis
        ]
        self.op_needs = [sum(1 for ev in self.nemesis if ev.at <= p.at) for p in self.ops]
        if any_faults is not None:
            self._configs[(self.blocked[0], self.down[0])] = 0
            first = self.nodes[0]
            rest = self.nodes[1:]
            self.splits = [
                [[first, *[n for j, n in enumerate(rest) if mask >> j & 1]],
                 [n for j, n in enumerate(rest) if not mask >> j & 1]]
                for mask in range(2 ** len(rest) - 1)]
        self.default_drops = drops
        self.track_stale = stale
        if stale:
            _values_written_once(scenario, self.ops)

    # --- states -----------------------------------------------------------------
    def initial(self) -> State:
        timers: list[Timer] = []
        for i, r in enumerate(self.replicas):
            r.restore_snapshot(self._fresh[i])
            for e in r.start(POLICY_NOW):
                if isinstance(e, SetTimer):
                    timers.append((self.nodes[i], canon(e.token)))
        return State(
            tuple(self._intern(r.snapshot()) for r in self.replicas),
            (),
            tuple(sorted(timers)),
            0,
            tuple((0, -1, False) for _ in self.client_names),
            self.default_drops,
            tuple(KeyFrontier.initial(_freeze(self.scenario.initial.get(k)))
                  for k in self.keys),
            tuple(StaleKey(frozenset([self.scenario.initial[k]] if k in self.scenario.initial
                                     else []), frozenset(), (), ())
                  for k in self.keys) if self.track_stale else (),
            self.any_faults or 0,
        )

    def _intern(self, snap: Any) -> int:
        sid = self._snap_ids.get(snap)
        if sid is None:
            sid = self._snap_ids[snap] = len(self._snaps)
            self._snaps.append(snap)
        return sid

    def snapshot(self, sid: int) -> Any:
        """The replica snapshot a state refers to by ``sid``."""
        return self._snaps[sid]

    def replica(self, s: State, node: str) -> Policy:
        """A replica object put in ``node``'s state in ``s`` (shared: read it, do not keep it)."""
        i = self.index[node]
        r = self.replicas[i]
        r.restore_snapshot(self._snaps[s.policies[i]])
        return r

    def quiescent(self, s: State) -> bool:
        """Every client done, every fault happened, nothing in flight."""
        return (not s.flight and self.faults_done(s)
                and all(pos == len(self.client_ops[c]) and out < 0
                        for c, (pos, out, _) in enumerate(s.clients)))

    def faults_done(self, s: State) -> bool:
        """Every scheduled fault happened (any_faults: the network is whole, every node up)."""
        if self.any_faults is not None:
            return s.faults == 0
        return s.faults == len(self.nemesis)

    def _config(self, blocked: frozenset[tuple[str, str]], down: frozenset[str]) -> int:
        cid = self._configs.get((blocked, down))
        if cid is None:
            cid = self._configs[(blocked, down)] = len(self.blocked)
            self.blocked.append(blocked)
            self.down.append(down)
        return cid

    def _any_fault_actions(self, s: State) -> list[Action]:
        blocked, down = self.blocked[s.faults], self.down[s.faults]
        out: list[Action] = []
        if s.budget > 0:
            for groups in self.splits:
                if _cuts(self.nodes, groups) != blocked:
                    out.append(("anyfault", ("partition", tuple(map(tuple, groups)))))
            out.extend(("anyfault", ("crash", n)) for n in self.nodes if n not in down)
        if blocked:
            out.append(("anyfault", ("heal",)))
        out.extend(("anyfault", ("recover", n)) for n in self.nodes if n in down)
        return out

    def actions(self, s: State) -> list[Action]:
        """Every step enabled in ``s``, in a fixed order (so searches are deterministic)."""
        out: list[Action] = [] if self.any_faults is None else self._any_fault_actions(s)
        f = s.faults
        if f < len(self.nemesis) and all(
                pos >= need for (pos, _, _), need in zip(s.clients, self.fault_needs[f],
                                                         strict=True)):
            out.append(("fault",))
        for c, (pos, busy, _) in enumerate(s.clients):
            ids = self.client_ops[c]
            if busy < 0 and pos < len(ids) and self.op_needs[ids[pos]] <= f:
                out.append(("invoke", c))
        blocked, down = self.blocked[f], self.down[f]
        prev = None
        for m in s.flight:
            if m == prev:
                continue
            prev = m
            if (m[0], m[1]) in blocked or m[1] in down:
                out.append(("lost", m))
            else:
                out.append(("deliver", m))
                if s.drops > 0:
                    out.append(("drop", m))
        if not s.flight:
            prev_t = None
            for tm in s.timers:
                if tm != prev_t and tm[0] not in down:
                    out.append(("timer", tm))
                prev_t = tm
            for c, (_, busy, _) in enumerate(s.clients):
                if busy >= 0:
                    home = self.ops[busy].node
                    if home in down or not any(tm[0] == home for tm in s.timers):
                        out.append(("timeout", c))
        return out

    def counts(self, node: str, faults: int) -> bool:
        """Whether a request to ``node``, issued after ``faults`` faults, must be answered ok."""
        if self.availability is None or node in self.down[faults]:
            return False
        if self.availability == "live":
            return True
        blocked = self.blocked[faults]
        side = [n for n in self.nodes if n not in self.down[faults]
                and (n == node or ((node, n) not in blocked and (n, node) not in blocked))]
        return len(side) > len(self.nodes) // 2

    # --- steps ------------------------------------------------------------------
    def step(self, s: State, a: Action, *, record: bool = False) -> StepResult:
        """The state after action ``a`` (which must be enabled in ``s``)."""
        now = POLICY_NOW
        rec: list[tuple[str, Any]] | None = [] if record else None
        flight = list(s.flight)
        timers = list(s.timers)
        faults = s.faults
        clients = list(s.clients)
        pols = list(s.policies)
        drops = s.drops
        budget = s.budget
        completions: list[Completion] = []
        invoked: int | None = None
        kind = a[0]

        def run(node: str, event: tuple[Any, ...], call: Callable[[Policy], list[Any]]) -> None:
            i = self.index[node]
            memo_key = (i, pols[i], event)
            hit = self._memo.get(memo_key)
            if hit is None:
                r = self.replicas[i]
                r.restore_snapshot(self._snaps[pols[i]])
                hit = (self._prepare(call(r)), self._intern(r.snapshot()))
                if len(self._memo) >= MEMO_LIMIT:
                    self._memo.clear()
                self._memo[memo_key] = hit
            pols[i] = hit[1]
            self._effects(node, hit[0], flight, timers, faults, clients, completions, rec)

        if kind == "fault":
            ev = self.nemesis[faults]
            faults += 1
            if rec is not None:
                rec.append(("fault", faults - 1))
            if ev.crash is not None and ev.crash not in self.down[faults - 1]:
                i = self.index[ev.crash]
                r = self.replicas[i]
                r.restore_snapshot(self._snaps[pols[i]])
                r.on_crash()
                pols[i] = self._intern(r.snapshot())
                timers = [t for t in timers if t[0] != ev.crash]
            elif ev.recover is not None and ev.recover in self.down[faults - 1]:
                run(ev.recover, ("recover",), lambda r: r.on_recover(now))
        elif kind == "anyfault":
            what = a[1]
            blocked, down = self.blocked[faults], set(self.down[faults])
            if rec is not None:
                rec.append(("anyfault", what))
            if what[0] == "partition":
                budget -= 1
                blocked = _cuts(self.nodes, what[1])
            elif what[0] == "heal":
                blocked = frozenset()
            elif what[0] == "crash":
                budget -= 1
                down.add(what[1])
                i = self.index[what[1]]
                r = self.replicas[i]
                r.restore_snapshot(self._snaps[pols[i]])
                r.on_crash()
                pols[i] = self._intern(r.snapshot())
                timers = [t for t in timers if t[0] != what[1]]
            else:
                down.discard(what[1])
            faults = self._config(blocked, frozenset(down))
            if what[0] == "recover":
                run(what[1], ("recover",), lambda r: r.on_recover(now))
        elif kind == "invoke":
            c = a[1]
            pos = clients[c][0]
            gid = self.client_ops[c][pos]
            clients[c] = (pos + 1, gid, self.counts(self.ops[gid].node, faults))
            invoked = gid
            op = self.ops[gid]
            if rec is not None:
                rec.append(("invoke", gid))
            if op.node not in self.down[faults]:
                req = Request(gid + 1, op.f, op.key, op.value)
                run(op.node, ("request", req), lambda r: r.on_request(now, req))
        elif kind in ("deliver", "drop", "lost"):
            m = a[1]
            flight.remove(m)
            if kind == "drop":
                drops -= 1
            if rec is not None:
                rec.append((kind, m))
            if kind == "deliver":
                src, dst, _, payload = m
                run(dst, ("message", src, payload),
                    lambda r: r.on_message(now, src, json.loads(payload)))
        elif kind == "timer":
            tm = a[1]
            timers.remove(tm)
            if rec is not None:
                rec.append(("timer", tm))
            run(tm[0], ("timer", tm[1]), lambda r: r.on_timer(now, json.loads(tm[1])))
        elif kind == "timeout":
            c = a[1]
            gid = clients[c][1]
            node = self.ops[gid].node
            why = (f"{node} is down" if node in self.down[faults]
                   else f"no answer from {node} within the {self.timeout:g} s timeout")
            counted = clients[c][2]
            clients[c] = (clients[c][0], -1, False)
            op = self.ops[gid]
            comp = Completion(gid, "info", op.value if op.f != "read" else None, why, False,
                              counted)
            completions.append(comp)
            if rec is not None:
                rec.append(("complete", comp))
        else:  # pragma: no cover - a bug in the search
            raise ValueError(f"unknown action {a!r}")

        if faults != s.faults and self.availability is not None:
            # A request counts only while its replica stays up on a majority side.
            clients = [(pos, busy, counted and self.counts(self.ops[busy].node, faults))
                       if busy >= 0 else (pos, busy, counted)
                       for pos, busy, counted in clients]
        keys = list(s.keys)
        violation: str | None = None
        if invoked is not None:
            k = self.key_index[self.ops[invoked].key]
            keys[k] = keys[k].invoke(self.lin_ops[invoked])
        for comp in completions:
            k = self.key_index[self.ops[comp.op].key]
            keys[k] = keys[k].complete(self.lin_ops[comp.op], comp.type, _freeze(comp.value))
            if not keys[k].configs and violation is None:
                violation = self.keys[k]
        stale = list(s.stale)
        stale_read: int | None = None
        if stale:
            if invoked is not None:
                k = self.key_index[self.ops[invoked].key]
                stale[k] = stale[k].invoke(self.ops[invoked], invoked)
            for comp in completions:
                k = self.key_index[self.ops[comp.op].key]
                stale[k], was = stale[k].complete(self.ops[comp.op], comp.op, comp.type,
                                                  _freeze(comp.value))
                if was and stale_read is None:
                    stale_read = comp.op
        flight.sort()
        timers.sort()
        return StepResult(
            State(tuple(pols), tuple(flight), tuple(timers), faults, tuple(clients), drops,
                  tuple(keys), tuple(stale), budget),
            completions, violation, record=rec, stale=stale_read)

    @staticmethod
    def _prepare(effects: list[Any]) -> tuple[tuple[Any, ...], ...]:
        """Effects in the explorer's own form: messages and tokens as canonical JSON."""
        out: list[tuple[Any, ...]] = []
        for e in effects:
            cls = type(e)
            if cls is Send:
                out.append(("send", e.dst, e.kind, canon(e.msg)))
            elif cls is SetTimer:
                out.append(("timer", canon(e.token)))
            elif cls is Reply:
                out.append(("reply", e.request, e.type, e.value, e.error))
            elif cls is Stored:
                out.append(("stored", e.key, e.value))
            elif cls is Role or cls is Marked:
                continue  # observations for pictures; the snapshot holds the state itself
            else:  # pragma: no cover - a policy bug
                raise TypeError(f"a policy returned {e!r}, which is not an effect")
        return tuple(out)

    def _effects(self, node: str, effects: tuple[tuple[Any, ...], ...], flight: list[Msg],
                 timers: list[Timer], faults: int, clients: list[tuple[int, int, bool]],
                 completions: list[Completion], rec: list[tuple[str, Any]] | None) -> None:
        """Carry out ``node``'s effects on the lists of the state being built."""
        blocked = self.blocked[faults]
        for e in effects:
            tag = e[0]
            if tag == "send":
                m = (node, e[1], e[2], e[3])
                if (node, e[1]) in blocked:
                    if rec is not None:
                        rec.append(("cut", m))
                else:
                    flight.append(m)
                    if rec is not None:
                        rec.append(("send", m))
            elif tag == "timer":
                timers.append((node, e[1]))
            elif tag == "reply":
                gid = e[1] - 1
                for c, (pos, busy, counted) in enumerate(clients):
                    if busy == gid:
                        clients[c] = (pos, -1, False)
                        op = self.ops[gid]
                        value = e[3] if op.f == "read" else op.value
                        if e[2] != "ok" and op.f == "read":
                            value = None
                        comp = Completion(gid, e[2], value, e[4], True, counted)
                        completions.append(comp)
                        if rec is not None:
                            rec.append(("complete", comp))
                        break
            elif rec is not None:  # stored
                rec.append(("stored", (node, e[1], e[2])))


def _cuts(nodes: list[str], groups: Any) -> frozenset[tuple[str, str]]:
    """The directed links a partition into ``groups`` cuts."""
    side = {n: j for j, g in enumerate(groups) for n in g}
    return frozenset((a, b) for a in nodes for b in nodes if side[a] != side[b])


def _values_written_once(scenario: Scenario, ops: list[PlannedOp]) -> None:
    """Stale reads are judged per value: refuse a scenario that writes a value twice."""
    from capsim.errors import CapsimError

    seen: dict[tuple[str, Any], str] = {(k, _freeze(v)): "the initial value"
                                         for k, v in scenario.initial.items()}
    for op in ops:
        if op.f == "read":
            continue
        v = _freeze(op.value[1] if op.f == "cas" else op.value)
        if (op.key, v) in seen:
            raise CapsimError(
                f"scenario {scenario.name!r}: the stale-free property needs every value written "
                f"once, but {op.process} writes {v!r} to {op.key}, as {seen[(op.key, v)]} does; "
                "use distinct values")
        seen[(op.key, v)] = f"{op.process}'s write"


def _freeze(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return tuple(_freeze(x) for x in v)
    return v

"""Replaying a schedule: the simulator with every choice made by a list of steps.

``capsim explore`` finds schedules (which message arrives next, which is
lost, which timer fires, when a client gives up, when a fault falls); a
schedule is data, ``schedule.json``, and this module carries one out in the
SimPy runtime: step ``k`` happens at simulated time ``k``, on the same
policy objects, recording the same history, replica trace and message
journal as any run, so every check, table and plot works on it.

A step names what happens, never an index into internal lists, so a
schedule can be read and edited by hand::

    {"do": "fault"}                          the scenario's next fault
    {"do": "fault", "crash": "G1"}           a fault of its own (also partition, heal, recover)
    {"do": "invoke", "client": "alice"}      alice issues her next operation
    {"do": "deliver", "src": "G1", "dst": "G2", "kind": "query", "msg": {...}}
    {"do": "drop", ...same fields...}        the message is lost (a --drops drop)
    {"do": "lost", ...same fields...}        it arrives on a cut link or at a down node
    {"do": "timer", "node": "G1", "token": 1}
    {"do": "timeout", "client": "bob"}       bob gives up: his request is info

Policies are handed ``now = 0`` (:data:`POLICY_NOW`), as in the explorer:
time in a schedule is order only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import simpy

from capsim.check import run_checks
from capsim.errors import CapsimError
from capsim.history import Event, History
from capsim.policies import get_policy
from capsim.policies.base import Marked, Policy, Reply, Request, Role, Send, SetTimer, Stored
from capsim.records import Mark, Message, RoleEntry, TraceEntry
from capsim.result import RunResult
from capsim.scenario import NemesisEvent, Scenario, load_scenario
from capsim.sim.nemesis import fault_spans
from capsim.sim.simulate import check_supported
from capsim.sim.workload import PlannedOp

POLICY_NOW = 0.0
"""The ``now`` policies see in a schedule: steps have order, not duration."""

SCHEDULE_VERSION = 1

_MSG_STEPS = ("deliver", "drop", "lost")
_STEPS = ("fault", "invoke", "timer", "timeout", *_MSG_STEPS)


def canon(value: Any) -> str:
    """A JSON-friendly value as canonical JSON (how messages and tokens are compared)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def client_plans(scenario: Scenario) -> tuple[list[str], list[list[PlannedOp]], list[int]]:
    """Clients in declared order with their operations, and each op's index in the scenario.

    Only scheduled operations: a generated workload has no place in a schedule.
    """
    if scenario.workload is not None:
        raise CapsimError(
            f"scenario {scenario.name!r} has a generated workload; schedules (and capsim "
            "explore) take only scheduled operations — list them under operations:")
    homes = {c.name: c.node for c in scenario.clients}
    names = [c.name for c in scenario.clients
             if any(op.client == c.name for op in scenario.operations)]
    per: dict[str, list[PlannedOp]] = {n: [] for n in names}
    where: list[int] = []
    for n in names:
        for i, op in enumerate(scenario.operations):
            if op.client == n:
                per[n].append(PlannedOp(op.at, n, homes[n], op.f, op.key, op.value))
                where.append(i)
    return names, [per[n] for n in names], where


def load_schedule(path: str | Path) -> dict[str, Any]:
    """Read ``schedule.json``, or say clearly what is wrong with it."""
    from capsim.scenario import read_text_file

    text = read_text_file(path, "schedule")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CapsimError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        raise CapsimError(f"{path}: a schedule is a JSON object with a list 'steps'")
    for i, st in enumerate(steps, 1):
        if not isinstance(st, dict) or st.get("do") not in _STEPS:
            raise CapsimError(
                f"{path}: steps[{i}]: 'do' must be one of {', '.join(_STEPS)} (got {st!r})")
    return data


class _Replay:
    """The SimPy runtime, with a schedule instead of a network model and clocks."""

    def __init__(self, scenario: Scenario, policy_cls: type[Policy], params: Any,
                 source: str) -> None:
        self.sc = scenario
        self.source = source
        self.env = simpy.Environment()
        self.nodes = list(scenario.nodes)
        self.policies = {n: policy_cls(n, self.nodes, scenario.initial, params,
                                       timeout=scenario.timeout) for n in self.nodes}
        self.names, self.plans, self.where = client_plans(scenario)
        offsets, total = [], 0
        for p in self.plans:
            offsets.append(total)
            total += len(p)
        self.offset = dict(zip(self.names, offsets, strict=True))
        self.pos = dict.fromkeys(self.names, 0)
        self.busy: dict[str, int] = {}  # client -> request id (op id + 1)
        self.blocked: set[tuple[str, str]] = set()
        self.up = dict.fromkeys(self.nodes, True)
        self.flight: list[tuple[str, str, str, str, int]] = []  # ..., journal index
        self.timers: list[tuple[str, str]] = []
        self.events: list[Event] = []
        self.trace: list[TraceEntry] = []
        self.roles: list[RoleEntry] = []
        self.marks: list[Mark] = []
        self.journal: list[list[Any]] = []
        self.fault_log: list[tuple[NemesisEvent, float]] = []  # what happened, when
        self.next_fault = 0  # the scenario's next nemesis event
        self.issued: dict[int, float] = {}  # scenario op index -> time issued

    def _op(self, rid: int) -> tuple[str, PlannedOp]:
        gid = rid - 1
        for n in self.names:
            if self.offset[n] <= gid < self.offset[n] + len(self.plans[self.names.index(n)]):
                return n, self.plans[self.names.index(n)][gid - self.offset[n]]
        raise KeyError(rid)  # pragma: no cover - ids come from this object

    def _record(self, p: PlannedOp, type_: str, value: Any, error: str | None = None) -> None:
        self.events.append(Event(len(self.events), round(self.env.now, 9), p.process, p.node,
                                 type_, p.f, p.key, value, error))  # type: ignore[arg-type]

    def _apply(self, node: str, effects: Sequence[Any]) -> None:
        now = round(self.env.now, 9)
        for e in effects:
            if isinstance(e, Send):
                payload = canon(e.msg)
                if (node, e.dst) in self.blocked:
                    self.journal.append([now, node, e.dst, e.kind, now, "cut"])
                else:
                    self.flight.append((node, e.dst, e.kind, payload, len(self.journal)))
                    self.journal.append([now, node, e.dst, e.kind, None, "in flight"])
            elif isinstance(e, SetTimer):
                self.timers.append((node, canon(e.token)))
            elif isinstance(e, Reply):
                self._reply(e)
            elif isinstance(e, Stored):
                self.trace.append(TraceEntry(now, node, e.key, e.value))
            elif isinstance(e, Role):
                self.roles.append(RoleEntry(now, node, e.role, e.term, e.commit, e.leader))
            elif isinstance(e, Marked):
                self.marks.append(Mark(now, node, e.key, e.mark))
            else:  # pragma: no cover - a policy bug
                raise TypeError(f"policy on {node} returned {e!r}, which is not an effect")

    def _reply(self, r: Reply) -> None:
        for c, rid in self.busy.items():
            if rid == r.request:
                del self.busy[c]
                _, p = self._op(rid)
                value = r.value if p.f == "read" else p.value
                if r.type == "ok":
                    self._record(p, "ok", value)
                else:
                    self._record(p, r.type, value if p.f != "read" else None, r.error)
                return

    def _bad(self, i: int, why: str) -> CapsimError:
        return CapsimError(f"{self.source}: steps[{i}]: {why}; the schedule does not fit this "
                           "scenario and policy")

    def _fault(self, ev: NemesisEvent) -> None:
        self.fault_log.append((ev, round(self.env.now, 9)))
        if ev.partition is not None:
            named = {n for g in ev.partition for n in g}
            rest = [n for n in self.nodes if n not in named]
            full = [list(g) for g in ev.partition] + ([rest] if rest else [])
            side = {n: j for j, g in enumerate(full) for n in g}
            self.blocked = {(a, b) for a in self.nodes for b in self.nodes if side[a] != side[b]}
        elif ev.cut is not None:
            self.blocked |= {(a, b) for a in ev.cut.from_ for b in ev.cut.to if a != b}
        elif ev.heal:
            self.blocked = set()
        elif ev.crash is not None and self.up[ev.crash]:
            self.up[ev.crash] = False
            self.policies[ev.crash].on_crash()
            self.timers = [t for t in self.timers if t[0] != ev.crash]
        elif ev.recover is not None and not self.up[ev.recover]:
            self.up[ev.recover] = True
            self._apply(ev.recover, self.policies[ev.recover].on_recover(POLICY_NOW))

    def do(self, i: int, st: Mapping[str, Any]) -> None:
        kind = st["do"]
        if kind == "fault":
            spec = {k: st[k] for k in ("partition", "heal", "crash", "recover") if k in st}
            if spec:  # an arbitrary fault (capsim explore --faults any:K)
                try:
                    ev = NemesisEvent.model_validate({"at": 0.0, **spec})
                except ValueError as exc:
                    raise self._bad(i, f"not a fault: {exc}") from None
                named = {n for g in ev.partition or [] for n in g}
                named |= {n for n in (ev.crash, ev.recover) if n is not None}
                if named - set(self.nodes):
                    raise self._bad(i, f"unknown node {sorted(named - set(self.nodes))[0]!r}")
            else:
                if self.next_fault >= len(self.sc.nemesis):
                    raise self._bad(i, "no fault is left in the scenario")
                ev = self.sc.nemesis[self.next_fault]
                self.next_fault += 1
            self._fault(ev)
        elif kind in ("invoke", "timeout"):
            c = st.get("client")
            if c not in self.pos:
                raise self._bad(i, f"no client {c!r} with operations")
            if kind == "invoke":
                if c in self.busy or self.pos[c] >= len(self.plans[self.names.index(c)]):
                    raise self._bad(i, f"{c} has no operation to issue now")
                p = self.plans[self.names.index(c)][self.pos[c]]
                rid = self.offset[c] + self.pos[c] + 1
                self.issued[self.where[rid - 1]] = round(self.env.now, 9)
                self.pos[c] += 1
                self.busy[c] = rid
                self._record(p, "invoke", p.value if p.f != "read" else None)
                if self.up[p.node]:
                    self._apply(p.node, self.policies[p.node].on_request(
                        POLICY_NOW, Request(rid, p.f, p.key, p.value)))
            else:
                rid = self.busy.pop(c, 0)
                if not rid:
                    raise self._bad(i, f"{c} has no request to give up on")
                _, p = self._op(rid)
                why = (f"{p.node} is down" if not self.up[p.node]
                       else f"no answer from {p.node} within the {self.sc.timeout:g} s timeout")
                self._record(p, "info", p.value if p.f != "read" else None, why)
        elif kind in _MSG_STEPS:
            want = (st.get("src"), st.get("dst"), st.get("kind"), canon(st.get("msg")))
            hit = next((m for m in self.flight if m[:4] == want), None)
            if hit is None:
                raise self._bad(i, f"no {want[2]} message {want[0]}→{want[1]} like that is in "
                                   "flight")
            self.flight.remove(hit)
            src, dst, _, payload, jdx = hit
            now = round(self.env.now, 9)
            self.journal[jdx][4] = now
            if kind == "deliver":
                self.journal[jdx][5] = "delivered"
                self._apply(dst, self.policies[dst].on_message(POLICY_NOW, src,
                                                                json.loads(payload)))
            else:
                self.journal[jdx][5] = ("lost" if kind == "drop"
                                        else "cut" if (src, dst) in self.blocked else "down")
        else:  # timer
            tm = (st.get("node"), canon(st.get("token")))
            if tm not in self.timers or not self.up.get(str(tm[0]), False):
                raise self._bad(i, f"no timer {tm[1]} is pending on {tm[0]}")
            self.timers.remove(tm)
            self._apply(str(tm[0]), self.policies[str(tm[0])].on_timer(
                POLICY_NOW, json.loads(tm[1])))

    def history(self) -> History:
        return History(self.events)

    def run(self, steps: Sequence[Mapping[str, Any]]) -> None:
        for n in self.nodes:
            for key in sorted(self.sc.initial):
                self.trace.append(TraceEntry(0.0, n, key, self.policies[n].value_of(key)))
        for n in self.nodes:
            self._apply(n, self.policies[n].start(POLICY_NOW))

        def driver() -> Any:
            for i, st in enumerate(steps, 1):
                yield self.env.timeout(1.0)
                self.do(i, st)

        self.env.process(driver())
        self.env.run()


def replay(
    scenario: Scenario | str | Path,
    schedule: Mapping[str, Any] | str | Path,
    *,
    policy: str | type[Policy] | None = None,
    params: dict[str, Any] | None = None,
) -> RunResult:
    """Carry out ``schedule`` in the simulator and check the history, as :func:`simulate` does.

    The result's scenario is the one that ran: each fault and operation at
    the step it happened, the duration one step past the last.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    source = "<schedule>"
    if not isinstance(schedule, Mapping):
        source = str(schedule)
        schedule = load_schedule(schedule)
    if policy is None:
        policy = schedule.get("policy") or scenario.policies[0]
    policy_cls = get_policy(policy) if isinstance(policy, str) else policy
    name = policy_cls.name or policy_cls.__name__
    merged = {**scenario.params.get(name, {}), **(params or {})}
    try:
        p = policy_cls.Params.model_validate(merged)
    except Exception as exc:
        raise CapsimError(f"bad parameters for policy {name!r}: {exc}") from None
    check_supported(scenario, policy_cls, name)
    rp = _Replay(scenario, policy_cls, p, source)
    steps = list(schedule["steps"])
    rp.run(steps)
    end = float(len(steps) + 1)
    # Requests still open when the schedule ends: their outcome is unknown.
    rp.env = simpy.Environment(initial_time=end - 1)
    for rid in sorted(rp.busy.values()):
        _, op = rp._op(rid)
        rp._record(op, "info", op.value if op.f != "read" else None,
                   "the schedule ended before an answer came")
    ran = _as_run(scenario, rp, end)
    history = rp.history()
    faults = fault_spans(ran)
    checks = run_checks(history, initial=ran.initial, faults=faults, trace=rp.trace,
                        nodes=ran.nodes, duration=ran.duration)
    messages = [Message(m[0], m[1], m[2], m[3], end if m[4] is None else m[4],
                        "delivered" if m[5] == "in flight" else m[5]) for m in rp.journal]
    return RunResult(scenario=ran, policy=name, seed=scenario.seed, history=history,
                     trace=rp.trace, faults=faults, messages=messages, checks=checks,
                     params=p.model_dump(mode="json"), roles=rp.roles, marks=rp.marks)


def _as_run(sc: Scenario, rp: _Replay, end: float) -> Scenario:
    nemesis = []
    for ev, at in rp.fault_log:
        d = ev.model_dump(mode="json", by_alias=True, exclude_none=True)
        d["at"] = at
        nemesis.append(d)
    ops = []
    for i, op in enumerate(sc.operations):
        if i in rp.issued:
            d = op.model_dump(mode="json", exclude_none=True)
            d["at"] = rp.issued[i]
            ops.append(d)
    ops.sort(key=lambda d: d["at"])
    return sc.replace(nemesis=nemesis, operations=ops, duration=end)

__all__ = ["POLICY_NOW", "canon", "client_plans", "load_schedule", "replay"]

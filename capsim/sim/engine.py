"""The SimPy runtime: carries out a policy's effects in simulated time.

It owns the environment, the network, the nodes' up/down state and the
clients, and records the history, the replica trace and the message journal.
Policies only see events and return effects (see ``capsim.policies.base``).
"""

from __future__ import annotations

import random
from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy
from simpy.events import Timeout

from capsim.history import Event, History
from capsim.i18n import t
from capsim.journal import MessageLog, TraceLog
from capsim.policies.base import (
    Marked,
    Policy,
    Reply,
    Request,
    Role,
    Send,
    SetTimer,
    Stored,
    node_rng,
)
from capsim.records import Mark, RoleEntry, TraceEntry
from capsim.scenario import Scenario
from capsim.sim.nemesis import nemesis_process
from capsim.sim.network import Network, build_graph
from capsim.sim.workload import PlannedOp, plan


def _t(x: float) -> float:
    """Round times for the history so 2.0 + 0.05 + 0.05 reads 2.1, not 2.0999999999999996."""
    return round(x, 9)


class _Pending:
    __slots__ = ("done", "event", "op")

    def __init__(self, op: PlannedOp, event: simpy.Event) -> None:
        self.op = op
        self.event = event
        self.done = False


class _Done:
    done = True


_DONE = _Done()


class Engine:
    """One run: build it, call :meth:`run`, read the records."""

    def __init__(
        self,
        scenario: Scenario,
        policy_cls: type[Policy],
        params: Any,
        seed: int,
        *,
        record_messages: bool = True,
        journal_dir: str | Path | None = None,
    ) -> None:
        self.scenario = scenario
        self.rng = random.Random(seed)
        self.env = simpy.Environment()
        self.nodes = list(scenario.nodes)
        self.up: dict[str, bool] = {n: True for n in self.nodes}
        self.epoch: dict[str, int] = {n: 0 for n in self.nodes}
        # A paused node (``pause: G1``) keeps its state and its timers but
        # handles nothing: what reaches it waits here, in arrival order.
        self.paused: dict[str, list[tuple[str, Any]]] = {}
        self.policies: dict[str, Policy] = {
            n: policy_cls(n, self.nodes, scenario.initial, params, timeout=scenario.timeout,
                          rng=node_rng(seed, n))
            for n in self.nodes
        }
        self.network = Network(
            self.env,
            build_graph(self.nodes, scenario.network),
            self.rng,
            self._deliver,
            is_up=self.up.__getitem__,
            record=record_messages,
            seed=seed,
            # Times rounded as recorded, like the history's; a long journal waits on
            # disk (in journal_dir) instead of in memory while the run goes on.
            journal=MessageLog(spill_dir=journal_dir, digits=9),
        )
        self.events: list[Event] = []
        self.trace = TraceLog()
        self.roles: list[RoleEntry] = []
        self.marks: list[Mark] = []
        self.pending: dict[int, _Pending] = {}
        self._next_request = 0
        self.plans = plan(scenario, self.rng)
        self.issued: dict[str, int] = {}

    # --- effects ----------------------------------------------------------------
    def _apply(self, node: str, effects: list[Any]) -> None:
        for e in effects:
            cls = type(e)
            if cls is Send:
                self.network.send(node, e.dst, e.msg, e.kind)
            elif cls is Reply:
                self._reply(node, e)
            elif cls is SetTimer:
                ev = Timeout(self.env, e.delay, (node, self.epoch[node], e.token))
                ev.callbacks.append(self._timer)
            elif cls is Stored:
                self.trace.append(TraceEntry(_t(self.env.now), node, e.key, e.value))
            elif cls is Role:
                self.roles.append(
                    RoleEntry(_t(self.env.now), node, e.role, e.term, e.commit, e.leader))
            elif cls is Marked:
                self.marks.append(Mark(_t(self.env.now), node, e.key, e.mark))
            else:  # pragma: no cover - a policy bug
                raise TypeError(f"policy on {node} returned {e!r}, which is not an effect")

    def _deliver(self, src: str, dst: str, msg: dict[str, Any], idx: int) -> None:
        if dst in self.paused:
            self.paused[dst].append(("message", (src, msg)))
            return
        self._apply(dst, self.policies[dst].on_message(self.env.now, src, msg))

    def _timer(self, ev: simpy.Event) -> None:
        node, epoch, token = ev._value
        if self.up[node] and self.epoch[node] == epoch:
            if node in self.paused:
                self.paused[node].append(("timer", (epoch, token)))
                return
            self._apply(node, self.policies[node].on_timer(self.env.now, token))

    def _reply(self, node: str, r: Reply) -> None:
        p = self.pending.get(r.request)
        if p is None or p.done:
            return  # the client already gave up
        p.done = True
        del self.pending[r.request]
        p.event.succeed(r)

    # --- faults ----------------------------------------------------------------
    def crash(self, node: str) -> None:
        if not self.up[node]:
            return
        self.up[node] = False
        self.paused.pop(node, None)  # a crash loses what waited in its buffers
        self.epoch[node] += 1
        self.policies[node].on_crash()

    def recover(self, node: str) -> None:
        if self.up[node]:
            return
        self.up[node] = True
        self._apply(node, self.policies[node].on_recover(self.env.now))

    def pause(self, node: str) -> None:
        """Stop ``node``'s process without losing anything (SIGSTOP, a long GC pause)."""
        if self.up[node]:
            self.paused.setdefault(node, [])

    def resume(self, node: str) -> None:
        """Continue ``node``: it handles what waited, in order, at the current time.

        Every timer that came due during the pause fires now, once (as a
        stopped process's ticker does); a policy that counts time in its own
        timer firings has lost the paused time.
        """
        waiting = self.paused.pop(node, None)
        if waiting is None:
            return
        policy = self.policies[node]
        for what, data in waiting:
            now = self.env.now
            if what == "message":
                self._apply(node, policy.on_message(now, data[0], data[1]))
            elif what == "timer":
                epoch, token = data
                if self.up[node] and self.epoch[node] == epoch:
                    self._apply(node, policy.on_timer(now, token))
            else:  # a client's request
                if not self.pending.get(data.id, _DONE).done:
                    self._apply(node, policy.on_request(now, data))

    # --- clients ---------------------------------------------------------------
    def _record(self, p: PlannedOp, type_: str, value: Any, error: str | None = None) -> None:
        self.events.append(
            Event(len(self.events), _t(self.env.now), p.process, p.node, type_,  # type: ignore[arg-type]
                  p.f, p.key, value, error)  # type: ignore[arg-type]
        )

    def _client(self, ops: list[PlannedOp]) -> Generator[simpy.Event, Any, None]:
        env = self.env
        timeout = self.scenario.timeout
        for op in ops:
            if op.at > env.now:
                yield env.timeout(op.at - env.now)
            self._next_request += 1
            self.issued[op.process] = self.issued.get(op.process, 0) + 1
            rid = self._next_request
            done = env.event()
            pend = _Pending(op, done)
            self.pending[rid] = pend
            self._record(op, "invoke", op.value if op.f != "read" else None)
            if op.node in self.paused:
                self.paused[op.node].append(("request", Request(rid, op.f, op.key, op.value)))
            elif self.up[op.node]:
                self._apply(
                    op.node,
                    self.policies[op.node].on_request(
                        env.now, Request(rid, op.f, op.key, op.value)
                    ),
                )
            if not pend.done:
                to = env.timeout(timeout, rid)
                to.callbacks.append(self._give_up)
            r: Reply = yield done
            value = r.value if op.f == "read" else op.value
            if r.type == "ok":
                self._record(op, "ok", value)
            else:
                self._record(op, r.type, value if op.f != "read" else None, r.error)

    def _give_up(self, ev: simpy.Event) -> None:
        rid = ev._value
        p = self.pending.pop(rid, None)
        if p is None or p.done:
            return
        p.done = True
        reason = (
            t("{node} is down", "en", node=p.op.node) if not self.up[p.op.node]
            else t("no answer from {node} within the {seconds} s timeout", "en",
                   node=p.op.node, seconds=f"{self.scenario.timeout:g}")
        )
        p.event.succeed(Reply(rid, "info", None, reason))

    # --- the run ---------------------------------------------------------------
    def run(self) -> None:
        env = self.env
        for n in self.nodes:
            for key in sorted(self.scenario.initial):
                self.trace.append(TraceEntry(0.0, n, key, self.policies[n].value_of(key)))
        for n in self.nodes:
            self._apply(n, self.policies[n].start(0.0))
        env.process(
            nemesis_process(env, list(self.scenario.nemesis), self.network, self.nodes,
                            self.crash, self.recover, self.pause, self.resume)
        )
        for name in sorted(self.plans, key=self._client_order):
            if self.plans[name]:
                env.process(self._client(self.plans[name]))
        env.run(until=self.scenario.duration)
        # Requests still open when the run ends: their outcome is unknown.
        for rid in sorted(self.pending):
            p = self.pending[rid]
            self._record(p.op, "info", p.op.value if p.op.f != "read" else None,
                         "the run ended before an answer came")
        self.pending.clear()

    def not_issued(self) -> dict[str, int]:
        """Per client, the planned operations it never issued (after :meth:`run`).

        A client waits for the answer to its previous operation (or its
        timeout) before it issues the next one, so a slow answer pushes its
        queue back; whatever is still queued when the run ends never happens.
        """
        out = {}
        for name, ops in self.plans.items():
            left = len(ops) - self.issued.get(name, 0)
            if left:
                out[name] = left
        return dict(sorted(out.items(), key=lambda kv: self._client_order(kv[0])))

    def _client_order(self, name: str) -> tuple[int, str]:
        declared = [c.name for c in self.scenario.clients]
        return (declared.index(name), "") if name in declared else (len(declared), name)

    def release(self) -> None:
        """Drop what only the simulation needed: every planned op, the replicas' state.

        Call it once the records are taken (history, trace, journal,
        :meth:`not_issued`). The engine sits in reference cycles (the event
        queue's callbacks and the clients' generators point back at it), so
        dropping the last name of it frees nothing until a garbage collection
        runs; a 100k-op run's plans alone are ~15 MB the checks can use.
        """
        for ops in self.plans.values():
            ops.clear()  # the same lists the client generators iterate
        self.policies.clear()
        self.paused.clear()
        self.pending.clear()
        self.events = []

    def history(self) -> History:
        return History(self.events)

    def messages(self) -> MessageLog:
        """The journal, times rounded like the history's (a compact Sequence of Message)."""
        return self.network.journal

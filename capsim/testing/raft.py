"""Raft's safety invariants, checked after every state change (a debug-mode engine).

Public test tooling, like :mod:`capsim.testing.strategies`::

    from capsim.testing.raft import run_checked
    history, steps = run_checked(scenario)   # raises AssertionError at the first violation

:class:`CheckedEngine` is the simulator's engine with one addition: after
every batch of effects (every message, timer, request, crash or recovery
handled by any node) it checks, over the replicas' real state:

* **Election Safety**: at most one node is ever leader in a given term;
* **State Machine Safety**: once an entry is committed at an index on any
  node, no node ever commits a different entry at that index, and no node
  holds a different entry there below its own commit index.

Like Ciw's simulations that assert an invariant after every event: a
violation stops the run at the step that broke it, with a sentence.
:class:`Script` drives raft replicas by hand (which message is delivered,
which timer fires), as etcd-raft's paper tests do, for runs a random
simulation would hardly ever hit (Figure 8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capsim.history import History
from capsim.policies.base import Policy, Reply, Request, Send, node_rng
from capsim.policies.raft import LEADER, Raft, RaftParams
from capsim.scenario import Scenario
from capsim.sim.engine import Engine


class RaftSafety:
    """The invariants, fed with the replicas after each step."""

    def __init__(self) -> None:
        self.leader_of: dict[int, str] = {}
        self.committed: dict[int, Any] = {}

    def check(self, policies: Mapping[str, Policy], when: str) -> None:
        for node, p in policies.items():
            assert isinstance(p, Raft)
            if p.role == LEADER:
                other = self.leader_of.setdefault(p.term, node)
                assert other == node, (
                    f"{when}: {other} and {node} were both leader in term {p.term}: "
                    "Election Safety is broken")
            for i in range(1, min(p.commit, p.last_index) + 1):
                entry = p.log[i]
                first = self.committed.setdefault(i, entry)
                assert first == entry, (
                    f"{when}: entry {i} was committed as {first}, and {node} now holds "
                    f"{entry} there with commit index {p.commit}: a committed entry was "
                    "overwritten (State Machine Safety is broken)")


class CheckedEngine(Engine):
    """The simulator's engine, checking :class:`RaftSafety` after every state change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.safety = RaftSafety()
        self.steps = 0

    def _apply(self, node: str, effects: list[Any]) -> None:
        self.steps += 1
        self.safety.check(self.policies, f"t={self.env.now:.6g} at {node}")
        super()._apply(node, effects)

    def crash(self, node: str) -> None:
        super().crash(node)
        self.safety.check(self.policies, f"t={self.env.now:.6g}, {node} crashed")


def run_checked(scenario: Scenario, policy: type[Policy] = Raft) -> tuple[History, int]:
    """Run ``scenario`` in the checked engine; returns its history and the steps checked."""
    params = policy.Params.model_validate(scenario.params.get("raft", {}))
    engine = CheckedEngine(scenario, policy, params, scenario.seed)
    engine.run()
    return engine.history(), engine.steps


class Script:
    """Raft replicas driven by hand: nothing happens unless a test says so."""

    def __init__(self, n: int, policy: type[Raft] = Raft, **params: Any) -> None:
        self.nodes = [f"S{i}" for i in range(1, n + 1)]
        p = RaftParams.model_validate({"pre_vote": False, "check_quorum": False, **params})
        self.p: dict[str, Raft] = {
            s: policy(s, self.nodes, {"x": "v0"}, p, timeout=1.0, rng=node_rng(0, s))
            for s in self.nodes
        }
        self.inbox: list[tuple[str, str, dict[str, Any]]] = []
        self.replies: list[Reply] = []
        self.down: set[str] = set()
        self.safety = RaftSafety()
        self._rid = 0
        for s in self.nodes:
            self._run(s, self.p[s].start(0.0))

    def _run(self, node: str, effects: list[Any]) -> None:
        for e in effects:
            if isinstance(e, Send):
                self.inbox.append((node, e.dst, e.msg))
            elif isinstance(e, Reply):
                self.replies.append(e)
        self.safety.check(self.p, f"step at {node}")

    def timeout(self, node: str) -> None:
        """``node``'s election timer fires."""
        p = self.p[node]
        self._run(node, p.on_timer(0.0, ("elect", p.egen)))

    def write(self, node: str, value: str) -> int:
        self._rid += 1
        self._run(node, self.p[node].on_request(0.0, Request(self._rid, "write", "x", value)))
        return self._rid

    def deliver(self, among: set[str] | None = None) -> None:
        """Deliver messages between ``among`` (default: every live node) until none are left.

        Messages to or from other nodes are dropped, as a partition would.
        """
        alive = set(self.nodes) - self.down if among is None else among - self.down
        while self.inbox:
            src, dst, msg = self.inbox.pop(0)
            if src in alive and dst in alive:
                self._run(dst, self.p[dst].on_message(0.0, src, msg))

    def crash(self, node: str) -> None:
        self.down.add(node)
        self.p[node].on_crash()

    def recover(self, node: str) -> None:
        self.down.discard(node)
        self._run(node, self.p[node].on_recover(0.0))


STEP_KINDS = ("timeout", "deliver", "write", "crash", "recover")


def play(policy: type[Raft], n: int, steps: list[tuple[str, Any]]) -> Script:
    """Run a drawn script: ``(kind, node)`` steps, ``deliver`` taking a set of nodes.

    Steps that make no sense at that point (a timeout on a crashed node, a
    recovery of a live one) are skipped, so every drawn list is a valid run.
    """
    s = Script(n, policy)
    written = 0
    for kind, arg in steps:
        if kind == "deliver":
            s.deliver(set(arg))
        elif kind == "recover":
            if arg in s.down:
                s.recover(arg)
        elif arg in s.down:
            continue
        elif kind == "timeout":
            s.timeout(arg)
        elif kind == "write":
            written += 1
            s.write(arg, f"v{written}")
        elif kind == "crash":
            s.crash(arg)
    return s


def figure_8(policy: type[Raft]) -> Script:
    """The run of the Raft paper's Figure 8, on five replicas S1..S5.

    (a) S1 leads term 1 and gets entry 1 (alice's v1) to S2 only. (b) S1
    crashes; S5 is elected in term 2 by S3, S4 and itself and appends an
    entry it sends to nobody. (c) S5 crashes; S1 comes back, is elected in
    term 3 by S2 and S3 and copies entry 1 to S3: a majority stores it.
    (d) S1 crashes; S5 comes back and is elected in term 4 by S2, S3 and S4
    (its last entry's term, 2, beats their 1) and replicates its entry over
    entry 1. Correct raft never committed entry 1 in (c), so (d) is legal;
    a raft that counts replicas of an earlier term's entry committed it.
    """
    s = figure = Script(5, policy)
    s.timeout("S1")
    s.deliver()  # S1 leads term 1
    s.write("S1", "v1")
    s.deliver({"S1", "S2"})  # entry 1 reaches S2 only
    s.crash("S1")
    s.timeout("S5")
    s.deliver({"S3", "S4", "S5"})  # S5 leads term 2
    s.write("S5", "v2")
    s.inbox.clear()  # S5's entry goes nowhere
    s.crash("S5")
    s.recover("S1")
    s.timeout("S1")
    s.deliver({"S1", "S2", "S3", "S4"})  # S3, S4 are in term 2: S1 learns it and loses
    s.timeout("S1")
    s.deliver({"S1", "S2", "S3"})  # S1 leads term 3 and copies entry 1 to S3
    s.crash("S1")
    s.recover("S5")
    s.timeout("S5")
    s.timeout("S5")
    s.deliver({"S2", "S3", "S4", "S5"})  # S5 leads and overwrites entry 1
    return figure

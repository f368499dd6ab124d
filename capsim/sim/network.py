"""The network: latency, loss and cuts between replicas, on a networkx graph.

A message becomes one SimPy timeout whose callback delivers it; no process
per message, which keeps the engine close to bare SimPy's event rate. A
message is dropped when its link is cut when it is sent or when it would
arrive (the sender only learns by timeout), when it is lost (the link's loss
probability), or when its destination is down on arrival.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx
import simpy
from simpy.events import Timeout

from capsim.distributions import Sampler
from capsim.scenario import NetworkSpec

Deliver = Callable[[str, str, dict[str, Any], int], None]
"""``deliver(src, dst, msg, journal_index)``: hand a message to its node."""


def build_graph(nodes: Iterable[str], spec: NetworkSpec) -> nx.Graph:
    """A full mesh whose edges carry a latency spec and a loss probability."""
    g = nx.complete_graph(list(nodes))
    for u, v in g.edges:
        g.edges[u, v]["latency"] = spec.latency
        g.edges[u, v]["loss"] = spec.loss
    for link in spec.links:
        a, b = link.between
        if link.latency is not None:
            g.edges[a, b]["latency"] = link.latency
        if link.loss is not None:
            g.edges[a, b]["loss"] = link.loss
    return g


class Network:
    """Carries messages between nodes in simulated time.

    ``journal`` keeps one row per message, ``[sent, src, dst, kind, end,
    status]`` with status ``delivered``, ``lost``, ``cut`` or ``down``; the
    space-time diagram is drawn from it, never from the engine.
    """

    def __init__(
        self,
        env: simpy.Environment,
        graph: nx.Graph,
        rng: random.Random,
        deliver: Deliver,
        *,
        is_up: Callable[[str], bool],
        record: bool = True,
    ) -> None:
        self.env = env
        self.rng = rng
        self.deliver = deliver
        self.is_up = is_up
        self.record = record
        self.blocked: set[tuple[str, str]] = set()
        self.journal: list[list[Any]] = []
        self._links: dict[tuple[str, str], tuple[Sampler, float]] = {}
        for u, v, data in graph.edges(data=True):
            link = (data["latency"].sampler(), float(data["loss"]))
            self._links[(u, v)] = link
            self._links[(v, u)] = link

    # --- faults ---------------------------------------------------------------
    def partition(self, groups: list[list[str]], nodes: list[str]) -> None:
        """Replace every cut with this partition; unnamed nodes form one more group."""
        named = {n for g in groups for n in g}
        rest = [n for n in nodes if n not in named]
        full = [list(g) for g in groups] + ([rest] if rest else [])
        side = {n: i for i, g in enumerate(full) for n in g}
        self.blocked = {(a, b) for a in nodes for b in nodes if side[a] != side[b]}

    def cut(self, src: list[str], dst: list[str]) -> None:
        """Add a one-way cut: messages from ``src`` nodes to ``dst`` nodes are dropped."""
        self.blocked |= {(a, b) for a in src for b in dst if a != b}

    def heal(self) -> None:
        self.blocked = set()

    # --- messages -------------------------------------------------------------
    def send(self, src: str, dst: str, msg: dict[str, Any], kind: str) -> None:
        link = self._links.get((src, dst))
        now = self.env.now
        if link is None:  # not adjacent in the topology
            if self.record:
                self.journal.append([now, src, dst, kind, now, "cut"])
            return
        sample, loss = link
        delay = sample(self.rng)
        if (src, dst) in self.blocked or (loss and self.rng.random() < loss):
            if self.record:
                status = "cut" if (src, dst) in self.blocked else "lost"
                self.journal.append([now, src, dst, kind, now + delay, status])
            return
        idx = -1
        if self.record:
            idx = len(self.journal)
            self.journal.append([now, src, dst, kind, now + delay, "delivered"])
        ev = Timeout(self.env, delay, (src, dst, msg, idx))
        ev.callbacks.append(self._arrive)

    def _arrive(self, ev: simpy.Event) -> None:
        src, dst, msg, idx = ev._value
        if (src, dst) in self.blocked:
            if idx >= 0:
                self.journal[idx][5] = "cut"
            return
        if not self.is_up(dst):
            if idx >= 0:
                self.journal[idx][5] = "down"
            return
        self.deliver(src, dst, msg, idx)

"""The network: latency, loss and cuts between replicas, on a full mesh of links.

A message becomes one SimPy timeout whose callback delivers it; no process
per message, which keeps the engine close to bare SimPy's event rate. A
message is dropped when its link is cut when it is sent or when it would
arrive (the sender only learns by timeout), when it is lost (the link's loss
probability), or when its destination is down on arrival.

A node may send to itself: a client-side quorum coordinator does, since in
the PBS model every replica, the client's own included, is one message delay
away. Such a message takes the default latency (with a latency preset, the
one for its kind, without the WAN penalty) and is never cut or lost: the
client and its home replica sit side by side.

With a latency preset (``network: {latency: LNKD-SSD}``) a message's delay
depends on its ``kind``: ``W``, ``A``, ``R`` and ``S`` get the model's four
delays, any other kind its ``R`` delay. Under ``WAN`` every node is its own
datacenter, so messages between two different nodes pay the model's 75 ms.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import simpy
from simpy.events import Timeout

from capsim.distributions import Sampler
from capsim.journal import MessageLog
from capsim.latency import DelayKind, get_model
from capsim.scenario import Latency, NetworkSpec

Deliver = Callable[[str, str, dict[str, Any], int], None]
"""``deliver(src, dst, msg, journal_index)``: hand a message to its node."""

_Link = tuple[Sampler, float, dict[str, Sampler] | None]

PRESET_KINDS: dict[str, DelayKind] = {"W": "w", "A": "a", "R": "r", "S": "s"}
"""Message kinds a latency preset times with its own delay (the PBS paper's WARS)."""


def link_samplers(latency: Latency, *, remote: bool) -> tuple[Sampler, dict[str, Sampler] | None]:
    """A link's default sampler, and per-kind samplers when ``latency`` is a preset.

    ``remote``: the link joins two datacenters (only WAN makes that cost more).
    """
    if not isinstance(latency, str):
        return latency.sampler(), None
    model = get_model(latency)
    by_kind = {kind: model.sampler(d, remote=remote) for kind, d in PRESET_KINDS.items()}
    return by_kind["R"], by_kind


def link_rng(seed: int, src: str, dst: str) -> random.Random:
    """The generator of one directed link's latency and loss draws.

    One stream per link, seeded by the run's seed and the link's ends, and
    consumed once per message in the order the link carries them: the live
    runtime's proxies use the very same streams, so the i-th message from G1
    to G2 is delayed (or lost) alike in a simulated and a live run, whatever
    other links carry meanwhile.
    """
    return random.Random(f"{seed}:{src}->{dst}")


class Topology(NamedTuple):
    """A full mesh: each undirected link's latency spec and loss, plus a node's own latency.

    A dict, not a graph library's object: the mesh is all the simulator needs,
    and building it costs microseconds where importing networkx cost about a
    third of a small run's start-up (issue 21).
    """

    nodes: list[str]
    links: dict[frozenset[str], tuple[Latency, float]]
    own: Latency
    """The latency of a node's messages to itself."""

    def link(self, a: str, b: str) -> tuple[Latency, float]:
        """``(latency, loss)`` from ``a`` to ``b``; a node's messages to itself are never lost."""
        return (self.own, 0.0) if a == b else self.links[frozenset((a, b))]


def build_graph(nodes: Iterable[str], spec: NetworkSpec) -> Topology:
    """A full mesh whose links carry a latency spec and a loss probability."""
    names = list(nodes)
    links = {frozenset((u, v)): (spec.latency, spec.loss)
             for i, u in enumerate(names) for v in names[i + 1:]}
    for link in spec.links:
        key = frozenset(link.between)
        latency, loss = links[key]
        links[key] = (latency if link.latency is None else link.latency,
                      loss if link.loss is None else link.loss)
    return Topology(names, links, spec.latency)


def carried(msg: dict[str, Any]) -> Any:
    """The value a message carries, for the message diagram (None if not one value).

    Policies' messages are JSON dicts; a write or a reply names ``value``,
    an anti-entropy ``sync`` of one key holds ``state = {key: [value, ver]}``.
    """
    if "value" in msg:
        return msg["value"]
    state = msg.get("state")
    if isinstance(state, dict) and len(state) == 1:
        entry = next(iter(state.values()))
        if isinstance(entry, (list, tuple)) and entry:
            return entry[0]
    return None


class Network:
    """Carries messages between nodes in simulated time.

    ``journal`` keeps one row per message (sent, src, dst, kind, end,
    status, carried value) with status ``delivered``, ``lost``, ``cut`` or
    ``down``, in compact columns (:class:`~capsim.journal.MessageLog`); the
    space-time diagram is drawn from it, never from the engine.
    """

    def __init__(
        self,
        env: simpy.Environment,
        graph: Topology,
        rng: random.Random,
        deliver: Deliver,
        *,
        is_up: Callable[[str], bool],
        record: bool = True,
        seed: int | None = None,
        journal: MessageLog | None = None,
    ) -> None:
        self.env = env
        self.rng = rng
        self.seed = seed
        """With a seed, each directed link draws from its own :func:`link_rng`."""
        self._rngs: dict[tuple[str, str], random.Random] = {}
        self.deliver = deliver
        self.is_up = is_up
        self.record = record
        self.blocked: set[tuple[str, str]] = set()
        self.journal = MessageLog() if journal is None else journal
        # (src, dst) -> (sampler, loss, per-kind samplers or None)
        self._links: dict[tuple[str, str], _Link] = {}
        for pair, (latency, loss) in graph.links.items():
            u, v = sorted(pair)
            sample, by_kind = link_samplers(latency, remote=True)
            self._links[(u, v)] = self._links[(v, u)] = (sample, float(loss), by_kind)
        for n in graph.nodes:
            sample, by_kind = link_samplers(graph.own, remote=False)
            self._links[(n, n)] = (sample, 0.0, by_kind)

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
                self.journal.append(now, src, dst, kind, now, "cut", carried(msg))
            return
        sample, loss, by_kind = link
        if by_kind is not None:
            sample = by_kind.get(kind, sample)
        rng = self.rng
        if self.seed is not None:
            rng = self._rngs.get((src, dst)) or self._rngs.setdefault(
                (src, dst), link_rng(self.seed, src, dst))
        delay = sample(rng)
        if not delay < math.inf:
            # A heavy tail's draw can overflow (pareto alpha near 0, lognormal mu
            # 1000): such a message would arrive after the end of any run.
            if self.record:
                self.journal.append(now, src, dst, kind, now, "lost", carried(msg))
            return
        if (src, dst) in self.blocked or (loss and rng.random() < loss):
            if self.record:
                status = "cut" if (src, dst) in self.blocked else "lost"
                self.journal.append(now, src, dst, kind, now + delay, status, carried(msg))
            return
        idx = -1
        if self.record:
            idx = self.journal.append(now, src, dst, kind, now + delay, "delivered", carried(msg))
        ev = Timeout(self.env, delay, (src, dst, msg, idx))
        ev.callbacks.append(self._arrive)

    def _arrive(self, ev: simpy.Event) -> None:
        src, dst, msg, idx = ev._value
        if (src, dst) in self.blocked:
            if idx >= 0:
                self.journal.set_status(idx, "cut")
            return
        if not self.is_up(dst):
            if idx >= 0:
                self.journal.set_status(idx, "down")
            return
        self.deliver(src, dst, msg, idx)

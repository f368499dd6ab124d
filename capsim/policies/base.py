"""The policy interface: a sans-I/O state machine.

A policy never touches SimPy, sockets or clocks. The runtime hands it events
(a client request, a peer message, a timer firing, each with the current
time) and carries out the effects it returns: send this message, answer that
client, start that timer. The same policy object therefore runs in the
simulator and over real sockets, and a test can drive it with plain calls.

Messages are JSON-friendly dicts (strings, numbers, lists, dicts), since the
live runtime sends them as JSON; a version travels as a list and comes back
as a list, so policies normalise with ``tuple(...)``.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError


class Request(NamedTuple):
    """A client's request, as the home replica receives it."""

    id: int
    f: str
    key: str
    value: Any = None


class Send(NamedTuple):
    """Send ``msg`` to node ``dst``; ``kind`` labels it for latency models and diagrams."""

    dst: str
    msg: dict[str, Any]
    kind: str


class Reply(NamedTuple):
    """Answer client request ``request``: ``ok``, ``fail`` (did not happen) or ``info``."""

    request: int
    type: str
    value: Any = None
    error: str | None = None


class SetTimer(NamedTuple):
    """Call ``on_timer(now, token)`` after ``delay`` seconds (cancelled by a crash)."""

    delay: float
    token: Any


class Stored(NamedTuple):
    """An observation, not an action: this replica now holds ``value`` for ``key``."""

    key: str
    value: Any


class Marked(NamedTuple):
    """An observation: this replica's ``key`` is now in state ``mark`` (None: back to normal).

    Pictures draw it on the replica's lane (``lock``: "locked" while a write
    holds the key), so they show a policy's state without reading its
    internals. Like :class:`Stored` it changes nothing in the run.
    """

    key: str
    mark: str | None


class Role(NamedTuple):
    """An observation, not an action: this replica is now ``role`` in ``term``.

    Leader-based policies (``raft``) return it whenever role, term or commit
    index change, so runs record elections and plots can draw them without
    peeking at policy internals. ``leader`` is the leader this node knows.
    """

    role: str
    term: int
    commit: int = 0
    leader: str | None = None


Effect = Send | Reply | SetTimer | Stored | Role | Marked

Version = tuple[int, str]
"""A version stamp: (counter, node id). Node ids break ties deterministically."""

ZERO: Version = (0, "")


def version(v: Any) -> Version:
    """Normalise a version that may have travelled as a JSON list."""
    return (int(v[0]), str(v[1]))


class NoParams(BaseModel):
    """A policy without tunables."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Policy:
    """Base class: how one replica serves requests. Subclass and register it.

    ``supports`` lists the operations the policy offers; the simulator refuses
    a scenario that asks for others (e.g. ``cas`` needs consensus, which a
    quorum register cannot provide).

    ``rng`` is this node's own random generator (``raft`` draws its election
    timeouts from it). A policy must never use the global ``random``: the
    runtime hands each node one seeded from the run's seed and the node's
    name (:func:`node_rng`), so the same scenario and seed give the same
    history in the simulator, and every replica process of a live run draws
    the same numbers as its simulated twin.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    supports: ClassVar[frozenset[str]] = frozenset({"read", "write"})
    #: Why replicas may legitimately still differ at the end of a run (a policy
    #: without anti-entropy), shown beside "convergence: never"; None when the
    #: policy does promise convergence after a heal.
    no_convergence: ClassVar[str | None] = None
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(
        self,
        node: str,
        nodes: Sequence[str],
        initial: Mapping[str, Any],
        params: BaseModel,
        *,
        timeout: float,
        rng: random.Random | None = None,
    ) -> None:
        self.node = node
        self.rng = rng if rng is not None else node_rng(0, node)
        self.nodes = list(nodes)
        self.peers = [n for n in nodes if n != node]
        self.params = params
        self.timeout = timeout
        self.initial = dict(initial)

    @classmethod
    def describe(cls, params: Mapping[str, Any], nodes: int) -> str:
        """How tables and plots name this policy with these tunables.

        The default shows the tunables that differ from their defaults, so
        ``ap`` stays ``ap`` and ``ap sync_interval=0.5`` says what changed.
        """
        try:
            defaults = cls.Params().model_dump(mode="json")
        except ValidationError:  # a Params without defaults: show everything
            defaults = {}
        changed = [f"{k}={v}" for k, v in params.items() if defaults.get(k, object()) != v]
        return " ".join([cls.name, *changed])

    def start(self, now: float) -> list[Effect]:
        """Called once when the replica boots; returns initial timers."""
        return []

    def on_request(self, now: float, req: Request) -> list[Effect]:
        raise NotImplementedError

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        raise NotImplementedError

    def on_timer(self, now: float, token: Any) -> list[Effect]:
        return []

    def on_crash(self) -> None:
        """Forget volatile state; what is durable survives (see each policy)."""

    def on_recover(self, now: float) -> list[Effect]:
        """Back after a crash with durable state only; restart periodic work."""
        return self.start(now)

    def value_of(self, key: str) -> Any:
        """The value this replica holds for ``key`` (for traces and convergence)."""
        raise NotImplementedError

    # --- durability: what survives a crash of a real process -------------------
    # The simulator keeps the policy object across a crash (``on_crash`` drops
    # the volatile part). The live runtime loses the whole process, so it saves
    # ``durable_state()`` (as JSON, atomically, before any effect leaves the
    # replica) and a restarted process calls ``restore`` and then ``on_recover``.
    # The default covers the usual shape, ``self.store = {key: (value,
    # version)}``; a policy with more durable state (a clock, a lock table)
    # overrides both methods and calls ``super()``.

    def durable_state(self) -> dict[str, Any]:
        """What survives a crash, as JSON-friendly data (default: ``self.store``, if any)."""
        store = getattr(self, "store", None)
        return {"store": dump_store(store)} if isinstance(store, dict) else {}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take back what :meth:`durable_state` returned (after a JSON round trip)."""
        if "store" in state:
            self.store = load_store(state["store"])


    # --- snapshots: the explorer's view of a replica --------------------------
    # ``capsim explore`` searches every schedule, so it must save a replica's
    # state, try one event, and go back. The contract:
    #
    # * ``snapshot()`` returns ALL the replica's state, volatile and durable
    #   (operations in flight, counters, locks — not the constant
    #   configuration: node, peers, params, timeout), as an immutable,
    #   hashable and canonical value: two replicas in the same state give
    #   equal snapshots, whatever order things happened in (sort dicts and
    #   sets into tuples). The explorer stores snapshots in its visited set.
    # * ``restore_snapshot(snap)`` puts the replica back into exactly that
    #   state, on this object or on a fresh one built with the same
    #   arguments; after it, every handler returns the same effects as the
    #   original replica would have.
    # * Determinism: the handlers' effects depend only on the state and the
    #   arguments. No clocks, no randomness, no iteration over unordered sets
    #   whose order can differ between equal states: time arrives as ``now``.
    #
    # This is not ``restore()``: that one takes back the *durable* part after a
    # real process restarted (live mode); a snapshot is the whole state.

    def snapshot(self) -> Hashable:
        """The replica's whole state, canonical and hashable (see the contract above)."""
        raise NotImplementedError(f"policy {self.name!r} does not support snapshots")

    def restore_snapshot(self, snap: Hashable) -> None:
        """Become exactly the replica :meth:`snapshot` described."""
        raise NotImplementedError(f"policy {self.name!r} does not support snapshots")


def freeze_store(store: Mapping[str, tuple[Any, Any]]) -> tuple[tuple[str, Any, Any], ...]:
    """``{key: (value, version)}`` as a sorted tuple, for snapshots."""
    return tuple((k, v, ver) for k, (v, ver) in sorted(store.items()))


def thaw_store(items: Any) -> dict[str, tuple[Any, Any]]:
    """Undo :func:`freeze_store`."""
    return {k: (v, ver) for k, v, ver in items}


def node_rng(seed: int, node: str) -> random.Random:
    """The generator a runtime hands node ``node`` of a run seeded ``seed``.

    Seeded from a string, so it is the same in every process and Python
    version (string seeds are hashed with SHA-512), and independent of the
    run's own generator (the network's draws do not shift a node's).
    """
    return random.Random(f"capsim-node:{seed}:{node}")


def dump_store(store: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """``{key: (value, version)}`` as JSON-friendly ``{key: [value, version-as-list]}``."""
    return {k: [v, _listify(ver)] for k, (v, ver) in sorted(store.items())}


def load_store(data: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Undo :func:`dump_store`: versions come back as (nested) tuples, so they compare."""
    return {str(k): (v[0], _tuplify(v[1])) for k, v in data.items()}


def _listify(x: Any) -> Any:
    return [_listify(i) for i in x] if isinstance(x, (tuple, list)) else x


def _tuplify(x: Any) -> Any:
    return tuple(_tuplify(i) for i in x) if isinstance(x, list) else x

"""Hypothesis strategies that generate capsim scenarios, for your own CAP properties.

A property is a claim that holds for *every* scenario of some kind ("under
``cp`` every history is linearizable"). Hypothesis draws many scenarios from
the strategies below, runs each one, and when a claim fails it shrinks the
scenario to a small one that still fails: few nodes, few operations, early
times, constant latencies. Every scenario carries its own ``seed``, so a
failing run replays exactly (see :func:`capsim.testing.note_reproduction`).

The building blocks can be used on their own or through :func:`scenarios`,
whose keyword arguments constrain what is drawn::

    from hypothesis import given
    from capsim import simulate
    from capsim.testing import strategies as cst

    @given(cst.scenarios(nodes=2, partitioned=True, policy="ap"))
    def test_ap_answers_during_partitions(scenario):
        result = simulate(scenario)
        assert result.checks["availability"]["during_partition"] in (None, 1.0)

Conventions:

* Times are multiples of :data:`TICK` (50 ms) and shrink towards 0, so a
  shrunk counterexample reads like a hand-written story.
* Tri-state flags (``partitioned``, ``crashes``, ``loss``, ``workload``…):
  ``True`` forces the feature, ``False`` forbids it, ``None`` lets
  hypothesis decide (and shrink towards "off").
* Nodes are named ``G1``, ``G2``, … as in the course; clients ``c1``, ``c2``, …
  Written values are unique per key (``v1``, ``v2``, …, the initial value is
  ``v0``), which keeps histories easy to read and to check.

Only this package imports hypothesis; the simulator itself never needs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache, wraps
from typing import Any, TypeVar

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "capsim.testing needs hypothesis: pip install hypothesis "
        "(or install capsim with its [test] extra)"
    ) from exc

from capsim.distributions import (
    Component,
    Constant,
    Exponential,
    LogNormal,
    Mixture,
    Pareto,
    Uniform,
)
from capsim.history import Event, History
from capsim.policies import REGISTRY
from capsim.scenario import Scenario, parse_scenario

_F = TypeVar("_F", bound=Callable[..., Any])

TICK = 0.05
"""The time grid of generated schedules, in seconds."""

MAX_SEED = 2**32 - 1

Flag = bool | None
"""``True`` forces a feature, ``False`` forbids it, ``None`` lets hypothesis choose."""


def at(ticks: int) -> float:
    """``ticks`` × :data:`TICK` seconds, rounded (YAML shows 0.15, not 0.15000000000000002)."""
    return round(ticks * TICK, 6)


def node_names(n: int) -> list[str]:
    """``["G1", …, "Gn"]``: the course's replica names."""
    if n < 1:
        raise ValueError(f"a cluster needs at least one node (got {n})")
    return [f"G{i}" for i in range(1, n + 1)]


def key_names(n: int) -> list[str]:
    """The keys a scenario with ``n`` keys uses: ``x`` alone, or ``k0``…``k{n-1}``.

    They match the keys a generated :class:`capsim.scenario.Workload` uses, so
    scheduled operations and the workload touch the same registers.
    """
    if n < 1:
        raise ValueError(f"a scenario needs at least one key (got {n})")
    return ["x"] if n == 1 else [f"k{i}" for i in range(n)]


def _flag(draw: st.DrawFn, flag: Flag) -> bool:
    return draw(st.booleans()) if flag is None else bool(flag)


# Strategy objects are validated the first time they are drawn from, which
# costs more than the draw; generated scenarios draw thousands of small
# integers, so the strategies are built once per distinct argument tuple.


class _FrozenDict(dict):
    """A dict that can be a cache key (never mutated after it is made)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return _FrozenDict((k, _freeze(x)) for k, x in v.items())
    return v


def _cached(factory: _F) -> _F:
    """Build a strategy once per distinct arguments (lists count as tuples)."""
    memo = cache(factory)

    @wraps(factory)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return memo(*(_freeze(a) for a in args), **{k: _freeze(v) for k, v in kwargs.items()})

    return wrapper  # type: ignore[return-value]


@cache
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=lo, max_value=max(lo, hi))


@cache
def _pick(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


@_cached
def seeds() -> st.SearchStrategy[int]:
    """A run seed; it goes into the scenario (``seed:``), so the YAML replays the run."""
    return st.integers(min_value=0, max_value=MAX_SEED)


# --- latency ------------------------------------------------------------------


def _ms(lo: int, hi: int) -> st.SearchStrategy[float]:
    return st.integers(min_value=lo, max_value=max(lo, hi)).map(lambda m: m / 1000)


def _bounded_parts(min_ms: int, max_ms: int) -> st.SearchStrategy[Any]:
    constant = st.builds(lambda v: Constant(dist="constant", value=v), _ms(min_ms, max_ms))
    uniform = st.tuples(_ms(min_ms, max_ms), _ms(min_ms, max_ms)).map(
        lambda p: Uniform(dist="uniform", low=min(p), high=max(p))
    )
    return st.one_of(constant, uniform)


def _tailed_parts(min_ms: int, max_ms: int) -> st.SearchStrategy[Any]:
    exponential = st.builds(
        lambda mean, shift: Exponential(dist="exponential", mean=mean, shift=shift),
        _ms(max(min_ms, 1), max_ms), _ms(min_ms, max_ms // 2),
    )
    lognormal = st.builds(
        lambda median, sigma: LogNormal(dist="lognormal", mu=_ln(median), sigma=sigma),
        _ms(max(min_ms, 1), max_ms), st.sampled_from([0.5, 0.25, 1.0, 1.5]),
    )
    pareto = st.builds(
        lambda xm, alpha: Pareto(dist="pareto", xm=xm, alpha=alpha),
        _ms(max(min_ms, 1), max(1, max_ms // 2)), st.sampled_from([3.0, 1.5, 2.0, 5.0]),
    )
    return st.one_of(exponential, lognormal, pareto)


def _ln(seconds: float) -> float:
    return round(math.log(seconds), 6)


@_cached
def latencies(
    *, bounded: bool = False, min_latency: float = 0.001, max_latency: float = 0.2
) -> st.SearchStrategy[Any]:
    """A latency distribution (a :mod:`capsim.distributions` spec).

    ``bounded=True`` draws only distributions with a finite
    ``upper_bound()`` (constant, uniform, and mixtures of them), for claims
    that need a bound on message delay, such as "replicas converge within
    sync_interval + the largest delay". Otherwise exponential, log-normal and
    Pareto tails (and mixtures with them) are drawn too. Values are whole
    milliseconds between ``min_latency`` and ``max_latency`` seconds (tails
    may exceed the maximum); they shrink towards a constant ``min_latency``.
    """
    lo, hi = round(min_latency * 1000), round(max_latency * 1000)
    if lo < 0 or hi < lo:
        raise ValueError(f"need 0 <= min_latency <= max_latency (got {min_latency}, {max_latency})")
    parts = _bounded_parts(lo, hi) if bounded else st.one_of(
        _bounded_parts(lo, hi), _tailed_parts(lo, hi)
    )
    mixture = st.lists(
        st.tuples(st.integers(min_value=1, max_value=9), parts), min_size=2, max_size=3
    ).map(
        lambda cs: Mixture(
            dist="mixture",
            components=[Component(weight=w, of=d) for w, d in cs],
        )
    )
    return st.one_of(parts, mixture)


@_cached
def losses(*, max_loss: float = 0.3) -> st.SearchStrategy[float]:
    """A message-loss probability: whole percents from 1 % to ``max_loss``."""
    return st.integers(min_value=1, max_value=max(1, round(max_loss * 100))).map(
        lambda p: p / 100
    )


# --- faults -------------------------------------------------------------------


@_cached
@st.composite
def partitions(
    draw: st.DrawFn, nodes: Sequence[str], *, separating: Sequence[str] = ()
) -> list[list[str]]:
    """Groups of nodes that can only talk inside their group (at least two groups).

    Every node is named in exactly one group. ``separating`` lists nodes that
    must end up in pairwise different groups (e.g. ``("G1", "G2")`` for the
    CAP story's G1 | G2). Shrinks towards cutting off the last node alone.
    """
    nodes = list(nodes)
    if len(nodes) < 2:
        raise ValueError("a partition needs at least two nodes")
    unknown = [n for n in separating if n not in nodes]
    if unknown:
        raise ValueError(f"separating names unknown nodes {unknown}; nodes are {nodes}")
    if len(set(separating)) > len(nodes):
        raise ValueError("cannot separate more nodes than there are")
    # Separating node i owns label i; every other node draws a label, and a
    # label below len(separating) means "join that node's group".
    label = {n: i for i, n in enumerate(separating)}
    for n in nodes:
        if n not in label:
            label[n] = draw(_ints(0, len(nodes) - 1))
    if len(set(label.values())) < 2:
        label[nodes[-1]] = -1
    groups: dict[int, list[str]] = {}
    for n in nodes:
        groups.setdefault(label[n], []).append(n)
    return sorted(groups.values(), key=lambda g: nodes.index(g[0]))


@_cached
@st.composite
def cuts(draw: st.DrawFn, nodes: Sequence[str]) -> dict[str, list[str]]:
    """A one-way cut: messages from the ``from`` nodes to the ``to`` nodes are dropped."""
    nodes = list(nodes)
    if len(nodes) < 2:
        raise ValueError("a cut needs at least two nodes")
    groups = draw(partitions(nodes))
    i = draw(_ints(0, len(groups) - 1))
    src = groups[i]
    dst = [n for n in nodes if n not in src]
    return {"from": src, "to": dst}


@_cached
@st.composite
def nemesis_schedules(
    draw: st.DrawFn,
    nodes: Sequence[str],
    *,
    partitioned: Flag = None,
    crashes: Flag = False,
    cuts_allowed: bool = False,
    heal: Flag = True,
    max_faults: int = 3,
    separating: Sequence[str] = (),
    max_gap: int = 20,
    max_length: int = 60,
) -> list[dict[str, Any]]:
    """A fault schedule: nemesis events in time order, as scenario YAML has them.

    Two tracks are drawn and merged: the network (partitions, and one-way
    cuts if ``cuts_allowed``, each followed by a heal) and crashes (one node
    at a time, each followed by its recovery), so a crash may fall inside a
    partition. ``partitioned``/``crashes``: at least one such fault
    (``True``), none (``False``) or hypothesis' choice (``None``).
    ``heal=True`` ends every fault (heal, recover) before the schedule ends;
    ``False`` leaves the last ones in force; ``None`` chooses. Gaps between
    faults and fault lengths are at most ``max_gap`` and ``max_length`` ticks.
    ``separating`` is passed to :func:`partitions` for every partition.
    """
    nodes = list(nodes)
    if len(nodes) < 2:
        partitioned = False if partitioned is None else partitioned
        if partitioned:
            raise ValueError("a partition needs at least two nodes")
        cuts_allowed = False
    events: list[tuple[int, int, dict[str, Any]]] = []
    healed = _flag(draw, heal)

    n_net = 0 if partitioned is False else draw(_ints(1 if partitioned else 0, max(1, max_faults)))
    t = 0
    for i in range(n_net):
        t += draw(_ints(0 if i == 0 else 1, max_gap))
        # partitioned=True promises a real partition: the first fault is one.
        use_cut = cuts_allowed and not (partitioned and i == 0) and draw(st.booleans())
        if use_cut:
            events.append((t, 0, {"cut": draw(cuts(nodes))}))
        else:
            events.append((t, 0, {"partition": draw(partitions(nodes, separating=separating))}))
        t += draw(_ints(1, max_length))
        if healed or i < n_net - 1:
            events.append((t, 0, {"heal": True}))

    n_crash = (
        draw(_ints(1 if crashes else 0, max(1, max_faults)))
        if crashes is not False
        else 0
    )
    t = 0
    for i in range(n_crash):
        t += draw(_ints(0 if i == 0 else 1, max_gap))
        node = draw(_pick(tuple(nodes)))
        events.append((t, 1, {"crash": node}))
        t += draw(_ints(1, max_length))
        if healed or i < n_crash - 1:
            events.append((t, 1, {"recover": node}))

    events.sort(key=lambda e: (e[0], e[1]))
    return [{"at": at(tick), **ev} for tick, _, ev in events]


# --- clients and operations ---------------------------------------------------


@_cached
@st.composite
def client_lists(
    draw: st.DrawFn,
    nodes: Sequence[str],
    *,
    max_per_node: int = 2,
    every_node: bool = False,
) -> list[dict[str, str]]:
    """Clients ``c1``, ``c2``, …: up to ``max_per_node`` on each node (at least one in all).

    Several clients on one node is how two concurrent requests reach the same
    coordinator, a classic source of replication bugs. ``every_node``: at
    least one client on every node.
    """
    homes: list[str] = []
    for n in nodes:
        homes += [n] * draw(_ints(1 if every_node else 0, max(1, max_per_node)))
    if not homes:
        homes = [nodes[0]]
    return [{"name": f"c{i + 1}", "node": n} for i, n in enumerate(homes)]


@_cached
@st.composite
def operation_schedules(
    draw: st.DrawFn,
    clients: Sequence[str],
    *,
    homes: Mapping[str, str] | None = None,
    keys: Sequence[str] = ("x",),
    fs: Sequence[str] = ("read", "write"),
    min_ops: int = 1,
    max_ops: int = 8,
    max_time: int = 80,
    min_write_gap: float = 0.0,
    initial: Any = "v0",
) -> list[dict[str, Any]]:
    """Scheduled operations in time order, as scenario YAML has them.

    Each op is drawn as (tick ≤ ``max_time``, client, kind from ``fs``, key).
    About half of them are "twins" of an earlier op: same time (or one tick
    later), same kind and key, from another client on the same home node when
    ``homes`` (client → node) says there is one. Concurrent requests to one
    coordinator are where replication bugs hide.
    Writes get fresh values per key (``v1``, ``v2``, … in time order); a
    ``cas`` expects the initial value or a value written earlier and sets a
    fresh one. ``min_write_gap`` (seconds) spaces writes to the same key at
    least that far apart, for claims about what happens *between* writes.
    """
    if not clients:
        raise ValueError("operations need at least one client")
    bad = [f for f in fs if f not in ("read", "write", "cas")]
    if bad or not fs:
        raise ValueError(f"fs must be a non-empty subset of read, write, cas (got {list(fs)})")
    n = draw(_ints(min_ops, max(min_ops, max_ops)))
    names = tuple(clients)
    raw: list[tuple[int, str, str, str]] = []
    for _ in range(n):
        if len(raw) > 0 and draw(st.booleans()):
            tick, other, f, k = raw[draw(_ints(0, len(raw) - 1))]
            tick = min(max_time, tick + draw(_ints(0, 1)))
            near = tuple(c for c in names if c != other
                         and (homes is None or homes.get(c) == homes.get(other)))
            client = draw(_pick(near)) if near else draw(_pick(names))
            raw.append((tick, client, f, k))
            continue
        raw.append((
            draw(_ints(0, max_time)),
            draw(_pick(names)),
            draw(_pick(tuple(fs))),
            draw(_pick(tuple(keys))),
        ))
    timed: list[tuple[float, int, str, str, str]] = [
        (at(tick), i, c, f, k) for i, (tick, c, f, k) in enumerate(raw)
    ]
    timed.sort()
    if min_write_gap > 0:
        last: dict[str, float] = {}
        spaced = []
        for t, i, c, f, k in timed:
            if f != "read":
                if k in last and t < last[k] + min_write_gap:
                    t = round(last[k] + min_write_gap, 6)
                last[k] = t
            spaced.append((t, i, c, f, k))
        timed = sorted(spaced)
    counter = dict.fromkeys(keys, 0)
    written: dict[str, list[Any]] = {k: [initial] for k in keys}
    ops: list[dict[str, Any]] = []
    for t, _, c, f, k in timed:
        if f == "read":
            ops.append({"at": t, "client": c, "read": k})
            continue
        counter[k] += 1
        value = f"v{counter[k]}"
        if f == "write":
            ops.append({"at": t, "client": c, "write": {k: value}})
        else:
            expected = written[k][draw(_ints(0, len(written[k]) - 1))]
            ops.append({"at": t, "client": c, "cas": {k: [expected, value]}})
        written[k].append(value)
    return ops


@_cached
@st.composite
def workloads(
    draw: st.DrawFn,
    *,
    keys: int = 1,
    fs: Sequence[str] = ("read", "write"),
    max_rate: int = 40,
    max_clients: int = 6,
    horizon: int = 80,
    max_length: int = 40,
) -> dict[str, Any]:
    """A generated workload: Poisson arrivals in a burst of at most ``max_length`` ticks.

    The burst starts within ``horizon`` ticks. Bursts of up to ``max_rate``
    ops/s from up to ``max_clients`` clients (spread round-robin over the
    nodes, so several share a replica) make concurrent requests common while
    keeping histories short.
    """
    reads = draw(_ints(0, 10)) / 10 if "read" in fs else 0.0
    if "write" not in fs and "cas" not in fs:
        reads = 1.0
    cas = 0.0
    if "cas" in fs:
        cas = draw(_ints(0, round((1 - reads) * 10))) / 10
        if "write" not in fs:
            cas = round(1 - reads, 6)
    start = draw(_ints(0, horizon))
    length = draw(_ints(1, max_length))
    out: dict[str, Any] = {
        "rate": draw(_ints(1, max_rate)),
        "reads": reads,
        "keys": keys,
        "clients": draw(_ints(1, max_clients)),
        "start": at(start),
        "end": at(start + length),
    }
    if cas:
        out["cas"] = cas
    return out


# --- whole scenarios ------------------------------------------------------------


def _node_list(draw: st.DrawFn, nodes: int | tuple[int, int] | Sequence[str]) -> list[str]:
    if isinstance(nodes, int):
        return node_names(nodes)
    if isinstance(nodes, tuple) and len(nodes) == 2 and all(isinstance(x, int) for x in nodes):
        lo, hi = nodes
        return node_names(draw(_ints(lo, hi)))
    names = [str(n) for n in nodes]
    if not names:
        raise ValueError("nodes must not be empty")
    return names


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    nodes: int | tuple[int, int] | Sequence[str] = (2, 5),
    policy: str | None = "cp",
    params: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
    partitioned: Flag = None,
    crashes: Flag = None,
    cuts: bool = False,
    heal: Flag = True,
    separating: Sequence[str] = (),
    loss: Flag = None,
    latency: Any = None,
    bounded_latency: bool = False,
    max_latency: float = 0.2,
    workload: Flag = False,
    keys: int = 1,
    fs: Sequence[str] | None = None,
    min_ops: int = 1,
    max_ops: int = 8,
    max_faults: int = 3,
    min_write_gap: float = 0.0,
    every_node_has_client: bool = False,
    timeout: float | None = None,
    settle: float = 0.0,
    final_reads: bool = False,
) -> Scenario:
    """A whole, valid :class:`~capsim.scenario.Scenario`, with a drawn ``seed``.

    Tri-state flags (``True`` forces, ``False`` forbids, ``None`` lets
    hypothesis choose) are marked *flag*.

    Args:
        draw: supplied by hypothesis; do not pass it.
        nodes: how many replicas (an int, or an inclusive ``(low, high)``
            range), or their names.
        policy: the scenario's policy (a registry name), or ``None`` to draw
            one from the registry.
        params: the policy's tunables (``{"sync_interval": 0.5}``), or a
            strategy drawing them.
        partitioned: *flag*, at least one partition.
        crashes: *flag*, at least one crash (each followed by a recovery when
            ``heal``).
        cuts: also draw one-way cuts among the network faults.
        heal: *flag*, every fault ends (heal, recover) before the run's tail.
        separating: nodes every partition must keep apart.
        loss: *flag*, messages may be lost (a 1–30 % probability).
        latency: a fixed latency spec (dict or distribution) instead of a
            drawn one.
        bounded_latency: draw only distributions with an upper bound.
        max_latency: the largest drawn latency value (seconds; tails may
            exceed it).
        workload: *flag*, add a burst of generated requests.
        keys: how many registers (``x``, or ``k0``…).
        fs: operation kinds to schedule; default read and write (minus what
            the policy does not offer).
        min_ops: the fewest scheduled operations.
        max_ops: the most scheduled operations.
        max_faults: at most this many faults per track.
        min_write_gap: seconds between scheduled writes to one key.
        every_node_has_client: one client on every node, plus maybe more.
        timeout: the client timeout; drawn from 1, 0.5, 2 s if ``None``.
        settle: seconds of quiet (no fault starts or ends, no scheduled
            operation) before the end of the run, beyond the timeout.
        final_reads: after that, a client ``final-<node>`` on every node
            reads every key, one read at a time (as Jepsen's final reads).

    """
    node_list = _node_list(draw, nodes)
    if policy is None:
        policy = draw(_pick(tuple(sorted(REGISTRY))))
    if policy not in REGISTRY:
        raise ValueError(f"unknown policy {policy!r}; valid policies: {', '.join(REGISTRY)}")
    supported = REGISTRY[policy].supports
    kinds = [f for f in (fs if fs is not None else ("read", "write")) if f in supported]
    if not kinds:
        raise ValueError(f"policy {policy!r} offers none of {list(fs or ())}")
    key_list = key_names(keys)

    lat = latency
    if lat is None:
        lat = draw(latencies(bounded=bounded_latency, max_latency=max_latency))
    if hasattr(lat, "model_dump"):
        lat = lat.model_dump(mode="json", exclude_defaults=True)
        lat.setdefault("dist", "constant")
    network: dict[str, Any] = {"latency": lat}
    if _flag(draw, loss):
        network["loss"] = draw(losses())

    nemesis = draw(
        nemesis_schedules(
            node_list,
            partitioned=partitioned,
            crashes=crashes,
            cuts_allowed=cuts,
            heal=heal,
            max_faults=max_faults,
            separating=separating,
        )
    )
    client_specs = draw(client_lists(node_list, every_node=every_node_has_client))
    fault_end = max((e["at"] for e in nemesis), default=0.0)
    horizon = max(40, round(fault_end / TICK) + 20)
    ops = draw(
        operation_schedules(
            [c["name"] for c in client_specs],
            homes={c["name"]: c["node"] for c in client_specs},
            keys=key_list,
            fs=kinds,
            min_ops=min_ops,
            max_ops=max_ops,
            max_time=horizon,
            min_write_gap=min_write_gap,
        )
    )
    to = timeout if timeout is not None else draw(_pick((1.0, 0.5, 2.0)))
    last = max([fault_end, *(op["at"] for op in ops)])
    data: dict[str, Any] = {
        "name": "generated",
        "seed": draw(seeds()),
        "nodes": node_list,
        "initial": dict.fromkeys(key_list, "v0"),
        "network": network,
        "policy": policy,
        "timeout": to,
        "nemesis": nemesis,
        "clients": client_specs,
        "operations": ops,
    }
    if _flag(draw, workload):
        data["workload"] = draw(workloads(keys=keys, fs=kinds, horizon=horizon))
        last = max(last, data["workload"]["end"])
    if params is not None:
        p = draw(params) if isinstance(params, st.SearchStrategy) else params
        data["params"] = {policy: dict(p)}
    end = last + to + settle
    if final_reads:
        # Jepsen's final reads: once everything is over, read every key on
        # every node, one read at a time. Replicas that silently diverged
        # (same version, different values) show up as a history that is not
        # linearizable, even when no other read happened to look.
        for node in node_list:
            name = f"final-{node}"
            data["clients"].append({"name": name, "node": node})
            for key in key_list:
                data["operations"].append({"at": round(end, 6), "client": name, "read": key})
                end += to + TICK
    tail = draw(_ints(1, 20))
    data["duration"] = round(end + at(tail), 6)
    return parse_scenario(data, source="<hypothesis>")




# --- histories (for testing checkers) -------------------------------------------


@_cached
@st.composite
def sequential_histories(
    draw: st.DrawFn,
    *,
    keys: int = 1,
    fs: Sequence[str] = ("read", "write", "cas"),
    min_ops: int = 0,
    max_ops: int = 20,
    processes: int = 3,
    outcomes: Sequence[str] = ("ok", "fail", "info"),
) -> tuple[History, dict[str, Any]]:
    """A history of one register per key, driven one operation at a time, and its initial values.

    Operations never overlap, and each does what a register does: a read
    returns the current value, a write sets it, a ``cas`` sets it only when
    it holds the expected value (else it fails). ``fail`` operations do
    nothing; an ``info`` write or cas may or may not have taken effect (both
    are drawn). Such a history is linearizable by construction, which makes
    it the yardstick for a checker's soundness.
    """
    key_list = key_names(keys)
    state: dict[str, Any] = dict.fromkeys(key_list, "v0")
    initial = dict(state)
    counter = dict.fromkeys(key_list, 0)
    written: dict[str, list[Any]] = {k: ["v0"] for k in key_list}
    events: list[Event] = []
    n = draw(_ints(min_ops, max_ops))
    t = 0
    for _ in range(n):
        proc = f"p{draw(_ints(1, processes))}"
        f = draw(_pick(tuple(fs)))
        key = draw(_pick(tuple(key_list)))
        t += draw(_ints(0, 4))
        start, t = at(t), t + draw(_ints(0, 4))
        end = at(t)
        t += 1
        outcome = draw(_pick(tuple(outcomes)))
        if f == "read":
            invoke_value: Any = None
            done_value = state[key] if outcome == "ok" else None
        else:
            counter[key] += 1
            new = f"v{counter[key]}"
            if f == "write":
                invoke_value = new
                applies = outcome == "ok" or (outcome == "info" and draw(st.booleans()))
            else:
                expected = written[key][draw(_ints(0, len(written[key]) - 1))]
                invoke_value = (expected, new)
                matches = state[key] == expected
                if outcome == "ok" and not matches:
                    outcome = "fail"
                applies = matches and (
                    outcome == "ok" or (outcome == "info" and draw(st.booleans()))
                )
            written[key].append(new)
            if applies:
                state[key] = new
            done_value = invoke_value
        events.append(Event(len(events), start, proc, None, "invoke", f, key, invoke_value))
        events.append(Event(len(events), end, proc, None, outcome, f, key, done_value))
    return History(events), initial


__all__ = [
    "MAX_SEED",
    "TICK",
    "Flag",
    "at",
    "client_lists",
    "cuts",
    "key_names",
    "latencies",
    "losses",
    "nemesis_schedules",
    "node_names",
    "operation_schedules",
    "partitions",
    "scenarios",
    "seeds",
    "sequential_histories",
    "workloads",
]

"""Operations clients issue: the scenario's schedule plus a generated workload."""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from capsim.scenario import Scenario, workload_keys


class PlannedOp(NamedTuple):
    at: float
    process: str
    node: str
    f: str
    key: str
    value: Any


def _route(scenario: Scenario, home: str, route: str, n: int) -> str:
    """The replica a client's ``n``-th request goes to: home, or round robin from home."""
    if route == "sticky":
        return home
    nodes = scenario.nodes
    return nodes[(nodes.index(home) + n) % len(nodes)]


def plan(scenario: Scenario, rng: random.Random) -> dict[str, list[PlannedOp]]:
    """Every client's operations in issue order, drawn from the run's generator.

    Generated writes use fresh values ``v1``, ``v2``, … per key that no
    scheduled operation uses, so every written value is unique.
    """
    homes = {c.name: c.node for c in scenario.clients}
    routes = {c.name: c.route for c in scenario.clients}
    per: dict[str, list[PlannedOp]] = {c.name: [] for c in scenario.clients}
    for op in scenario.operations:
        node = _route(scenario, homes[op.client], routes[op.client], len(per[op.client]))
        per[op.client].append(PlannedOp(op.at, op.client, node, op.f, op.key, op.value))

    w = scenario.workload
    if w is None:
        return per
    used: set[Any] = set(scenario.initial.values())
    for op in scenario.operations:
        used.update(op.value if isinstance(op.value, tuple) else (op.value,))
    keys = workload_keys(w)
    counter = {k: 0 for k in keys}
    written: dict[str, list[Any]] = {k: [scenario.initial.get(k)] for k in keys}

    def fresh(key: str) -> str:
        while True:
            counter[key] += 1
            v = f"v{counter[key]}" if len(keys) == 1 else f"{key}v{counter[key]}"
            if v not in used:
                used.add(v)
                return v

    end = scenario.duration if w.end is None else w.end
    per_client_rate = w.rate / w.clients
    taken = set(per)
    arrivals: list[tuple[float, int]] = []
    names: list[tuple[str, str]] = []
    for i in range(w.clients):
        name, n = f"w{i + 1}", i + 1
        while name in taken:
            n += w.clients
            name = f"w{n}"
        taken.add(name)
        names.append((name, scenario.nodes[i % len(scenario.nodes)]))
        per[name] = []
        t = w.start
        while True:
            t += rng.expovariate(per_client_rate)
            if t >= end:
                break
            arrivals.append((t, i))
    arrivals.sort()
    for t, i in arrivals:
        name, home = names[i]
        node = _route(scenario, home, w.route, len(per[name]))
        key = keys[0] if len(keys) == 1 else rng.choice(keys)
        u = rng.random()
        if u < w.reads:
            per[name].append(PlannedOp(t, name, node, "read", key, None))
        elif u < w.reads + w.cas:
            expected = rng.choice(written[key])
            per[name].append(PlannedOp(t, name, node, "cas", key, (expected, fresh(key))))
        else:
            v = fresh(key)
            written[key].append(v)
            per[name].append(PlannedOp(t, name, node, "write", key, v))
    return per

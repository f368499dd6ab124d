"""Leadership: elections, step-downs and leaderless time, from a run's role trace.

Leader-based policies (``raft``) report their role and term as
:class:`~capsim.result.RoleEntry` rows. This module turns them into what a
student asks about a run: who led when, how long the cluster had no leader,
how long each election took after the leader was lost, and whether two
nodes ever led in the same term (Raft's Election Safety: never). It also
names each partition during which no side holds a majority, when nobody can
be elected at all (the 2-node seed story).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from capsim.records import Fault, RoleEntry


def leadership(
    roles: Sequence[RoleEntry],
    faults: Sequence[Fault],
    nodes: Sequence[str],
    duration: float,
) -> dict[str, Any]:
    """Elections, step-downs, leaderless spans and Election Safety over one run.

    ``elections``: ``{node, term, time, after}`` each time a node becomes
    leader, ``after`` being the seconds since the cluster last had a leader
    (or since the start). ``step_downs``: ``{node, term, time}``.
    ``leaderless``: ``[start, end]`` spans in which no node was leader.
    ``two_leaders``: terms in which two different nodes were leader (must be
    empty). ``no_majority``: partitions with no side of a majority.
    """
    majority = len(nodes) // 2 + 1
    role: dict[str, str] = {}
    leaders_by_term: dict[int, set[str]] = {}
    elections: list[dict[str, Any]] = []
    step_downs: list[dict[str, Any]] = []
    leaderless: list[list[float]] = []
    since: float | None = 0.0  # start of the current leaderless span
    term_of: dict[str, int] = {}
    # A crashed node leads nobody from its crash on (it says nothing itself).
    crashes = [RoleEntry(f.start, f.groups[0][0], "down", -1, -1, None)
               for f in faults if f.kind == "crash"]
    for e in sorted([*roles, *crashes], key=lambda r: (r.time, r.term < 0)):
        if e.role == "down":
            if role.get(e.node) == "leader":
                step_downs.append({"node": e.node, "term": term_of.get(e.node, 0),
                                   "time": e.time, "crashed": True})
                role[e.node] = "down"
                if since is None and "leader" not in role.values():
                    since = e.time
            role[e.node] = "down"
            continue
        before = role.get(e.node)
        role[e.node], prev_term = e.role, term_of.get(e.node, 0)
        term_of[e.node] = e.term
        if e.role == "leader" and before != "leader":
            leaders_by_term.setdefault(e.term, set()).add(e.node)
            after = None if since is None else round(e.time - since, 9)
            elections.append({"node": e.node, "term": e.term, "time": e.time, "after": after})
            if since is not None:
                leaderless.append([since, e.time])
                since = None
        elif before == "leader" and e.role != "leader":
            step_downs.append({"node": e.node, "term": prev_term, "time": e.time,
                               "crashed": False})
            if since is None and "leader" not in role.values():
                since = e.time
    if since is not None and since < duration:
        leaderless.append([since, duration])
    no_majority = [
        {"start": f.start, "end": f.end, "label": f.label}
        for f in faults
        if f.kind == "partition" and all(len(g) < majority for g in f.groups)
    ]
    return {
        "elections": elections,
        "step_downs": step_downs,
        "leaderless": leaderless,
        "time_without_leader": round(sum(b - a for a, b in leaderless), 9),
        "two_leaders": sorted(t for t, who in leaders_by_term.items() if len(who) > 1),
        "no_majority": no_majority,
        "majority": majority,
    }


def role_spans(
    roles: Sequence[RoleEntry], faults: Sequence[Fault], end: float
) -> list[tuple[str, str, int, float, float]]:
    """``(node, role, term, start, end)`` spans for drawing: role bands per replica.

    A crash ends a span (the node is down until it says otherwise); the last
    span of each node runs to ``end``.
    """
    crashes = [RoleEntry(f.start, f.groups[0][0], "down", -1, -1, None)
               for f in faults if f.kind == "crash"]
    out: list[tuple[str, str, int, float, float]] = []
    current: dict[str, tuple[str, int, float]] = {}
    for e in sorted([*roles, *crashes], key=lambda r: (r.time, r.term < 0)):
        prev = current.get(e.node)
        if prev is not None and (prev[0], prev[1]) == (e.role, e.term):
            continue  # only the commit index moved
        if prev is not None:
            out.append((e.node, prev[0], prev[1], prev[2], e.time))
        current[e.node] = (e.role, e.term, e.time)
    for node, (role, term, start) in current.items():
        out.append((node, role, term, start, max(start, end)))
    return out


__all__ = ["leadership", "role_spans"]

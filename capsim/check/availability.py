"""Availability: ok ÷ requests to live nodes, in and out of partitions.

CAP's availability is about live nodes only: a request to a crashed replica
says nothing about the policy, so it is left out of the ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from capsim.history import Operation
from capsim.records import Fault


def _in(spans: Sequence[Fault], t: float) -> bool:
    return any(f.start <= t < f.end for f in spans)


def node_down(faults: Sequence[Fault], node: str | None, t: float) -> bool:
    return any(f.kind == "crash" and f.groups[0][0] == node and f.start <= t < f.end
               for f in faults)


def availability(ops: Sequence[Operation], faults: Sequence[Fault],
                 nodes: Sequence[str]) -> dict[str, Any]:
    net = [f for f in faults if f.kind in ("partition", "cut")]
    tally: dict[str, list[int]] = {"overall": [0, 0], "during_partition": [0, 0],
                                   "outside_partition": [0, 0]}
    per_node: dict[str, list[int]] = {n: [0, 0] for n in nodes}
    excluded = 0
    for op in ops:
        if node_down(faults, op.node, op.start):
            excluded += 1
            continue
        ok = 1 if op.type == "ok" else 0
        side = "during_partition" if _in(net, op.start) else "outside_partition"
        for bucket in (tally["overall"], tally[side], per_node.setdefault(op.node or "?", [0, 0])):
            bucket[0] += ok
            bucket[1] += 1

    def ratio(b: list[int]) -> float | None:
        return None if b[1] == 0 else b[0] / b[1]

    out: dict[str, Any] = {k: ratio(v) for k, v in tally.items()}
    out["per_node"] = {n: ratio(b) for n, b in per_node.items()}
    out["requests"] = tally["overall"][1]
    out["requests_during_partition"] = tally["during_partition"][1]
    out["excluded_down"] = excluded
    return out

"""Checks: pure functions over a history (plus the fault spans and replica trace).

Each check is a small module; :func:`run_checks` composes them, as
Maelstrom composes its named checkers. No plotting or CLI imports here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from capsim.check.availability import availability
from capsim.check.convergence import convergence
from capsim.check.ladder import check_ladder
from capsim.check.latency import latency
from capsim.check.linearizable import check_linearizable
from capsim.check.staleness import stale_reads
from capsim.history import History
from capsim.records import Fault, TraceEntry

#: Search steps for sequential consistency within a run (a fraction of a second).
RUN_SC_STEPS = 20_000


def run_checks(
    history: History,
    *,
    initial: Mapping[str, Any],
    faults: Sequence[Fault] = (),
    trace: Sequence[TraceEntry] = (),
    nodes: Sequence[str] = (),
    duration: float = float("inf"),
    linearizability: bool = True,
    ladder: bool | None = None,
) -> dict[str, Any]:
    """Every verdict about one history, as JSON-ready data.

    ``ladder`` (default: as ``linearizability``) adds the consistency ladder
    (:mod:`capsim.check.ladder`), reusing the linearizability verdict.
    """
    ops = history.operations()
    counts = {"total": len(ops), "ok": 0, "fail": 0, "info": 0}
    for op in ops:
        counts[op.type] += 1
    out: dict[str, Any] = {
        "ops": counts,
        "availability": availability(ops, faults, nodes),
        "stale_reads": stale_reads(ops, initial),
        "latency": latency(ops),
    }
    if trace:
        out["convergence"] = convergence(trace, faults, nodes, duration)
    lin = None
    if linearizability:
        lin = check_linearizable(history, initial=initial)
        out["linearizable"] = lin.to_dict()
    if ladder if ladder is not None else linearizability:
        # A run's table must not wait long on the NP-complete rung: a hard history
        # gets "unknown" there (capsim check --model sequential has no such cap).
        out["ladder"] = check_ladder(
            history, initial=initial, linearizability=lin, lang="en", budget_steps=RUN_SC_STEPS
        ).to_dict()
    return out


def flatten(checks: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers of interest as one flat row (``availability.overall`` …), for tables."""
    row: dict[str, Any] = {}
    for k in ("total", "ok", "fail", "info"):
        row[f"ops.{k}"] = checks.get("ops", {}).get(k)
    av = checks.get("availability", {})
    for k in ("overall", "during_partition", "outside_partition"):
        row[f"availability.{k}"] = av.get(k)
    st = checks.get("stale_reads", {})
    row["stale_reads.count"] = st.get("count")
    row["stale_reads.rate"] = st.get("rate")
    for f, d in checks.get("latency", {}).items():
        for q in ("p50", "p95", "p99"):
            row[f"latency.{f}.{q}"] = d.get(q)
    conv = checks.get("convergence")
    if conv is not None:
        row["convergence.converged"] = conv.get("converged")
        row["convergence.time"] = conv.get("time")
    lin = checks.get("linearizable")
    if lin is not None:
        row["linearizable"] = lin.get("linearizable")
    # The other numbers of result.json, for sweeps; appended after the keys
    # above so tables built on those keep their columns and order.
    for k in ("requests", "requests_during_partition", "excluded_down"):
        if k in av:
            row[f"availability.{k}"] = av[k]
    for node, v in av.get("per_node", {}).items():
        row[f"availability.node.{node}"] = v
    for f, d in checks.get("latency", {}).items():
        for q in ("n", "max"):
            if q in d:
                row[f"latency.{f}.{q}"] = d[q]
    if conv is not None and "at" in conv:
        row["convergence.at"] = conv["at"]
    for model, d in checks.get("ladder", {}).items():
        row[f"ladder.{model}"] = d.get("verdict")
    return row


__all__ = [
    "availability",
    "check_ladder",
    "check_linearizable",
    "convergence",
    "flatten",
    "latency",
    "run_checks",
    "stale_reads",
]

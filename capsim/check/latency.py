"""Latency percentiles per operation type (PACELC: the price of consistency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from capsim.history import Operation


def percentile(sorted_xs: Sequence[float], q: float) -> float:
    """The ``q``-th percentile by linear interpolation between closest ranks.

    The same definition as numpy's default (``method="linear"``), in plain
    Python so that checking a run does not import numpy (a third of a small
    run's start-up).
    """
    h = (len(sorted_xs) - 1) * q / 100
    lo = int(h)
    if lo + 1 >= len(sorted_xs):
        return float(sorted_xs[-1])
    return float(sorted_xs[lo] + (h - lo) * (sorted_xs[lo + 1] - sorted_xs[lo]))


def latency(ops: Sequence[Operation]) -> dict[str, Any]:
    """p50/p95/p99/max of ok operations, in seconds, per op type."""
    out: dict[str, Any] = {}
    for f in ("read", "write", "cas"):
        xs = sorted(op.end - op.start for op in ops if op.f == f and op.type == "ok")
        if not xs:
            continue
        p50, p95, p99 = (round(percentile(xs, q), 9) for q in (50, 95, 99))
        out[f] = {"n": len(xs), "p50": p50, "p95": p95, "p99": p99, "max": round(xs[-1], 9)}
    return out

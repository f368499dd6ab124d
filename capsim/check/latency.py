"""Latency percentiles per operation type (PACELC: the price of consistency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from capsim.history import Operation


def latency(ops: Sequence[Operation]) -> dict[str, Any]:
    """p50/p95/p99/max of ok operations, in seconds, per op type."""
    out: dict[str, Any] = {}
    for f in ("read", "write", "cas"):
        xs = [op.end - op.start for op in ops if op.f == f and op.type == "ok"]
        if not xs:
            continue
        arr = np.asarray(xs)
        p50, p95, p99 = (float(round(v, 9)) for v in np.percentile(arr, [50, 95, 99]))
        out[f] = {"n": len(xs), "p50": p50, "p95": p95, "p99": p99,
                  "max": float(round(arr.max(), 9))}
    return out

"""Means with 95% confidence intervals, for sweep tables and sweep plots alike."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
         16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074,
         23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045,
         30: 2.042}


def t975(df: int) -> float:
    """Student's t quantile for a two-sided 95% interval (table, then Cornish–Fisher)."""
    if df < 1:
        raise ValueError("degrees of freedom must be >= 1")
    if df in _T975:
        return _T975[df]
    z = 1.959963984540054
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def mean_ci(values: Iterable[Any]) -> tuple[float | None, float | None, int]:
    """``(mean, half-width of the 95% CI, n)`` of the numbers among ``values``.

    Missing values (a latency with no ops, a convergence that never came)
    are left out; booleans count as 0/1, so the mean of ``converged`` is the
    fraction of runs that converged. With one value the half-width is None.
    """
    xs = [float(v) for v in values if v is not None and isinstance(v, (int, float))
          and not (isinstance(v, float) and math.isnan(v))]
    n = len(xs)
    if n == 0:
        return None, None, 0
    mean = math.fsum(xs) / n
    if n == 1:
        return mean, None, 1
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return mean, t975(n - 1) * math.sqrt(var / n), n


__all__ = ["mean_ci", "t975"]

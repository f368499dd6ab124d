"""The numbers the PBS paper published, for side-by-side display.

Bailis et al., PVLDB 5(8), 2012, Table 4 (N = 3) and section 5.6. The CLI
prints them next to capsim's own results so a student can compare; the
reproduction test keeps its own copy, so that editing this file cannot make
the test pass.
"""

from __future__ import annotations

from typing import NamedTuple


class Table4Row(NamedTuple):
    """99.9th-percentile read and write latency and t for 99.9% consistent reads, in ms."""

    read_latency: float
    write_latency: float
    t_visibility: float


TABLE4: dict[str, dict[tuple[int, int], Table4Row]] = {
    # model: {(R, W): row}, N = 3
    "LNKD-SSD": {
        (1, 1): Table4Row(0.66, 0.66, 1.85),
        (1, 2): Table4Row(0.66, 1.63, 1.79),
        (2, 1): Table4Row(1.63, 0.65, 0.0),
        (2, 2): Table4Row(1.62, 1.64, 0.0),
        (3, 1): Table4Row(4.14, 0.65, 0.0),
        (1, 3): Table4Row(0.65, 4.09, 0.0),
    },
    "LNKD-DISK": {
        (1, 1): Table4Row(0.66, 10.99, 45.5),
        (1, 2): Table4Row(0.65, 20.97, 43.3),
        (2, 1): Table4Row(1.63, 10.9, 13.6),
        (2, 2): Table4Row(1.64, 20.96, 0.0),
        (3, 1): Table4Row(4.12, 10.89, 0.0),
        (1, 3): Table4Row(0.65, 112.65, 0.0),
    },
    "YMMR": {
        (1, 1): Table4Row(5.58, 10.83, 1364.0),
        (1, 2): Table4Row(5.61, 427.12, 1352.0),
        (2, 1): Table4Row(32.6, 10.73, 202.0),
        (2, 2): Table4Row(33.18, 428.11, 0.0),
        (3, 1): Table4Row(219.27, 10.79, 0.0),
        (1, 3): Table4Row(5.63, 1870.86, 0.0),
    },
    "WAN": {
        (1, 1): Table4Row(3.4, 55.12, 113.0),
        (1, 2): Table4Row(3.4, 167.64, 0.0),
        (2, 1): Table4Row(151.3, 56.36, 30.2),
        (2, 2): Table4Row(151.31, 167.72, 0.0),
        (3, 1): Table4Row(153.86, 55.19, 0.0),
        (1, 3): Table4Row(3.44, 241.55, 0.0),
    },
}

P_CONSISTENT_AT_COMMIT: dict[str, float] = {
    # N = 3, R = W = 1, t = 0 (section 5.6)
    "LNKD-SSD": 0.974,
    "LNKD-DISK": 0.439,
    "YMMR": 0.893,
    "WAN": 0.33,
}


def published(model: str, n: int, r: int, w: int) -> Table4Row | None:
    """The paper's row for this configuration, or None when Table 4 has none."""
    if n != 3:
        return None
    return TABLE4.get(model, {}).get((r, w))


__all__ = ["P_CONSISTENT_AT_COMMIT", "TABLE4", "Table4Row", "published"]

"""The convergence check's one-pass replay agrees with the obvious replay on any trace."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from capsim.check.convergence import convergence
from capsim.records import Fault, TraceEntry

NODES = ["A", "B", "C"]


def agree_since_reference(trace: list[TraceEntry], live: list[str]) -> float | None:
    """When agreement last began, by re-comparing every key on every live node each instant."""
    state: dict[tuple[str, str], Any] = {}
    keys = sorted({e.key for e in trace})
    since: float | None = 0.0
    for now, entries in groupby(sorted(trace, key=lambda e: e.time), key=lambda e: e.time):
        for e in entries:
            state[(e.node, e.key)] = e.value
        ok = all(len({repr(state.get((n, k))) for n in live}) <= 1 for k in keys)
        if not ok:
            since = None
        elif since is None:
            since = now
    return since


entries = st.builds(TraceEntry, st.integers(0, 20).map(float), st.sampled_from(NODES),
                    st.sampled_from(["x", "y"]), st.sampled_from([None, "v0", "v1", ["v", 1]]))


@given(st.lists(entries, max_size=40), st.booleans())
def test_one_pass_equals_the_reference(trace: list[TraceEntry], crash_c: bool) -> None:
    faults = [Fault("partition", 1.0, 2.0, [["A"], ["B", "C"]], "A | B C")]
    if crash_c:
        faults.append(Fault("crash", 3.0, 99.0, [["C"]], "C down"))
    live = ["A", "B"] if crash_c else NODES
    got = convergence(trace, faults, NODES, duration=30.0)
    since = agree_since_reference(trace, live)
    assert got["converged"] == (since is not None)
    if since is not None:
        assert got["at"] == max(since, 2.0)

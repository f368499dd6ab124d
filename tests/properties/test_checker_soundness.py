"""The linearizability checker says yes to what is obviously right and no to what is obviously wrong."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from capsim.check.linearizable import check_linearizable
from capsim.history import Event, History
from capsim.testing import strategies as cst

from . import claims

NEVER = "nobody-wrote-this"


@st.composite
def with_a_never_written_read(draw: st.DrawFn) -> tuple[History, dict[str, Any], int]:
    """A sequential history, with one ok read changed (or added) to return ``NEVER``.

    Returns the history, its initial values and the index of the bad read's invoke.
    """
    history, initial = draw(cst.sequential_histories(keys=2))
    events = list(history)
    reads = [i for i, e in enumerate(events) if e.f == "read" and e.type == "ok"]
    if reads and draw(st.booleans()):
        i = draw(st.sampled_from(reads))
        e = events[i]
        events[i] = Event(e.index, e.time, e.process, e.node, e.type, e.f, e.key, NEVER)
        invoke = max(j for j in range(i) if events[j].process == e.process
                     and events[j].type == "invoke")
    else:
        t = (events[-1].time if events else 0.0) + cst.TICK
        key = draw(st.sampled_from(sorted(initial)))
        invoke = len(events)
        events.append(Event(invoke, t, "reader", None, "invoke", "read", key, None))
        events.append(Event(invoke + 1, round(t + cst.TICK, 6), "reader", None, "ok", "read",
                            key, NEVER))
    return History(events), initial, events[invoke].index


@given(cst.sequential_histories(keys=2))
def test_sequential_register_histories_are_linearizable(case: tuple) -> None:
    """A history of a register driven one operation at a time is linearizable."""
    history, initial = case
    claims.check_sequential_is_linearizable(history, initial)


@given(with_a_never_written_read())
def test_a_read_of_a_never_written_value_is_not_linearizable(case: tuple) -> None:
    """A history with an ok read of a value nobody wrote is not linearizable, and the checker names that read."""
    history, initial, bad = case
    claims.check_never_written_is_not_linearizable(history, initial)
    verdict = check_linearizable(history, initial=initial)
    assert bad in verdict.ops, f"the checker blamed {verdict.ops}, not the read {bad}"

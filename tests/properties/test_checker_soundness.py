"""The linearizability checker says yes to what is plainly right, no to what is plainly wrong."""

from __future__ import annotations

from hypothesis import given

from capsim.check.linearizable import check_linearizable
from capsim.testing import strategies as cst

from . import claims


@given(cst.sequential_histories(keys=2))
def test_sequential_register_histories_are_linearizable(case: tuple) -> None:
    """A history of a register driven one operation at a time is linearizable."""
    history, initial = case
    claims.check_sequential_is_linearizable(history, initial)


@given(claims.with_a_never_written_read())
def test_a_read_of_a_never_written_value_is_not_linearizable(case: tuple) -> None:
    """A history with an ok read of a value nobody wrote is not linearizable, and
    the checker names that read."""
    history, initial, bad = case
    claims.check_never_written_is_not_linearizable(history, initial)
    verdict = check_linearizable(history, initial=initial)
    assert bad in verdict.ops, f"the checker blamed {verdict.ops}, not the read {bad}"

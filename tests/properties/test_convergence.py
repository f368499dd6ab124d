"""Eventual consistency, with a deadline: ap replicas agree soon after the last fault."""

from __future__ import annotations

from hypothesis import given

from capsim.scenario import Scenario

from . import claims


@given(claims.AP_HEALED)
def test_ap_converges(scenario: Scenario) -> None:
    """Under ap, one sync interval plus the largest message delay after the last
    fault and the last write, all live replicas hold the same value for every key."""
    claims.check_ap_converges(scenario, "ap")

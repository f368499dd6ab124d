"""CAP: what each policy gives up when the network partitions."""

from __future__ import annotations

import pytest
from hypothesis import given

from capsim.policies import REGISTRY
from capsim.scenario import Scenario

from . import claims


@given(claims.ANY_FAULTS)
def test_cp_is_consistent(scenario: Scenario) -> None:
    """Under cp every history is linearizable, whatever the partitions, loss and crashes."""
    claims.check_cp_consistent(scenario, "cp")


@given(claims.AP_ANY_FAULTS)
def test_ap_is_available(scenario: Scenario) -> None:
    """Under ap every request to a live replica is answered ok within the timeout."""
    claims.check_ap_available(scenario, "ap")


@given(claims.CP_PARTITIONED)
def test_cp_gives_up_availability(scenario: Scenario) -> None:
    """Under cp no request started in a minority during a partition, and answered
    before the partition ended, is ok."""
    claims.check_cp_unavailable_in_minority(scenario, "cp")


@pytest.mark.parametrize("policy", sorted(REGISTRY))
def test_no_policy_is_available_and_consistent_in_a_partition(policy: str) -> None:
    """In Gilbert & Lynch's run every registered policy fails a request or reads stale."""

    @given(claims.impossibility_scenarios(policy))
    def gilbert_lynch(scenario: Scenario) -> None:
        claims.check_impossibility(scenario, policy)

    gilbert_lynch()

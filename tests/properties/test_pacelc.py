"""PACELC: Else (no partition), Latency or Consistency."""

from __future__ import annotations

from hypothesis import given

from capsim.scenario import Scenario

from . import claims


@given(claims.CP_NO_PARTITION)
def test_cp_pays_in_latency(scenario: Scenario) -> None:
    """Without partitions a cp read takes at least one round trip to a majority, a write two."""
    claims.check_cp_pays_latency(scenario, "cp")


@given(claims.AP_NO_PARTITION)
def test_ap_answers_locally(scenario: Scenario) -> None:
    """Without partitions ap answers every read and write at once, from the local copy."""
    claims.check_ap_reads_local(scenario, "ap")


@given(claims.AP_SPACED_WRITES)
def test_ap_is_stale_only_inside_the_replication_window(scenario: Scenario) -> None:
    """Without partitions or loss, an ap read more than one message delay after
    the latest write returns that write's value."""
    claims.check_ap_stale_only_in_window(scenario, "ap")

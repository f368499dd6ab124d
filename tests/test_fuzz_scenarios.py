"""Fuzz: hostile scenario files never crash, hang or blow up capsim (issue 19 §2).

``ci`` profile: a few hundred inputs, well under a minute. ``thorough``
(``pytest tests/test_fuzz_scenarios.py --hypothesis-profile=thorough``): 10,000.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings

from tests import fuzz_harness as fz

N = 10_000 if fz.thorough() else 120


@settings(max_examples=N, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(fz.scenario_texts)
def test_any_scenario_text_is_rejected_cleanly_or_runs_with_its_invariants(text: str) -> None:
    fz.STATS["scenario.inputs"] += 1
    t0 = time.perf_counter()
    fz.check_scenario_text(text)
    fz.STATS["scenario.ms"] += int(1000 * (time.perf_counter() - t0))
    fz.write_stats()


def test_every_text_attack_is_rejected_with_a_located_message() -> None:
    for text in fz.TEXT_ATTACKS:
        assert fz.check_scenario_text(text) == "rejected", text[:80]


def test_the_harness_would_see_a_broken_invariant() -> None:
    """The invariant check can fail: a cp history with a stale read is caught."""
    import pytest

    from capsim import simulate
    from capsim.scenario import load_scenario

    r = simulate(load_scenario(fz.ROOT / "scenarios" / "partition.yaml"), policy="ap")
    object.__setattr__(r, "policy", "cp")
    with pytest.raises(AssertionError, match="bob read v0"):
        fz.check_invariants(r)

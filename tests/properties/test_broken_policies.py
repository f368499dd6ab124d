"""Every property can fail: hypothesis finds a counterexample for a deliberately broken policy.

A property test that passes proves something only if it would have failed
for a system without the property. Each test here runs one claim of
``claims.py`` over the same scenarios as its property test, but under a
broken policy (or checker) from ``broken.py``, and asserts that hypothesis
finds a counterexample within a small, derandomized budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import strategies as st

from capsim.scenario import Scenario
from capsim.testing import strategies as cst

from . import broken, claims

CASES = [
    pytest.param(claims.ANY_FAULTS, claims.check_cp_consistent, broken.QuorumOfOne,
                 "not linearizable", id="cp-consistent/quorum-of-one"),
    pytest.param(claims.ANY_FAULTS, claims.check_cp_consistent, broken.SameVersionCP,
                 "not linearizable", id="cp-consistent/same-version"),
    pytest.param(claims.ANY_FAULTS, claims.check_cp_consistent, broken.LocalReadCP,
                 "not linearizable", id="cp-consistent/local-reads"),
    pytest.param(claims.AP_ANY_FAULTS, claims.check_ap_available, broken.RefusingAP,
                 "was not answered ok", id="ap-available/refusing"),
    pytest.param(claims.CP_PARTITIONED, claims.check_cp_unavailable_in_minority,
                 broken.QuorumOfOne, "was in a minority", id="cp-gives-up/quorum-of-one"),
    pytest.param(claims.impossibility_scenarios(broken.Telepathic), claims.check_impossibility,
                 broken.Telepathic, "available and consistent at once",
                 id="impossibility/telepathic"),
    pytest.param(claims.AP_HEALED, claims.check_ap_converges, broken.NoAntiEntropyAP,
                 "still disagree", id="ap-converges/no-anti-entropy"),
    pytest.param(claims.CP_NO_PARTITION, claims.check_cp_pays_latency, broken.LocalReadCP,
                 "less than", id="pacelc-cp-latency/local-reads"),
    pytest.param(claims.AP_NO_PARTITION, claims.check_ap_reads_local, broken.RefusingAP,
                 "at once", id="pacelc-ap-local/refusing"),
    pytest.param(claims.AP_SPACED_WRITES, claims.check_ap_stale_only_in_window,
                 broken.StaleSnapshotAP, "replication window", id="pacelc-window/stale-snapshot"),
    pytest.param(claims.ANY_POLICY, claims.check_deterministic, broken.NondeterministicAP,
                 "different", id="determinism/global-random"),
]


@pytest.mark.parametrize(("scenarios", "check", "policy", "says"), CASES)
def test_the_property_fails_for_a_broken_policy(
    scenarios: st.SearchStrategy[Scenario],
    check: Callable[[Scenario, Any], None],
    policy: type,
    says: str,
) -> None:
    """Hypothesis falsifies the property under the broken policy, with a readable reason."""
    error = claims.counterexample(scenarios, lambda sc: check(sc, policy))
    assert says in str(error)


def test_checker_soundness_fails_for_a_checker_that_forgets_failures() -> None:
    """A checker that counts refused writes as done rejects some sequential histories."""
    error = claims.counterexample(
        cst.sequential_histories(keys=2),
        lambda case: claims.check_sequential_is_linearizable(case[0], case[1],
                                                             broken.forgets_failures),
    )
    assert "sequential register history was judged False" in str(error)


def test_checker_soundness_fails_for_a_checker_that_always_says_yes() -> None:
    """A checker that never objects accepts a read of a value nobody wrote."""
    error = claims.counterexample(
        claims.with_a_never_written_read(),
        lambda case: claims.check_never_written_is_not_linearizable(
            case[0], case[1], broken.always_linearizable),
    )
    assert "nobody wrote was judged True" in str(error)


def test_purity_fails_for_a_checker_with_module_state() -> None:
    """A checker whose result depends on earlier calls is caught."""
    error = claims.counterexample(
        st.tuples(cst.sequential_histories(), cst.sequential_histories()),
        lambda pair: claims.check_checkers_pure(pair[0][0], pair[1][0], pair[0][1],
                                                broken.cumulative_steps),
    )
    assert "different verdict" in str(error)


def test_raft_safety_fails_for_a_raft_that_commits_earlier_terms_by_counting() -> None:
    """Figure 8 of the Raft paper, replayed step by step: the broken raft loses a commit."""
    from capsim.testing.raft import figure_8

    figure_8(claims.policy_class("raft"))  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="committed entry was overwritten"):
        figure_8(broken.Figure8Raft)

"""The PBS latency presets, and the full simulator agreeing with the PBS Monte Carlo.

Two independent implementations of one model check each other: the
vectorised WARS Monte Carlo (``capsim.pbs.montecarlo``) and the SimPy engine
running the ``quorum`` policy over a network whose messages take the preset's
W, A, R and S delays. If either got a delay, a quorum count or the meaning of
"t after commit" wrong, the two would disagree.
"""

from __future__ import annotations

import json
import typing
from statistics import NormalDist

import pytest
from typer.testing import CliRunner

from capsim import parse_scenario, simulate
from capsim.cli import app
from capsim.errors import ScenarioError
from capsim.latency import MODEL_NAMES, PBS_MODELS
from capsim.pbs.montecarlo import simulate as monte_carlo
from capsim.pbs.montecarlo import wilson_interval
from capsim.scenario import LATENCY_PRESETS, LatencyPreset

from .quorum_trials import run_trials

LEVEL = 0.999
"""Confidence of the interval the simulator's estimate must contain the Monte Carlo in."""


# --- the cross-check ----------------------------------------------------------------


@pytest.fixture(scope="module")
def monte_carlo_results():
    return {m: monte_carlo(3, 1, 1, m, trials=400_000, seed=11)
            for m in ("LNKD-SSD", "LNKD-DISK", "YMMR")}


@pytest.mark.parametrize(("model", "ts"), [
    ("LNKD-SSD", (0.0, 0.5, 1.5)),
    ("LNKD-DISK", (0.0, 10.0, 45.5)),
    ("YMMR", (0.0, 100.0, 1000.0)),
])
def test_simulator_agrees_with_the_monte_carlo(model, ts, monte_carlo_results):
    """P(consistent read t ms after commit), N=3 R=1 W=1: both ways give the same number."""
    sim = run_trials(model, ts, per_t=2500, seed=3)
    mc = monte_carlo_results[model]
    for t in ts:
        lo, hi = wilson_interval(sim.consistent[t], sim.trials[t], LEVEL)
        mc_lo, mc_hi = mc.interval(t, LEVEL)
        assert lo <= mc_hi and mc_lo <= hi, (
            f"{model}, t={t} ms: the simulator read the write back in {sim.p(t):.4f} of "
            f"{sim.trials[t]} trials ({LEVEL:.1%} interval {lo:.4f}..{hi:.4f}); the Monte "
            f"Carlo says {mc.p_consistent(t):.4f} ({mc_lo:.4f}..{mc_hi:.4f})"
        )


def test_the_cross_check_can_tell_models_and_coordination_apart(monte_carlo_results):
    """The comparison above has power: a different model or setting fails it."""
    mc = monte_carlo_results["LNKD-SSD"]

    def agrees(sim, t):
        lo, hi = wilson_interval(sim.consistent[t], sim.trials[t], LEVEL)
        mc_lo, mc_hi = mc.interval(t, LEVEL)
        return lo <= mc_hi and mc_lo <= hi

    # Same setting, wrong model: DISK's slow writes are stale far more often.
    assert not agrees(run_trials("LNKD-DISK", [0.0], per_t=2500, seed=3), 0.0)
    # Same model, the home replica coordinating: a client always reads its own
    # write at its home, so it is never stale -- not the PBS (client-side) model.
    replica = run_trials("LNKD-SSD", [0.0], per_t=2500, seed=3, coordinator="replica")
    assert replica.p(0.0) == 1.0
    assert not agrees(replica, 0.0)


def test_published_consistency_at_commit_through_the_simulator():
    """The paper's P(consistent at t=0), N=3 R=W=1: SSD 97.4%, DISK 43.9%, YMMR 89.3%."""
    sim = {m: run_trials(m, [0.0], per_t=4000, seed=5) for m in ("LNKD-SSD", "LNKD-DISK", "YMMR")}
    for model, published in (("LNKD-SSD", 0.974), ("LNKD-DISK", 0.439), ("YMMR", 0.893)):
        n = sim[model].trials[0.0]
        z = NormalDist().inv_cdf(0.5 + LEVEL / 2)
        slack = z * (published * (1 - published) / n) ** 0.5 + 0.01  # +1 pt: the table's rounding
        assert sim[model].p(0.0) == pytest.approx(published, abs=slack), model


def test_strict_quorum_is_consistent_at_commit_under_every_model():
    """R + W > N: a read right at commit always returns the write, whatever the delays."""
    for model in ("LNKD-DISK", "YMMR", "WAN"):
        sim = run_trials(model, [0.0], per_t=300, seed=2, r=2, w=2, clients=15)
        assert sim.p(0.0) == 1.0, model


# --- presets in scenarios -----------------------------------------------------------


def _scenario(latency, **kw):
    d = {"name": "p", "duration": 5.0, "nodes": ["G1", "G2", "G3"], "initial": {"x": "v0"},
         "network": {"latency": latency}, "policy": "quorum", "timeout": 3.0,
         "clients": [{"name": "a", "node": "G1"}]}
    d.update(kw)
    return parse_scenario(d)


def test_preset_names_are_the_pbs_models():
    assert set(LATENCY_PRESETS) == set(MODEL_NAMES) == set(typing.get_args(LatencyPreset))


def test_preset_is_accepted_in_any_case_and_written_back_by_name():
    sc = _scenario("lnkd-disk")
    assert sc.network.latency == "LNKD-DISK"
    assert sc.network.preset == "LNKD-DISK"
    assert "latency: LNKD-DISK" in sc.to_yaml()


def test_an_unknown_preset_lists_the_valid_ones():
    text = ("name: p\nduration: 1\nnodes: [G1, G2]\nnetwork:\n"
            "  latency: LNKD-SDD\n")
    from capsim.scenario import parse_scenario_text

    with pytest.raises(ScenarioError) as err:
        parse_scenario_text(text, source="typo.yaml")
    msg = str(err.value)
    assert msg.startswith("typo.yaml:5: network.latency:")
    for name in MODEL_NAMES:
        assert name in msg
    assert "'LNKD-SDD'" in msg


def test_schema_offers_the_presets(tmp_path):
    res = CliRunner().invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.output)
    latency = schema["$defs"]["NetworkSpec"]["properties"]["latency"]
    enums = [m["enum"] for m in latency["oneOf"] if "enum" in m]
    assert enums == [list(MODEL_NAMES)]


def _delays(result, kind, *, same_node=None):
    out = []
    for m in result.messages:
        if m.kind != kind or m.status != "delivered":
            continue
        if same_node is not None and (m.src == m.dst) != same_node:
            continue
        out.append((m.end - m.sent) * 1000)
    return out


def test_each_message_kind_takes_its_own_delay():
    """LNKD-DISK: writes to replicas (W) are slow and heavy-tailed; A, R, S are fast."""
    sc = _scenario("LNKD-DISK", duration=30.0,
                   workload={"rate": 200, "reads": 0.5, "clients": 3})
    r = simulate(sc, linearizability=False)
    model = PBS_MODELS["LNKD-DISK"]
    for kind in "WARS":
        d = _delays(r, kind)
        assert len(d) > 3000, kind
        mean = sum(d) / len(d)
        expected = model.mean_ms(kind.lower())  # type: ignore[arg-type]
        assert mean == pytest.approx(expected, rel=0.25), (kind, mean, expected)
        assert min(d) >= 0
    assert sum(_delays(r, "W")) / len(_delays(r, "W")) > 10 * (
        sum(_delays(r, "A")) / len(_delays(r, "A")))


def test_wan_adds_75_ms_between_datacenters_but_not_to_the_home_replica():
    """Under WAN each node is a datacenter; the client's own replica is local."""
    sc = _scenario("WAN", workload={"rate": 20, "reads": 0.5, "clients": 3})
    r = simulate(sc, linearizability=False)
    remote = [d for k in "WARS" for d in _delays(r, k, same_node=False)]
    local = [d for k in "WARS" for d in _delays(r, k, same_node=True)]
    assert remote and local
    assert min(remote) >= 75.0
    assert min(local) < 75.0 and sorted(local)[len(local) // 2] < 5.0


def test_other_policies_run_unchanged_over_a_preset():
    """cp and ap label their messages with their own kinds: those take the R delay."""
    sc = _scenario("LNKD-SSD", operations=[{"at": 1.0, "client": "a", "write": {"x": "v1"}},
                                           {"at": 2.0, "client": "a", "read": "x"}])
    for policy in ("cp", "ap"):
        r = simulate(sc, policy=policy)
        assert [op.type for op in r.history.operations()] == ["ok", "ok"], policy
        assert all(m.src != m.dst for m in r.messages), policy
        # LNKD-SSD draws from 0 ms up; the bound only says no message takes a WAN delay.
        assert all(0.0 <= (m.end - m.sent) * 1000 < 200 for m in r.messages), policy

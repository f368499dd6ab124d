"""The ladder's implications hold on generated histories, each checker run on its own:
random small histories, and histories from capsim runs of cp, ap and quorum."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from capsim import simulate
from capsim.check.ladder import check_ladder, stronger
from capsim.check.model_result import MODELS
from capsim.history import History
from capsim.scenario import parse_scenario

from .ladder_gen import INITIAL, small_histories


def _each(h: History, initial: dict[str, str]) -> dict[str, str]:
    return {m: check_ladder(h, initial=initial, models=[m]).results[m].verdict for m in MODELS}


def _assert_implications(v: dict[str, str]) -> None:
    for weak in MODELS:
        for strong in stronger(weak):
            if v[strong] == "yes":
                assert v[weak] in ("yes", "unknown"), (strong, weak, v)


@given(small_histories(max_ops=7))
def test_implications_on_random_histories(h: History) -> None:
    _assert_implications(_each(h, INITIAL))


@settings(max_examples=40)
@given(
    policy=st.sampled_from(["cp", "ap", "quorum"]),
    seed=st.integers(0, 10_000),
    route=st.sampled_from(["sticky", "hop"]),
    keys=st.integers(1, 2),
    partition=st.booleans(),
)
def test_implications_on_capsim_runs(policy: str, seed: int, route: str, keys: int,
                                     partition: bool) -> None:
    sc = parse_scenario({
        "name": "prop-ladder", "seed": seed, "duration": 4.0, "nodes": ["n1", "n2", "n3"],
        "network": {"latency": {"dist": "exponential", "mean": 0.05}},
        "policy": policy,
        "nemesis": [{"at": 1.0, "partition": [["n1"], ["n2", "n3"]]}, {"at": 3.0, "heal": True}]
        if partition else [],
        "workload": {"rate": 6, "reads": 0.6, "keys": keys, "clients": 3, "route": route},
    }, source="<test>")
    res = simulate(sc)
    v = _each(res.history, dict(sc.initial))
    _assert_implications(v)
    # what capsim run records agrees with the checkers run one by one
    recorded = {m: d["verdict"] for m, d in res.checks["ladder"].items()}
    for m in MODELS:
        assert recorded[m] == v[m] or "unknown" in (recorded[m], v[m]), (m, recorded, v)
    if policy == "cp":
        assert v["linearizable"] == "yes"

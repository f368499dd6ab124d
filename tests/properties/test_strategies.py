"""The public strategies keep their promises; a failure prints YAML that `capsim run` replays."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from capsim import load_scenario, parse_scenario_text, simulate
from capsim.cli import app
from capsim.policies import REGISTRY
from capsim.scenario import Scenario
from capsim.testing import extract_reproduction, reproduction
from capsim.testing import strategies as cst

from . import broken, claims


def _kinds(sc: Scenario) -> list[str]:
    return [ev.kind for ev in sc.nemesis]


@given(cst.scenarios(nodes=2, partitioned=True, crashes=False, loss=False))
def test_constraints_are_honoured(sc: Scenario) -> None:
    """``scenarios(nodes=2, partitioned=True, crashes=False, loss=False)`` draws exactly that."""
    assert sc.nodes == ["G1", "G2"]
    assert "partition" in _kinds(sc)
    assert "crash" not in _kinds(sc)
    assert sc.network.loss == 0


@given(cst.scenarios(nodes=(3, 4), partitioned=False, crashes=True, heal=True, loss=True))
def test_healed_schedules_end_every_fault(sc: Scenario) -> None:
    """With ``heal=True`` every crash is followed by a recovery, and with
    ``partitioned=False`` nothing is cut."""
    assert 3 <= len(sc.nodes) <= 4
    assert not {"partition", "cut"} & set(_kinds(sc))
    down: set[str] = set()
    for ev in sc.nemesis:
        if ev.crash:
            down.add(ev.crash)
        if ev.recover:
            down.discard(ev.recover)
    assert not down
    assert sc.network.loss > 0


@given(st.data())
def test_partitions_keep_the_separated_nodes_apart(data: st.DataObject) -> None:
    """``partitions(nodes, separating=...)`` names every node once and splits the given ones."""
    n = data.draw(st.integers(min_value=2, max_value=6))
    nodes = cst.node_names(n)
    apart = data.draw(st.lists(st.sampled_from(nodes), unique=True, max_size=n))
    groups = data.draw(cst.partitions(nodes, separating=apart))
    assert sorted(x for g in groups for x in g) == sorted(nodes)
    assert len(groups) >= 2
    for g in groups:
        assert len(set(g) & set(apart)) <= 1


@given(cst.latencies(bounded=True))
def test_bounded_latencies_have_an_upper_bound(dist: object) -> None:
    """``latencies(bounded=True)`` only draws distributions with a finite upper bound."""
    assert dist.upper_bound() < float("inf")  # type: ignore[attr-defined]


@given(cst.scenarios(policy="ap", fs=("read", "write", "cas"), keys=2, workload=True,
                     final_reads=True))
def test_scheduled_writes_use_fresh_values(sc: Scenario) -> None:
    """Every scheduled write or cas sets a value no other scheduled op sets (per key)."""
    seen: set[tuple[str, object]] = set()
    for op in sc.operations:
        if op.f != "read":
            new = op.value if op.f == "write" else op.value[1]
            assert (op.key, new) not in seen
            assert new != sc.initial[op.key]
            seen.add((op.key, new))


@given(cst.scenarios(policy=None, cuts=True, crashes=None, loss=None, workload=None,
                     final_reads=True))
def test_to_yaml_round_trips(sc: Scenario) -> None:
    """``Scenario.to_yaml()`` loads back to an equal scenario."""
    assert parse_scenario_text(sc.to_yaml()) == sc


@given(cst.scenarios(policy=None), cst.seeds())
@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow])
def test_reproduction_replays_from_the_command_line(sc: Scenario, seed: int) -> None:
    """The reproduction text is a scenario `capsim run` accepts, and it replays the same run."""
    policy = sc.policies[0]
    text = reproduction(sc, policy=policy, seed=seed)
    assert extract_reproduction("noise before\n" + text + "noise after\n") == text
    expected = simulate(sc, policy=policy, seed=seed)
    replay = _cli_run(text)
    assert replay["seed"] == seed
    assert replay["policy"] == policy
    assert replay["checks"] == json.loads(expected.to_json())["checks"]


def _cli_run(text: str) -> dict:
    """``capsim run counterexample.yaml --no-write --json`` on ``text``, parsed."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counterexample.yaml"
        path.write_text(text, encoding="utf-8")
        out = CliRunner().invoke(app, ["run", str(path), "--no-write", "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_a_failing_example_prints_a_runnable_scenario(tmp_path: Path) -> None:
    """When a property fails, the shrunk example is printed as YAML that reproduces the failure."""
    error = claims.counterexample(claims.ANY_FAULTS, lambda sc: claims.check_cp_consistent(
        sc, broken.QuorumOfOne), shrink=True)
    report = "\n".join(getattr(error, "__notes__", []))
    text = extract_reproduction(report)
    assert "tests.properties.broken.QuorumOfOne" in text  # the unregistered policy is named
    path = tmp_path / "counterexample.yaml"
    path.write_text(text, encoding="utf-8")
    sc = load_scenario(path)
    _cli_run(text)  # `capsim run` accepts it (under the registered stand-in)
    with pytest.raises(AssertionError, match="not linearizable"):
        claims.check_cp_consistent(sc, broken.QuorumOfOne)  # and the failure comes back
    # Shrinking works: a handful of operations, early, on a small cluster.
    assert len(sc.nodes) <= 3
    assert len(sc.operations) <= 10


def test_a_failing_registered_policy_replays_with_capsim_run() -> None:
    """A counterexample under a registered policy replays with plain `capsim run`, same verdict."""
    error = claims.counterexample(
        claims.AP_ANY_FAULTS, lambda sc: claims.check_cp_consistent(sc, "ap"), shrink=True)
    text = extract_reproduction("\n".join(getattr(error, "__notes__", [])))
    replay = _cli_run(text)
    assert replay["policy"] == "ap"
    assert replay["checks"]["linearizable"]["linearizable"] is False


def test_every_registered_policy_runs_with_default_params() -> None:
    """Properties run every registered policy with its defaults, so each needs them."""
    for name in REGISTRY:
        assert claims.replicas_for(name) >= 2


DOC = Path(__file__).resolve().parents[2] / "docs" / "properties.md"


def test_the_examples_in_the_docs_run() -> None:
    """Every Python example in docs/properties.md runs, and its properties hold."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks
    ran = 0
    for block in blocks:
        namespace: dict[str, object] = {}
        exec(compile(block, str(DOC), "exec"), namespace)
        for name, value in namespace.items():
            if name.startswith("test_") and callable(value):
                settings(max_examples=25)(value)()
                ran += 1
    assert ran >= 2

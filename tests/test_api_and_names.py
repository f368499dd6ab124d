"""Python API and names (issue 19 §4): capsim's own errors, one params shape, Unicode names,
the other kind of file recognised."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim import simulate
from capsim.cli import app
from capsim.errors import ScenarioError
from capsim.scenario import load_scenario, parse_scenario_text

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "scenarios" / "partition.yaml"
runner = CliRunner()


def test_a_misspelt_tunable_is_named_with_its_line_in_run_and_validate(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\nduration: 5\nnodes: [A]\nparams: {cp: {give_upp: 0.8}}\n")
    for cmd in (["validate", str(p)], ["run", str(p), "--no-write"]):
        res = runner.invoke(app, cmd)
        assert res.exit_code == 2
        assert res.output.strip() == (f"error: {p}:4: params.cp.give_upp: unknown field "
                                      "'give_upp'; valid fields here: give_up")


def test_simulate_params_errors_are_capsims_with_the_cli_words():
    sc = load_scenario(SEED)
    with pytest.raises(ScenarioError) as err:
        simulate(sc, policy="cp", params={"give_upp": 0.8})
    assert str(err.value) == ("simulate(params=…): params.cp.give_upp: unknown field "
                              "'give_upp'; valid fields here: give_up")
    assert "pydantic" not in str(err.value) and "http" not in str(err.value)


def test_simulate_takes_params_nested_like_yaml_or_flat_but_not_mixed():
    sc = load_scenario(SEED)
    nested = simulate(sc, policy="ap", params={"ap": {"sync_interval": 0.25}})
    flat = simulate(sc, policy="ap", params={"sync_interval": 0.25})
    assert nested.params["sync_interval"] == flat.params["sync_interval"] == 0.25
    assert nested.history.to_jsonl() == flat.history.to_jsonl()
    # nested params of another policy are simply not this run's
    assert simulate(sc, policy="ap", params={"cp": {"give_up": 0.5}}).params["sync_interval"] \
        == 1.0
    with pytest.raises(ScenarioError, match="give params nested by policy, as in a scenario "
                                            "file"):
        simulate(sc, policy="ap", params={"ap": {}, "sync_interval": 0.25})


def test_a_policy_named_twice_is_refused_in_yaml(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(SEED.read_text().replace("policy: [cp, ap]", "policy: [cp, cp]"))
    res = runner.invoke(app, ["run", str(p), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "policy[1]: policy 'cp' is named twice; name each policy once" in res.output
    assert not (tmp_path / "o").exists()


def test_unicode_names_are_names_and_the_rule_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "s.yaml"
    p.write_text("name: 故事\nduration: 5\nnodes: [A]\n")
    res = runner.invoke(app, ["run", str(p), "--no-plot"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "runs" / "故事" / "result.json").is_file()
    with pytest.raises(ScenarioError) as err:
        parse_scenario_text("name: ../up\nduration: 5\nnodes: [A]\n")
    assert "name may use letters (of any script, e.g. 故事), digits" in str(err.value)
    with pytest.raises(ScenarioError, match="at most 100 characters"):
        parse_scenario_text(f"name: {'a' * 300}\nduration: 5\nnodes: [A]\n")


def test_run_and_sweep_recognise_each_others_files():
    sweep = ROOT / "scenarios" / "sweeps" / "partition-length.yaml"
    res = runner.invoke(app, ["run", str(sweep)])
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"error: {sweep}: this is a sweep file (it has base and set, zip, seeds, plots), "
        "not a scenario; run it with: capsim sweep FILE")
    res = runner.invoke(app, ["sweep", str(SEED), "--dry-run"])
    assert res.exit_code == 2
    assert (f"error: {SEED}: this is a scenario file (it has duration, nodes, clients, "
            "operations, nemesis), not a sweep; run it with: capsim run FILE") in res.output

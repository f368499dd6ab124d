"""What notebooks rely on: DataFrames, HTML summaries, saved runs that load back."""

from __future__ import annotations

import pytest

from capsim import RunResult, parse_scenario, seed_scenario, simulate
from capsim.cli.run import write_run
from capsim.errors import CapsimError, ScenarioError


def test_history_frame_has_one_row_per_event():
    pd = pytest.importorskip("pandas")
    r = simulate(seed_scenario(), policy="ap")
    df = r.history_frame()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(r.history)
    bob = df[(df.process == "bob") & (df.type == "ok")]
    assert list(bob.value) == ["v0", "v1"]


def test_html_summary_names_policy_and_numbers():
    r = simulate(seed_scenario(), policy="cp")
    html = r._repr_html_()
    assert "<table>" in html and "cp" in html and "availability" in html


def test_saved_run_loads_back_equal(tmp_path):
    r = simulate(seed_scenario(), policy="ap")
    write_run(r, tmp_path)
    back = RunResult.load(tmp_path)
    assert back.history == r.history
    assert back.trace == r.trace
    assert back.faults == r.faults
    assert back.messages == r.messages
    assert back.checks == r.checks
    assert back.scenario == r.scenario


def test_loading_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(CapsimError, match="no history.jsonl here"):
        RunResult.load(tmp_path)


def test_python_built_scenarios_get_the_yaml_validation():
    with pytest.raises(ScenarioError) as exc:
        parse_scenario({"name": "p", "duration": 5, "nodes": ["A"],
                        "clients": [{"name": "c", "node": "Z"}]})
    assert "clients[0].node: unknown node 'Z'" in str(exc.value)


def test_replace_and_yaml_round_trip():
    sc = seed_scenario()
    moved = sc.replace(duration=12.0)
    assert moved.duration == 12.0 and moved.nodes == sc.nodes
    from capsim import parse_scenario_text

    assert parse_scenario_text(sc.to_yaml()) == sc

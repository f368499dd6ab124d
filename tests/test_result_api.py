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
    with pytest.raises(CapsimError, match=r"no history\.jsonl here"):
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


def test_operations_frame_marks_the_stale_read_in_the_partition():
    pytest.importorskip("pandas")
    ops = simulate(seed_scenario(), policy="ap").operations_frame()
    assert list(ops.process) == ["alice", "bob", "bob"]
    reads = ops[ops.f == "read"]
    assert list(reads.value) == ["v0", "v1"]
    assert list(reads.stale) == [True, False]
    assert list(reads.partitioned) == [True, False]
    assert list(ops.latency) == [0.0, 0.0, 0.0]  # ap answers from the local copy


def test_operations_frame_latency_is_cps_round_trip():
    pytest.importorskip("pandas")
    ops = simulate(seed_scenario(), policy="cp").operations_frame()
    write = ops[ops.f == "write"].iloc[0]
    assert write.type == "fail" and write.partitioned and "majority" in write.error
    last = ops.iloc[-1]
    assert last.type == "ok" and last.value == "v0" and not last.partitioned
    # one round trip to the other replica (2 x 50 ms): the README's "t=8→8.1"
    assert last.latency == pytest.approx(0.1)
    assert not ops.stale.any()


def test_operations_frame_of_a_history_cut_short():
    pd = pytest.importorskip("pandas")
    from capsim import Event, History

    hist = History([
        Event(0, 1.0, "alice", "G1", "invoke", "write", "x", "v1"),
        Event(1, 1.5, "alice", "G1", "ok", "write", "x", "v1"),
        Event(2, 2.0, "bob", "G2", "invoke", "read", "x"),
    ])
    r = RunResult(scenario=seed_scenario(), policy="ap", seed=0, history=hist,
                  trace=[], faults=[], messages=[])
    ops = r.operations_frame()
    assert list(ops.type) == ["ok", "info"]
    assert ops.latency.iloc[0] == pytest.approx(0.5)
    assert pd.isna(ops.end.iloc[1]) and pd.isna(ops.latency.iloc[1])
    assert not ops.partitioned.any()  # no faults in this result


def test_public_api_is_explicit_and_lazy():
    import subprocess
    import sys

    import capsim

    assert set(capsim.__all__) == set(capsim._EXPORTS) | {"POLICIES", "__version__"}
    for name in capsim.__all__:
        assert getattr(capsim, name) is not None
    # `import capsim` alone loads none of the heavy libraries.
    code = ("import sys, capsim; heavy = {'simpy', 'networkx', 'numpy', 'matplotlib', 'rich'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_results_name_the_policy_with_its_tunables(tmp_path):
    r = simulate(seed_scenario(), policy="quorum", params={"r": 1, "w": 2})
    assert r.label == "quorum N=2 R=1 W=2"
    assert simulate(seed_scenario(), policy="ap", params={"sync_interval": 0.5}).label == (
        "ap sync_interval=0.5")
    assert simulate(seed_scenario(), policy="cp").label == "cp"
    write_run(r, tmp_path)
    back = RunResult.load(tmp_path)
    assert back.params["w"] == 2 and back.label == r.label

"""Engine behaviour: crashes, cuts, loss, workload, and the run folder."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from capsim import load_scenario, parse_scenario, seed_scenario, simulate
from capsim.cli import app
from capsim.policies import AP, CP
from capsim.policies.base import Reply, Request, Send, SetTimer, Stored
from capsim.policies.cp import CPParams

from .paths import SCENARIOS


def _base(**kw):
    d = {
        "name": "t", "duration": 10.0, "nodes": ["G1", "G2", "G3"], "initial": {"x": "v0"},
        "network": {"latency": {"dist": "constant", "value": 0.05}},
        "clients": [{"name": "a", "node": "G1"}, {"name": "c", "node": "G3"}],
    }
    d.update(kw)
    return parse_scenario(d)


def test_crashed_node_answers_nothing_and_is_excluded_from_availability():
    r = simulate(load_scenario(SCENARIOS / "crash.yaml"), policy="cp")
    ops = r.history.operations()
    carol_down = next(op for op in ops if op.process == "carol" and op.start == 3.0)
    assert carol_down.type == "info"
    assert carol_down.complete.error == "G3 is down"
    av = r.checks["availability"]
    assert av["excluded_down"] == 1
    assert av["overall"] == 1.0  # every request to a live node was answered
    # cp keeps a majority (G1, G2) while G3 is down
    assert [op.type for op in ops if op.process == "alice"] == ["ok", "ok"]
    # after recovery G3 serves the latest acknowledged value
    carol_after = next(op for op in ops if op.process == "carol" and op.start == 6.5)
    assert (carol_after.type, carol_after.value) == ("ok", "v2")


def test_crashed_node_keeps_durable_state_after_recovery():
    sc = _base(
        nemesis=[{"at": 2.0, "crash": "G3"}, {"at": 3.0, "recover": "G3"}],
        operations=[{"at": 1.0, "client": "a", "write": {"x": "v1"}}],
        policy="ap", params={"ap": {"sync_interval": 100}},
    )
    r = simulate(sc)
    g3 = [t for t in r.trace if t.node == "G3"]
    assert g3[-1].value == "v1"  # replicated at t=1.05, survived the crash
    assert r.checks["convergence"]["converged"] is True


def test_one_way_cut_drops_only_one_direction():
    sc = _base(
        nemesis=[{"at": 0.5, "cut": {"from": ["G1"], "to": ["G3"]}}],
        operations=[{"at": 1.0, "client": "a", "write": {"x": "v1"}},
                    {"at": 1.5, "client": "c", "write": {"x": "v2"}}],
        policy="ap", params={"ap": {"sync_interval": 100}},
    )
    r = simulate(sc)
    status = {(m.src, m.dst, m.sent): m.status for m in r.messages}
    assert status[("G1", "G3", 1.0)] == "cut"
    assert status[("G1", "G2", 1.0)] == "delivered"
    assert status[("G3", "G1", 1.5)] == "delivered"
    assert r.faults[0].kind == "cut" and r.faults[0].label == "G1 → G3 cut"


def test_partition_leaves_unnamed_nodes_together():
    sc = _base(nemesis=[{"at": 0.5, "partition": [["G1"]]}],
               operations=[{"at": 1.0, "client": "c", "write": {"x": "v1"}}])
    r = simulate(sc, policy="cp")
    assert r.faults[0].groups == [["G1"], ["G2", "G3"]]
    assert r.history.operations()[0].type == "ok"  # G3 + G2 are a majority


def test_total_loss_makes_cp_refuse_and_ap_diverge():
    sc = _base(network={"latency": {"dist": "constant", "value": 0.01}, "loss": 0.999},
               operations=[{"at": 1.0, "client": "a", "write": {"x": "v1"}},
                           {"at": 2.0, "client": "c", "read": "x"}])
    cp = simulate(sc, policy="cp")
    assert [op.type for op in cp.history.operations()] == ["fail", "fail"]
    assert {m.status for m in cp.messages} == {"lost"}
    ap = simulate(sc, policy="ap")
    assert [op.value for op in ap.history.operations()] == ["v1", "v0"]


def test_workload_generates_unique_values_and_respects_rate():
    sc = parse_scenario({
        "name": "w", "duration": 20.0, "nodes": ["A", "B"], "initial": {"x": "v0"},
        "workload": {"rate": 50, "reads": 0.5, "clients": 4},
    })
    r = simulate(sc, policy="ap")
    ops = r.history.operations()
    assert 800 < len(ops) < 1200  # 50/s for 20 s
    writes = [op.value for op in ops if op.f == "write"]
    assert len(writes) == len(set(writes))
    assert {op.process for op in ops} == {"w1", "w2", "w3", "w4"}
    assert {op.node for op in ops if op.process == "w2"} == {"B"}


def test_cas_is_refused_under_cp_with_a_reason():
    from capsim.errors import ScenarioError

    sc = _base(operations=[{"at": 1.0, "client": "a", "cas": {"x": ["v0", "v1"]}}])
    with pytest.raises(ScenarioError, match=r"does not offer cas.*consensus"):
        simulate(sc, policy="cp")
    r = simulate(sc, policy="ap")
    assert r.history.operations()[0].type == "ok"


def test_open_requests_at_the_end_are_info():
    sc = _base(duration=2.0, nemesis=[{"at": 0.0, "partition": [["G1"], ["G2"], ["G3"]]}],
               operations=[{"at": 1.5, "client": "a", "write": {"x": "v1"}}])
    r = simulate(sc, policy="cp")
    last = r.history[-1]
    assert (last.type, last.error) == ("info", "the run ended before an answer came")


# --- policies are plain state machines ---------------------------------------

def test_cp_policy_without_an_event_loop():
    g1 = CP("G1", ["G1", "G2", "G3"], {"x": "v0"}, CPParams(), timeout=1.0)
    out = g1.on_request(0.0, Request(1, "write", "x", "v1"))
    sends = [e for e in out if isinstance(e, Send)]
    assert [(s.dst, s.msg["t"]) for s in sends] == [("G2", "get"), ("G3", "get")]
    assert any(isinstance(e, SetTimer) for e in out)
    out = g1.on_message(0.1, "G2", {"t": "got", "op": 1, "value": "v0", "ver": [0, ""]})
    # majority reached: store phase, stored locally first
    assert Stored("x", "v1") in out
    puts = [e for e in out if isinstance(e, Send)]
    assert {p.msg["t"] for p in puts} == {"put"} and puts[0].msg["ver"] == [1, "G1"]
    out = g1.on_message(0.2, "G3", {"t": "stored", "op": 1})
    assert out == [Reply(1, "ok", "v1")]


def test_cp_gives_up_cleanly_before_storing():
    g1 = CP("G1", ["G1", "G2"], {"x": "v0"}, CPParams(give_up=0.5), timeout=1.0)
    out = g1.on_request(0.0, Request(7, "read", "x"))
    timer = next(e for e in out if isinstance(e, SetTimer))
    assert timer.delay == 0.5
    (reply,) = g1.on_timer(0.5, timer.token)
    assert (reply.request, reply.type) == (7, "fail")


def test_ap_policy_last_writer_wins():
    g2 = AP("G2", ["G1", "G2"], {"x": "v0"}, AP.Params(), timeout=1.0)
    g2.on_message(0.0, "G1", {"t": "put", "key": "x", "value": "v1", "ver": [1, "G1"]})
    g2.on_message(0.0, "G1", {"t": "put", "key": "x", "value": "old", "ver": [1, "A"]})
    assert g2.value_of("x") == "v1"
    (reply,) = g2.on_request(0.1, Request(1, "read", "x"))
    assert reply == Reply(1, "ok", "v1")


# --- the CLI run folder -------------------------------------------------------

runner = CliRunner()


def test_run_writes_folder_atomically_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", str(SCENARIOS / "partition.yaml"), "-p", "ap",
                              "--out", str(out), "--no-plot"])
    assert res.exit_code == 0, res.output
    hist = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    bob = next(e for e in hist if e["process"] == "bob" and e["type"] == "ok")
    assert (bob["time"], bob["value"]) == (3.0, "v0")
    result = json.loads((out / "result.json").read_text())
    assert result["checks"]["stale_reads"]["count"] == 1
    assert result["policy"] == "ap" and result["seed"] == 7 and result["capsim_version"]
    # A folder capsim wrote and nobody changed is capsim's to replace (issue 19);
    # once the user edits a file in it, it is theirs and needs --force.
    (out / "history.jsonl").write_text("my edit")
    res = runner.invoke(app, ["run", str(SCENARIOS / "partition.yaml"), "-p", "cp",
                              "--out", str(out), "--no-plot"])
    assert res.exit_code == 2 and "--force" in res.output
    assert (out / "history.jsonl").read_text() == "my edit"
    res = runner.invoke(app, ["run", str(SCENARIOS / "partition.yaml"), "-p", "cp",
                              "--out", str(out), "--force", "--no-plot"])
    assert res.exit_code == 0
    cp = json.loads((out / "result.json").read_text())
    assert cp["policy"] == "cp"
    assert cp["checks"]["availability"]["during_partition"] < 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    res = runner.invoke(app, ["run", str(SCENARIOS / "partition.yaml"), "-p", "ap",
                              "--out", str(out), "--no-plot"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "result.json").read_text())["policy"] == "ap"


def test_run_without_scenario_runs_the_seed_story_under_cp_and_ap(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["run"])
    assert res.exit_code == 0, res.output
    assert "seed-cap-story" in res.output and "cp" in res.output and "ap" in res.output
    assert (tmp_path / "runs/seed-cap-story/cp/history.jsonl").is_file()
    assert (tmp_path / "runs/seed-cap-story/ap/result.json").is_file()


def test_run_json_output_is_machine_readable():
    res = runner.invoke(app, ["run", "--no-write", "--json"])
    data = json.loads(res.output)
    assert [d["policy"] for d in data] == ["cp", "ap"]


def test_packaged_seed_equals_the_scenario_file():
    assert seed_scenario() == load_scenario(SCENARIOS / "partition.yaml")


def test_version_schema_and_policies():
    assert runner.invoke(app, ["--version"]).output.startswith("capsim ")
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    assert "nemesis" in schema["properties"]
    assert "cp" in runner.invoke(app, ["policies"]).output


def test_every_shipped_scenario_is_valid_and_runs():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        sc = load_scenario(path)
        for p in sc.policies:
            r = simulate(sc, policy=p)
            assert len(r.history) > 0, path

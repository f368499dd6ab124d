"""The ladder where a user sees verdicts: ``capsim run``'s output and result.json,
``capsim check --model``, and the scenarios that move along it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim import simulate
from capsim.check.model_result import MODELS
from capsim.cli import app
from capsim.scenario import load_scenario
from tests.histories import build, r, w
from tests.paths import SCENARIOS

runner = CliRunner()


def _run(*args: str) -> str:
    res = runner.invoke(app, ["run", *args, "--no-plot"], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    return res.output


def test_partition_story_shows_the_ladder_for_cp_and_ap(tmp_path: Path) -> None:
    out = _run(str(SCENARIOS / "partition.yaml"), "--out", str(tmp_path / "run"))
    assert ("cp ladder: linearizable ✓ · sequential ✓ · causal ✓ · PRAM ✓ · RYW ✓ · MR ✓ · "
            "MW ✓ · WFR ✓ · convergence ✓") in out
    assert ("ap ladder: linearizable ✗ · sequential ✓ · causal ✓ · PRAM ✓ · RYW ✓ · MR ✓ · "
            "MW ✓ · WFR ✓ · convergence ✓") in out
    # the one ✗ has its sentence (the linearizability explanation)
    assert "ap: bob read v0 from G2 at t=3.00 s, but alice's write of v1" in out
    for policy, lin in (("cp", "yes"), ("ap", "no")):
        doc = json.loads((tmp_path / "run" / policy / "result.json").read_text())
        ladder = doc["checks"]["ladder"]
        assert list(ladder) == list(MODELS)
        assert ladder["linearizable"]["verdict"] == lin
        assert all(ladder[m]["verdict"] == "yes" for m in MODELS[1:])


def test_store_buffer_scenario_breaks_sequential_consistency_under_ap() -> None:
    out = _run(str(SCENARIOS / "ladder-sequential.yaml"), "--no-write")
    assert "cp ladder: linearizable ✓ · sequential ✓ · causal ✓" in out
    assert "ap ladder: linearizable ✗ · sequential ✗ · causal ✓ · PRAM ✓" in out
    assert ("✗ sequential: No single order of all the operations keeps each client's own "
            "order") in out
    assert "alice read v0 of y from G1 at t=3 s" in out


def test_sticky_session_keeps_ryw_and_mr_a_hopping_client_breaks_them() -> None:
    sticky = _run(str(SCENARIOS / "ladder-sticky.yaml"), "--no-write")
    assert "RYW ✓ · MR ✓" in sticky and "linearizable ✗" in sticky
    hop = _run(str(SCENARIOS / "ladder-hop.yaml"), "--no-write")
    assert "RYW ✗ · MR ✗ · MW ✓ · WFR ✓" in hop
    assert "✗ read your writes: carol did not read their own writes" in hop
    assert "carol read v0 of x from G2 at t=3 s" in hop
    assert "✗ monotonic reads: carol's reads went back in time" in hop


def test_hop_route_sends_requests_round_robin_from_home() -> None:
    res = simulate(load_scenario(SCENARIOS / "ladder-hop.yaml"))
    nodes = [e.node for e in res.history if e.process == "carol" and e.type == "invoke"]
    assert nodes == ["G1", "G2", "G1", "G2", "G1"]
    sticky = simulate(load_scenario(SCENARIOS / "ladder-sticky.yaml"))
    assert {e.node for e in sticky.history if e.process == "carol"} == {"G1"}


def test_effect_before_cause_scenario_breaks_causal_not_pram() -> None:
    out = _run(str(SCENARIOS / "ladder-causal.yaml"), "--no-write")
    assert "sequential ✗ · causal ✗ · PRAM ✓ · RYW ✓ · MR ✓ · MW ✓ · WFR ✗ · convergence ✓" in out
    assert "✗ causal: carol saw an effect before its cause" in out


def test_ladder_in_chinese() -> None:
    out = _run(str(SCENARIOS / "ladder-hop.yaml"), "--no-write", "--lang", "zh")
    assert "一致性阶梯：线性一致 ✗ · 顺序一致 ✗" in out
    assert "读己之写: carol 没有读到自己的写入" in out


def test_unknown_route_is_a_clear_error(tmp_path: Path) -> None:
    bad = (SCENARIOS / "ladder-hop.yaml").read_text().replace("route: hop", "route: teleport")
    p = tmp_path / "bad.yaml"
    p.write_text(bad)
    res = runner.invoke(app, ["run", str(p), "--no-plot", "--no-write"])
    assert res.exit_code == 2
    assert "bad.yaml:" in res.output and "route" in res.output and "Traceback" not in res.output


STALE = build(w("alice", "v1", 2.0, 2.1, node="G1"), r("bob", "v0", 3.0, 3.05, node="G2"))
BACK = build(w("a", "1", 0, 1), w("b", "2", 0, 1), r("c", "1", 2, 3), r("c", "2", 4, 5),
             r("c", "1", 6, 7))


def _file(tmp_path: Path, h: object) -> str:
    p = tmp_path / "h.jsonl"
    p.write_text(h.to_jsonl())  # type: ignore[attr-defined]
    return str(p)


@pytest.mark.parametrize(("model", "code"), [("linearizable", 1), ("sequential", 0),
                                             ("causal", 0), ("ryw", 0)])
def test_check_one_model_exit_codes(tmp_path: Path, model: str, code: int) -> None:
    res = runner.invoke(app, ["check", _file(tmp_path, STALE), "--initial", "x=v0",
                              "--model", model])
    assert res.exit_code == code, res.output


def test_check_all_prints_the_ladder_and_each_broken_model(tmp_path: Path) -> None:
    res = runner.invoke(app, ["check", _file(tmp_path, BACK), "--initial", "x=0",
                              "--model", "all"])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[1] == ("linearizable ✗ · sequential ✗ · causal ✗ · PRAM ✗ · RYW ✓ · MR ✗ · "
                        "MW ✓ · WFR ✓")
    assert "monotonic reads: NO" in res.output
    assert "c's reads went back in time" in res.output
    assert "read your writes: yes" in res.output


def test_check_models_as_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["check", _file(tmp_path, BACK), "--initial", "x=0",
                              "--model", "mr", "--json"])
    assert res.exit_code == 1
    doc = json.loads(res.output)
    assert doc["models"]["mr"]["verdict"] == "no"
    assert doc["models"]["mr"]["process"] == "c"
    assert len(doc["models"]["mr"]["witness"]) == 5


def test_check_rejects_an_unknown_model(tmp_path: Path) -> None:
    res = runner.invoke(app, ["check", _file(tmp_path, STALE), "--model", "serializable"])
    assert res.exit_code == 2

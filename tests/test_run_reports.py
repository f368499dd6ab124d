"""What a run reports beyond the verdict (issue 19 §3): unissued ops, "never" explained,
operations that could never run refused at validation."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from capsim.cli import app
from tests.plot_cases import texts

runner = CliRunner()

QUEUED = """\
name: queued
duration: 3.0
nodes: [G1, G2]
initial: {x: v0}
nemesis:
  - {at: 1.0, partition: [[G1], [G2]]}
clients:
  - {name: alice, node: G1}
operations:
  - {at: 2.0, client: alice, write: {x: v1}}
  - {at: 2.1, client: alice, write: {x: v2}}
  - {at: 2.2, client: alice, write: {x: v3}}
"""

NEVER = """\
name: cp-never
duration: 10
nodes: [A, B, C]
initial: {x: v0}
nemesis:
  - {at: 1, partition: [[A], [B, C]]}
  - {at: 3, heal: true}
clients:
  - {name: bob, node: B}
operations:
  - {at: 2, client: bob, write: {x: v1}}
"""


def _file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_operations_a_waiting_client_never_issued_are_counted_and_explained(tmp_path):
    out = tmp_path / "r"
    res = runner.invoke(app, ["run", str(_file(tmp_path, QUEUED)), "-p", "cp", "--out",
                              str(out), "--no-plot"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["checks"]["ops"]["not_issued"] == 1
    assert doc["checks"]["not_issued"]["by_client"] == {"alice": 1}
    reason = doc["checks"]["not_issued"]["reason"]
    assert reason.startswith("1 planned operations were never issued: a client waits for "
                             "the answer to its previous operation")
    assert "│ not issued " in res.output and "1 │" in res.output
    flat = " ".join(res.output.split())
    assert "cp: 1 planned operations were never issued" in flat
    # the table shows the row only when some column needs it: the seed story has none
    seed = runner.invoke(app, ["run", "--no-write"])
    assert "not issued" not in seed.output


def test_an_operation_at_the_very_end_is_refused_by_validate(tmp_path):
    bad = _file(tmp_path, QUEUED.replace("at: 2.2, client", "at: 3.0, client"))
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2
    assert (f"{bad}:12: operations[2].at: time 3.0 is not before the end of the run (3.0), "
            "so the operation would never run") in res.output


def test_cp_never_converging_says_why_in_table_and_plot(tmp_path):
    from capsim import simulate
    from capsim.plot import timeline
    from capsim.scenario import parse_scenario_text

    res = runner.invoke(app, ["run", str(_file(tmp_path, NEVER)), "-p", "cp,ap", "--no-write"])
    assert res.exit_code == 0, res.output
    assert "never*" in res.output
    flat = " ".join(res.output.split())
    assert "cp: convergence never*: cp has no anti-entropy: a write only needs a majority" in flat
    assert "this is not a consistency bug" in flat
    sc = parse_scenario_text(NEVER)
    words = texts(timeline(simulate(sc, policy="cp")))
    assert "replicas differ at the end: cp has no anti-entropy (by design)" in words
    assert "not converged by the end" not in words
    zh = runner.invoke(app, ["run", str(_file(tmp_path, NEVER)), "-p", "cp", "--no-write",
                             "--lang", "zh"])
    assert "cp没有反熵" in "".join(zh.output.split())

"""Every bad input gets one clear paragraph naming file, line and field; exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app

GOOD = """\
name: t
duration: 10
nodes: [G1, G2]
initial: {x: v0}
network:
  latency: {dist: constant, value: 0.05}
nemesis:
  - {at: 1.0, partition: [[G1], [G2]]}
  - {at: 6.0, heal: true}
clients:
  - {name: alice, node: G1}
operations:
  - {at: 2.0, client: alice, write: {x: v1}}
  - {at: 3.0, client: alice, read: x}
"""

CASES = {
    # name: (text change (old, new), expected line, expected words)
    "unknown key": (("duration: 10", "duration: 10\ncolour: red"), 3, ["unknown field 'colour'",
                                                                     "valid fields here"]),
    "wrong type": (("duration: 10", "duration: ten"), 2, ["duration", "'ten'"]),
    "negative time": (("- {at: 2.0, client", "- {at: -2.0, client"), 13,
                      ["operations[0].at", "greater than or equal to 0"]),
    "non-monotonic times": (("- {at: 3.0, client: alice, read", "- {at: 1.5, client: alice, read"),
                            14, ["operations[1].at", "before the previous"]),
    "unknown node in partition": (("[[G1], [G2]]", "[[G1], [G3]]"), 8,
                                  ["nemesis[0].partition[1][0]", "unknown node 'G3'", "G1, G2"]),
    "unknown node for client": (("{name: alice, node: G1}", "{name: alice, node: G9}"), 11,
                                ["clients[0].node", "unknown node 'G9'"]),
    "op for unknown client": (("- {at: 3.0, client: alice", "- {at: 3.0, client: bob"), 14,
                              ["operations[1].client", "unknown client 'bob'", "alice"]),
    "duration <= 0": (("duration: 10", "duration: 0"), 2, ["duration", "greater than 0"]),
    "bad latency parameters": (("{dist: constant, value: 0.05}",
                                "{dist: uniform, low: 0.5, high: 0.1}"), 6,
                               ["network.latency", "high (0.1) must be >= low (0.5)"]),
    "unknown distribution": (("{dist: constant, value: 0.05}", "{dist: gaussian, value: 0.05}"),
                             6, ["network.latency", "'gaussian'", "constant"]),
    "event beyond the run": (("{at: 6.0, heal: true}", "{at: 60.0, heal: true}"), 9,
                             ["nemesis[1].at", "after the end of the run"]),
    "two faults in one event": (("{at: 6.0, heal: true}", "{at: 6.0, heal: true, crash: G1}"), 9,
                                ["nemesis[1]", "exactly one of"]),
    "unknown policy": (("duration: 10", "duration: 10\npolicy: paxos"), 3,
                       ["policy", "unknown policy 'paxos'", "cp, ap"]),
}

runner = CliRunner()


def _run(path: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["validate", str(path)])
    return res.exit_code, res.output + (res.stderr if hasattr(res, "stderr") else "")


def test_the_good_file_is_valid(tmp_path):
    p = tmp_path / "good.yaml"
    p.write_text(GOOD)
    code, out = _run(p)
    assert code == 0, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario(tmp_path, case):
    (old, new), line, words = CASES[case]
    assert old in GOOD
    p = tmp_path / "bad.yaml"
    p.write_text(GOOD.replace(old, new, 1))
    res = runner.invoke(app, ["run", str(p), "--no-write"])
    assert res.exit_code == 2, res.output
    out = res.output
    assert "Traceback" not in out
    assert f"{p}:{line}:" in out, out
    for w in words:
        assert w in out, (w, out)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("\n")
    code, out = _run(p)
    assert code == 2 and "is empty" in out and str(p) in out


def test_not_yaml(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: [unclosed\nnodes: {\n")
    code, out = _run(p)
    assert code == 2 and "not valid YAML" in out and f"{p}:" in out


def test_yaml_that_is_not_a_mapping(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("- just\n- a list\n")
    code, out = _run(p)
    assert code == 2 and "mapping" in out


def test_binary_file(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_bytes(b"\xff\xfe\x00\x01")
    code, out = _run(p)
    assert code == 2 and "not a text file" in out


def test_missing_file(tmp_path):
    p = tmp_path / "nope.yaml"
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2 and "no such file" in res.output and str(p) in res.output


def test_real_process_prints_no_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(GOOD.replace("[[G1], [G2]]", "[[G1], [G3]]"))
    proc = subprocess.run([sys.executable, "-m", "capsim", "run", str(p), "--no-write"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {p}:8: nemesis[0].partition[1][0]: unknown node 'G3'")


def test_several_problems_are_all_listed(tmp_path):
    p = tmp_path / "bad.yaml"
    text = GOOD.replace("node: G1}", "node: G9}")
    p.write_text(text.replace("client: alice, read", "client: zed, read"))
    res = runner.invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    assert "2 problems" in res.output

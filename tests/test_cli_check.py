"""``capsim check`` on files in all three formats: verdicts, words and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.formats.edn import to_edn
from capsim.history import History
from tests.histories import build, r, w

runner = CliRunner()

STALE = build(w("alice", "v1", 2.0, 2.1, node="G1"), r("bob", "v0", 3.0, 3.05, node="G2"))
FRESH = build(w("alice", "v1", 2.0, 2.1, node="G1"), r("bob", "v1", 3.0, 3.05, node="G2"))
SENTENCE = (
    "bob started a read on G2 at t=3.00 s and got v0, but alice's write of v1 to G1 had "
    "already been acknowledged at t=2.10 s."
)

TXT_OK = "0\t:invoke\t:write\t1\n0\t:ok\t:write\t1\n1\t:invoke\t:read\tnil\n1\t:ok\t:read\t1\n"
TXT_STALE = "0\t:invoke\t:write\t1\n0\t:ok\t:write\t1\n1\t:invoke\t:read\tnil\n1\t:ok\t:read\tnil\n"


def _write(folder: Path, name: str, history: History | str, fmt: str) -> Path:
    p = folder / name
    if isinstance(history, str):
        p.write_text(history, encoding="utf-8")
    elif fmt == "jsonl":
        p.write_text(history.to_jsonl(), encoding="utf-8")
    else:
        p.write_text(to_edn(history), encoding="utf-8")
    return p


@pytest.mark.parametrize("fmt", ["jsonl", "edn"])
def test_verdicts_and_exit_codes(tmp_path: Path, fmt: str) -> None:
    ok = _write(tmp_path, f"fresh.{fmt}", FRESH, fmt)
    bad = _write(tmp_path, f"stale.{fmt}", STALE, fmt)

    res = runner.invoke(app, ["check", str(ok), "--initial", "x=v0"])
    assert res.exit_code == 0, res.output
    assert "linearizable: yes" in res.output

    res = runner.invoke(app, ["check", str(bad), "--initial", "x=v0"])
    assert res.exit_code == 1, res.output
    assert "linearizable: NO" in res.output
    assert SENTENCE in res.output
    assert "breaks at t=3.05 s" in res.output


def test_jepsen_txt_lines(tmp_path: Path) -> None:
    ok = _write(tmp_path, "ok.txt", TXT_OK, "txt")
    bad = _write(tmp_path, "stale.txt", TXT_STALE, "txt")
    assert runner.invoke(app, ["check", str(ok)]).exit_code == 0
    res = runner.invoke(app, ["check", str(bad)])
    assert res.exit_code == 1
    assert (
        "process 1 started a read at t=3.00 s and got None, but process 0's write of 1 had "
        "already been "
        "acknowledged at t=2.00 s." in res.output
    )


def test_format_is_detected_whatever_the_file_is_called(tmp_path: Path) -> None:
    p = _write(tmp_path, "history.data", to_edn(STALE), "edn")
    res = runner.invoke(app, ["check", str(p), "--initial", "x=v0", "--json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["format"] == "edn"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "h.jsonl",
            '{"index":0,"time":0,"process":"a","type":"invoke","f":"read","key":"x"}\n'
            '{"index":1,"time":1,"process":"a","type":"ok","f":"read","key":"x"}\n{oops\n',
            "h.jsonl:3: not JSON",
        ),
        ("h.edn", "{:type :invoke, :f :read, :value nil, :process 0}\n{:type :ok :f\n", "h.edn:2"),
        ("h.txt", "0\t:invoke\t:read\tnil\n0\t:ok\n", "h.txt:2"),
    ],
)
def test_unreadable_input_exits_2_and_names_the_line(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    p = _write(tmp_path, name, text, "")
    res = runner.invoke(app, ["check", str(p)])
    assert res.exit_code == 2
    assert f"error: {tmp_path / where}" in res.output
    assert "Traceback" not in res.output


def test_missing_file_and_bad_options_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["check", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 2
    assert "no such file" in res.output
    p = _write(tmp_path, "h.jsonl", FRESH, "jsonl")
    res = runner.invoke(app, ["check", str(p), "--initial", "x"])
    assert res.exit_code == 2
    assert "expected KEY=VALUE" in res.output
    res = runner.invoke(app, ["check", str(p), "--format", "yaml"])
    assert res.exit_code == 2
    # An EDN file read as JSON Lines is unreadable, not "not linearizable".
    e = _write(tmp_path, "h.edn", STALE, "edn")
    assert runner.invoke(app, ["check", str(e), "--format", "jsonl"]).exit_code == 2


def test_json_output_for_machines(tmp_path: Path) -> None:
    p = _write(tmp_path, "stale.jsonl", STALE, "jsonl")
    res = runner.invoke(app, ["check", str(p), "--initial", "x=v0", "--json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["linearizable"] is False
    assert doc["explanation"] == SENTENCE
    assert doc["ops"] == [0, 2]
    assert doc["format"] == "jsonl"
    assert doc["operations"] == 2
    assert doc["keys"]["x"]["break_time"] == pytest.approx(3.05)


def test_initial_values_are_json_when_they_can_be(tmp_path: Path) -> None:
    p = _write(tmp_path, "ok.txt", "0\t:invoke\t:read\tnil\n0\t:ok\t:read\t0\n", "txt")
    assert runner.invoke(app, ["check", str(p), "--initial", "x=0"]).exit_code == 0
    assert runner.invoke(app, ["check", str(p), "--initial", 'x="0"']).exit_code == 1
    res = runner.invoke(app, ["check", str(p), "--initial", "x=0", "--initial", "zz=1"])
    assert res.exit_code == 0
    assert "never uses" in res.output


def test_budget_that_runs_out_exits_3(tmp_path: Path) -> None:
    many = build(*[w(f"p{i}", f"v{i}", i, i + 0.5) for i in range(40)])
    p = _write(tmp_path, "many.jsonl", many, "jsonl")
    res = runner.invoke(app, ["check", str(p), "--budget-steps", "5"])
    assert res.exit_code == 3
    assert "linearizable: unknown" in res.output
    assert "the step budget (5 steps) ran out" in res.output


def test_the_installed_command_exits_1_on_a_violation(tmp_path: Path) -> None:
    p = _write(tmp_path, "stale.edn", STALE, "edn")
    proc = subprocess.run(
        [sys.executable, "-m", "capsim", "check", str(p), "--initial", "x=v0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert SENTENCE in proc.stdout


def test_run_exports_edn_that_check_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["run", "--policy", "ap", "--export-edn", "--no-plot", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    edn = out / "history.edn"
    first = edn.read_text(encoding="utf-8").splitlines()[0]
    assert ':client "initial"' in first and ':value "v0"' in first
    res = runner.invoke(app, ["check", str(edn)])
    assert res.exit_code == 1
    assert "bob read v0 from G2" in res.output

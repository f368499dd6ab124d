"""Commands behave as people expect (issue 19 §4): type them twice, in any order.

capsim seals every run folder it writes (``.capsim-run`` records each file and
its SHA-256). Such a folder, unchanged, is capsim's to replace; anything else
needs ``--force``, and a regular file is never replaced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".old")))


def test_running_the_same_command_twice_prints_the_result_again(tmp_path):
    out = tmp_path / "r"
    first = runner.invoke(app, ["run", "--out", str(out), "--no-plot"])
    again = runner.invoke(app, ["run", "--out", str(out), "--no-plot"])
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    flat = "".join(again.output.split())  # rich may wrap a long path
    assert "linearizable" in again.output and f"wrote{out}/" in flat
    assert (out / ".capsim-run").is_file() and (out / "cp" / "history.jsonl").is_file()
    assert _leftovers(tmp_path) == []


def test_a_run_folder_someone_changed_is_theirs(tmp_path):
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "--out", str(out), "--no-plot"]).exit_code == 0
    notes = out / "notes.txt"
    notes.write_text("my notes")
    res = runner.invoke(app, ["run", "--out", str(out), "--no-plot"])
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"error: {out} was written by capsim, but notes.txt was added after capsim wrote it; "
        "pass --force to replace it anyway, or choose another --out"
    )
    assert notes.read_text() == "my notes"
    (out / "cp" / "history.jsonl").write_text("edited")
    notes.unlink()
    res = runner.invoke(app, ["run", "--out", str(out), "--no-plot"])
    assert "cp/history.jsonl was changed after capsim wrote it" in res.output
    assert runner.invoke(app, ["run", "--out", str(out), "--no-plot", "--force"]).exit_code == 0


def test_a_folder_capsim_did_not_write_needs_force(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("chapter 1")
    res = runner.invoke(app, ["run", "--out", str(mine), "--no-plot"])
    assert res.exit_code == 2
    assert res.output.strip() == f"error: {mine} already exists; pass --force to replace it"
    assert (mine / "thesis.tex").read_text() == "chapter 1"


def test_out_on_or_below_a_regular_file_is_refused_even_with_force(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("keep me")
    res = runner.invoke(app, ["run", "--out", str(f), "--force", "--no-plot"])
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"error: {f} is a file, not a folder; capsim never replaces a file with a folder "
        "(choose another --out, or remove it yourself)"
    )
    assert f.read_text() == "keep me"
    res = runner.invoke(app, ["run", "--out", str(f / "sub"), "--no-plot"])
    assert res.exit_code == 2
    assert f"{f} is a file, so {f / 'sub'} cannot be made inside it" in res.output
    assert _leftovers(tmp_path) == []


def test_arguments_are_checked_before_the_disk(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    res = runner.invoke(app, ["run", "--policy", "cq", "--out", str(mine)])
    assert res.exit_code == 2
    assert "--policy: unknown policy 'cq'; valid policies: cp, ap, quorum, lock" in res.output
    assert "already exists" not in res.output
    res = runner.invoke(app, ["run", "--policy", "cp,cp", "--out", str(tmp_path / "new")])
    assert res.exit_code == 2
    assert "--policy: policy 'cp' is named twice; name each policy once" in res.output
    assert not (tmp_path / "new").exists()


def test_the_commands_of_docs_plots_md_work_typed_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAPSIM_NO_CJK_FONT", "1")  # the same on every machine
    for line in [
        "run",
        f"run {ROOT / 'scenarios' / 'crash.yaml'} -p ap",
        "run --plot png,svg --messages",
        "run --no-plot",
        "plot runs/seed-cap-story",
        "plot runs/seed-cap-story",
    ]:
        res = runner.invoke(app, line.split())
        assert res.exit_code == 0, (line, res.output)
    # a picture the teacher annotated is still protected
    pic = tmp_path / "runs" / "seed-cap-story" / "cp" / "timeline.png"
    pic.write_bytes(b"annotated")
    res = runner.invoke(app, ["plot", "runs/seed-cap-story"])
    assert res.exit_code == 2 and "already exist" in res.output
    assert pic.read_bytes() == b"annotated"


def test_plot_given_a_file_names_the_folder_to_give(tmp_path):
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "-p", "ap", "--out", str(out), "--no-plot"]).exit_code == 0
    res = runner.invoke(app, ["plot", str(out / "history.jsonl")])
    assert res.exit_code == 2
    assert (f"{out / 'history.jsonl'} is a file; capsim plot takes the run folder that holds "
            f"history.jsonl and result.json, e.g. capsim plot {out}") in res.output


def test_flags_read_as_flags_in_help():
    res = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "120"})
    force = next(line for line in res.output.splitlines() if "--force" in line)
    assert "<bool>" not in force and "Replace --out even if capsim did not write it" in force
    seed = next(line for line in res.output.splitlines() if "--seed" in line)
    assert "<int>" in seed  # options that take a value still say which


def _wait_for_cpu(pid: int, seconds: float) -> None:
    """Wait until the process has used ``seconds`` of CPU (robust on a loaded machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    for _ in range(6000):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.05)
    raise AssertionError("the run never got going")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigterm_stops_a_run_cleanly_and_leaves_nothing(tmp_path):
    sc = tmp_path / "long.yaml"
    sc.write_text("name: long\nduration: 3000\nnodes: [A, B, C]\n"
                  "workload: {rate: 20, clients: 4}\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "capsim", "run", str(sc), "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    _wait_for_cpu(proc.pid, seconds=2.0)  # imports done, the simulation is running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "terminated"
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml"]


def test_plot_out_on_or_below_a_file_is_refused(tmp_path):
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "-p", "ap", "--out", str(out), "--no-plot"]).exit_code == 0
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    res = runner.invoke(app, ["plot", str(out), "--out", str(keep)])
    assert res.exit_code == 2
    assert res.output.strip() == (f"error: {keep} is a file, not a folder; capsim never "
                                  "replaces a file with a folder (choose another --out, or "
                                  "remove it yourself)")
    res = runner.invoke(app, ["plot", str(out), "--out", str(keep / "sub")])
    assert res.exit_code == 2 and "cannot be made inside it" in res.output
    assert keep.read_text() == "mine"

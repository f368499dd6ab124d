"""``capsim live``: the seed story on real processes reaches the simulator's verdicts.

Every test here starts real ``capsim serve`` processes on 127.0.0.1 and checks
afterwards that none of them, and none of their ports, survives.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from capsim import RunResult, load_scenario, parse_scenario, simulate
from capsim.cli import app
from capsim.live.driver import LiveRun

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent
PARTITION = ROOT / "scenarios" / "partition.yaml"


def verdicts(r: RunResult) -> dict[str, Any]:
    """What must agree between a live and a simulated run (timing may differ)."""
    c = r.checks
    return {
        "outcomes": [(op.process, op.f, op.type, op.value if op.f == "read" else None)
                     for op in r.history.operations()],
        "stale_reads": c["stale_reads"]["count"],
        "availability": (c["availability"]["during_partition"],
                         c["availability"]["outside_partition"]),
        "converged": (c.get("convergence") or {}).get("converged"),
        "linearizable": (c.get("linearizable") or {}).get("linearizable"),
    }


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1].startswith("Z")  # a zombie has exited
    except FileNotFoundError:
        return True


def _closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def assert_nothing_left(run: LiveRun) -> None:
    assert run.pids, "the run started no process"
    assert all(_gone(p) for p in run.pids), [p for p in run.pids if not _gone(p)]
    assert all(_closed(p) for p in run.ports), [p for p in run.ports if not _closed(p)]


def test_live_seed_story_reaches_the_simulators_verdicts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[LiveRun] = []
    original = LiveRun.run

    def spy(self: LiveRun) -> RunResult:
        runs.append(self)
        return original(self)

    monkeypatch.setattr(LiveRun, "run", spy)
    out = tmp_path / "live"
    r = CliRunner().invoke(app, ["live", str(PARTITION), "--policy", "cp,ap", "--speed", "2.5",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # rich wraps long lines at the terminal's width
    assert "availability" in text and f"wrote {out}/" in text
    assert [run.policy for run in runs] == ["cp", "ap"]
    for run in runs:
        assert_nothing_left(run)

    assert (out / "compare.png").is_file()  # the pictures `capsim run` draws, too
    sc = load_scenario(PARTITION)
    for policy in ("cp", "ap"):
        assert (out / policy / "timeline.png").is_file()
        live = RunResult.load(out / policy)  # the same files `capsim run` writes
        assert (out / policy / "messages.jsonl").is_file()
        sim = simulate(sc, policy=policy)
        assert verdicts(live) == verdicts(sim), policy
        bob = [op for op in live.history.operations() if op.process == "bob"]
        assert bob[0].start == pytest.approx(3.0, abs=0.2)
        if policy == "cp":
            assert bob[0].type == "fail"  # G2 refuses: it cannot reach a majority
            assert live.checks["stale_reads"]["count"] == 0
        else:
            assert (bob[0].type, bob[0].value) == ("ok", "v0")  # available, but stale
            assert (bob[1].type, bob[1].value) == ("ok", "v1")
            assert live.checks["convergence"]["converged"] is True
        # The proxies really cut the link: peer messages during the partition were dropped.
        cut = [m for m in live.messages if m.status == "cut"]
        assert cut and all(1.0 <= m.sent < 6.0 for m in cut)


CRASH = {
    "name": "live-crash",
    "seed": 3,
    "duration": 7.0,
    "nodes": ["G1", "G2"],
    "initial": {"x": "v0"},
    "policy": "ap",
    # No replication and no anti-entropy within the run: after its restart G2 can
    # only know v1 from its own disk.
    "params": {"ap": {"replicate": False, "sync_interval": 100.0}},
    "timeout": 2.0,
    "nemesis": [{"at": 1.0, "crash": "G2"}, {"at": 1.2, "recover": "G2"}],
    "clients": [{"name": "carol", "node": "G2"}],
    "operations": [{"at": 0.5, "client": "carol", "write": {"x": "v1"}},
                   {"at": 6.0, "client": "carol", "read": "x"}],
}


def test_a_crashed_replica_process_comes_back_with_its_durable_state() -> None:
    sc = parse_scenario(CRASH)
    run = LiveRun(sc, "ap", speed=5.0)
    live = run.run()
    assert_nothing_left(run)
    assert len(run.pids) == 3  # G1, G2, and the process that replaced G2 after SIGKILL
    ops = live.history.operations()
    assert [(op.f, op.type, op.value) for op in ops] == [("write", "ok", "v1"),
                                                           ("read", "ok", "v1")]
    assert verdicts(live) == verdicts(simulate(sc, policy="ap"))
    assert [f.kind for f in live.faults] == ["crash"]


def test_the_crash_scenario_reaches_the_simulators_verdicts() -> None:
    # cp is the interesting case (G1 + G2 keep a majority); the ap crash is above.
    policy = "cp"
    crash = ROOT / "scenarios" / "crash.yaml"
    if not crash.is_file():
        pytest.skip("scenarios/crash.yaml is not in this checkout")
    sc = load_scenario(crash)
    # Real time: at speed K a 1 s timeout is 1/K s of wall time, and the suite runs
    # beside other CPU-heavy tests; speed 2 keeps scheduling hiccups well inside it.
    run = LiveRun(sc, policy, speed=2.0)
    live = run.run()
    assert_nothing_left(run)
    assert verdicts(live) == verdicts(simulate(sc, policy=policy))
    carol = [op for op in live.history.operations() if op.process == "carol"]
    assert carol[0].type == "info"  # G3 is down: no answer, left out of availability
    assert (carol[1].type, carol[1].value) == ("ok", "v2")  # back, and caught up
    assert live.checks["availability"]["overall"] == 1.0


def _children_with(marker: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmd and b"serve" in cmd and not _gone(int(d.name)):
                out.append(int(d.name))
    return out


def test_ctrl_c_stops_every_replica_and_writes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(work)}  # the replicas' data folders land here
    driver = subprocess.Popen(
        [sys.executable, "-m", "capsim", "live", str(PARTITION), "--policy", "ap",
         "--out", str(tmp_path / "out")],
        env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 40
        replicas: list[int] = []
        while time.monotonic() < deadline and len(replicas) < 2:
            time.sleep(0.1)
            replicas = _children_with(str(work))
        assert len(replicas) == 2, "the replicas did not start"
        cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0") for p in replicas]
        time.sleep(0.5)
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=30)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.communicate()
    assert driver.returncode == 130, err
    assert b"interrupted" in err
    time.sleep(0.2)
    assert all(_gone(p) for p in replicas)
    assert _children_with(str(work)) == []
    proxies = [int(a.rpartition(b":")[2]) for c in cmdlines for a in c if a.count(b"=") == 1
               and a.startswith(b"G")]
    assert proxies and all(_closed(p) for p in proxies)
    assert not (tmp_path / "out").exists()
    assert list(work.iterdir()) == []  # the temporary data folders are removed too


def test_bad_options_exit_2_before_starting_anything() -> None:
    r = CliRunner().invoke(app, ["live", str(PARTITION), "--isolation", "netns"])
    assert r.exit_code == 2 and "not available" in r.output and "ip netns" in r.output
    r = CliRunner().invoke(app, ["live", str(PARTITION), "--speed", "0", "--no-write"])
    assert r.exit_code == 2 and "--speed must be positive" in r.output
    r = CliRunner().invoke(app, ["live", str(PARTITION), "--attach", "G1=127.0.0.1:1",
                                 "--no-write"])
    assert r.exit_code == 2 and "missing G2" in r.output

"""Live runs whose verdicts can be trusted: regressions of issue 13.

- a replica recovered from a crash keeps the cluster's clock (a quorum write
  made on it after the recovery wins over an older one, as in the simulator);
- a failure of the harness itself fails the run (exit 1, nothing written),
  never shows up as the policy's behaviour;
- the driver signals only processes it still owns;
- result.json and the table carry the policy's parameters; ``capsim live``
  takes ``--nrw`` and ``--export-edn`` like ``capsim run``;
- a SIGKILLed driver leaves no folder behind, a double Ctrl-C no traceback.

Every test starts real ``capsim serve`` processes on 127.0.0.1, at a slow
speed so that a loaded CI machine keeps the scenario's timing.
"""

from __future__ import annotations

import json
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

from capsim import RunResult, parse_scenario, simulate
from capsim.cli import app
from capsim.live.driver import HarnessError, LiveRun, _Node

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent
PARTITION = ROOT / "scenarios" / "partition.yaml"

# G3 is down when alice writes v1 (W=1: G1 alone acknowledges it). G3 comes
# back and carol writes v2 on it; a read of all three replicas (R=3) must
# return v2. If G3's clock restarted at 0 when it came back, v2 would get an
# older version than v1 and lose.
QUORUM_CRASH: dict[str, Any] = {
    "name": "quorum-recovered-clock",
    "seed": 1,
    "duration": 5.0,
    "nodes": ["G1", "G2", "G3"],
    "initial": {"x": "v0"},
    "network": {"latency": {"dist": "constant", "value": 0.02}},
    "policy": "quorum",
    "params": {"quorum": {"r": 3, "w": 1}},
    "timeout": 1.0,
    "nemesis": [{"at": 1.0, "crash": "G3"}, {"at": 2.0, "recover": "G3"}],
    "clients": [{"name": "alice", "node": "G1"}, {"name": "carol", "node": "G3"},
                {"name": "bob", "node": "G2"}],
    "operations": [{"at": 1.8, "client": "alice", "write": {"x": "v1"}},
                   {"at": 3.0, "client": "carol", "write": {"x": "v2"}},
                   {"at": 4.0, "client": "bob", "read": "x"}],
}

SHORT: dict[str, Any] = {
    "name": "short-crash",
    "seed": 2,
    "duration": 4.0,
    "nodes": ["G1", "G2", "G3"],
    "initial": {"x": "v0"},
    "network": {"latency": {"dist": "constant", "value": 0.02}},
    "policy": "ap",
    "timeout": 1.0,
    "nemesis": [{"at": 1.0, "crash": "G3"}, {"at": 2.0, "recover": "G3"}],
    "clients": [{"name": "alice", "node": "G1"}],
    "operations": [{"at": 0.5, "client": "alice", "write": {"x": "v1"}},
                   {"at": 3.0, "client": "alice", "read": "x"}],
}


def _ops(r: RunResult) -> list[tuple[str, str, str, Any]]:
    return [(o.process, o.f, o.type, o.value) for o in r.history.operations()]


def test_a_recovered_replica_keeps_the_clusters_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = parse_scenario(QUORUM_CRASH)
    want = simulate(sc, policy="quorum")
    assert _ops(want)[-1] == ("bob", "read", "ok", "v2")

    # Also: every process group the driver signals is still a running child of ours.
    wrong: list[int] = []
    real_killpg = os.killpg

    def killpg(pid: int, sig: int) -> None:
        try:
            running = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            running = False  # reaped: the PID may already be someone else's
        if not running:
            wrong.append(pid)
        real_killpg(pid, sig)

    monkeypatch.setattr(os, "killpg", killpg)
    live = LiveRun(sc, "quorum", speed=2.0).run()
    assert _ops(live) == _ops(want)
    assert live.checks["linearizable"]["linearizable"] is True
    assert wrong == [], f"signalled process groups the driver no longer owned: {wrong}"


def test_a_replica_that_cannot_come_back_fails_the_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Someone takes G3's port while it is down: the run fails, it is not G3's 'policy'."""
    thieves: list[socket.socket] = []
    crash = LiveRun._crash

    async def crash_and_take_the_port(self: LiveRun, n: _Node) -> None:
        await crash(self, n)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(n.addr)
        s.listen()
        thieves.append(s)

    monkeypatch.setattr(LiveRun, "_crash", crash_and_take_the_port)
    scenario = tmp_path / "short.yaml"
    scenario.write_text(json.dumps(SHORT))
    out = tmp_path / "out"
    try:
        r = CliRunner().invoke(app, ["live", str(scenario), "--speed", "2", "--out", str(out),
                                     "--no-plot"])
    finally:
        for s in thieves:
            s.close()
    assert thieves, "the scenario's crash did not happen"
    assert r.exit_code == 1, r.output
    assert "the live run failed, not the policy" in r.output
    assert "replica G3 did not start" in r.output
    assert "Traceback" not in r.output
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_harness_error_is_raised_not_recorded() -> None:
    sc = parse_scenario(SHORT)

    class BrokenWatch(LiveRun):
        def _on_watch_line(self, n: _Node, line: bytes) -> None:
            if self._t0 is not None and n.name == "G2":
                super()._on_watch_line(n, b'{"type": "stored", "oops": 1}\n')
            super()._on_watch_line(n, line)

    run = BrokenWatch(sc, "ap", speed=2.0)
    with pytest.raises(HarnessError, match="watch sent a line capsim cannot read"):
        run.run()
    assert all(p.returncode is not None for p in run.procs)


def test_live_takes_run_options_and_records_the_params(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["live", str(PARTITION), "--policy", "quorum", "--nrw", "2,1,1",
                                 "--speed", "2", "--out", str(out), "--no-plot",
                                 "--export-edn"])
    assert r.exit_code == 0, r.output
    assert "quorum N=2 R=1 W=1" in r.output
    result = json.loads((out / "result.json").read_text())
    assert {k: result["params"][k] for k in ("n", "r", "w")} == {"n": 2, "r": 1, "w": 1}
    assert (out / "history.edn").read_text().startswith("{:type :invoke")
    r = CliRunner().invoke(app, ["live", str(PARTITION), "--policy", "ap", "--nrw", "2,1,1",
                                 "--no-write"])
    assert r.exit_code == 2 and "--nrw sets N, R and W of the quorum policy" in r.output


def _serve_pids(marker: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes()
                stat = (d / "stat").read_text()
            except OSError:
                continue
            zombie = stat.split(") ")[1].startswith("Z")
            if marker.encode() in cmd and b"serve" in cmd and not zombie:
                out.append(int(d.name))
    return out


def _start_driver(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(work)}
    driver = subprocess.Popen(
        [sys.executable, "-m", "capsim", "live", str(PARTITION), "--policy", "ap",
         "--out", str(tmp_path / "out")],
        env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(_serve_pids(str(work))) < 2:
        time.sleep(0.1)
    assert len(_serve_pids(str(work))) == 2, "the replicas did not start"
    return driver, work


def _wait_until(cond: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def test_a_sigkilled_driver_leaves_no_folder_behind(tmp_path: Path) -> None:
    driver, work = _start_driver(tmp_path)
    time.sleep(0.5)
    driver.kill()
    driver.communicate(timeout=10)
    assert _wait_until(lambda: _serve_pids(str(work)) == [], 15), "replicas outlived the driver"
    assert _wait_until(lambda: list(work.iterdir()) == [], 15), list(work.iterdir())
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("work",)]
    assert leftovers == [], leftovers  # no run folder, no hidden staging folder


def test_a_double_ctrl_c_stops_cleanly_without_a_traceback(tmp_path: Path) -> None:
    driver, work = _start_driver(tmp_path)
    try:
        time.sleep(0.5)
        driver.send_signal(signal.SIGINT)
        for _ in range(20):  # an impatient user: Ctrl-C again while it cleans up
            time.sleep(0.03)
            if driver.poll() is not None:
                break
            driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=30)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.communicate()
    assert driver.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err, err.decode()
    assert _wait_until(lambda: _serve_pids(str(work)) == [], 10)
    assert list(work.iterdir()) == []
    assert not (tmp_path / "out").exists()

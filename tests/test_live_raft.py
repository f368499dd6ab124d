"""``capsim live`` runs raft on real processes and reaches the simulator's verdicts.

Real timers decide the elections here: a live replica draws its election
timeouts from the same seeded generator, but it draws one per heartbeat it
hears, and real heartbeats do not arrive exactly as simulated ones, so who
wins, and whether a vote splits first (then bob's write and carol's read
during the partition fail with "no leader"), may differ from the simulator.
What must agree is the verdict and the story: G1 leads, loses its majority
and steps down, its write after the cut stays unknown, its client then
hears "no leader", a later term has a leader, and the history is
linearizable.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from capsim import load_scenario, simulate
from capsim.cli import app

from .paths import SCENARIOS

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


def test_live_raft_leader_partition_matches_the_simulator(tmp_path) -> None:
    path = SCENARIOS / "raft-leader-partition.yaml"
    res = CliRunner().invoke(app, ["live", str(path), "--policy", "raft", "--speed", "1",
                                   "--no-plot", "--out", str(tmp_path / "live")])
    assert res.exit_code == 0, res.output
    from capsim.result import RunResult

    live = RunResult.load(tmp_path / "live")
    sim = simulate(load_scenario(path))
    assert live.checks["linearizable"]["linearizable"] is True
    assert sim.checks["linearizable"]["linearizable"] is True
    ops = live.history.operations()
    story = [(op.process, op.f, op.type) for op in ops[:3]]
    assert story == [(op.process, op.f, op.type) for op in sim.history.operations()[:3]]
    assert story == [
        ("alice", "write", "ok"),     # before the partition, through the leader G1
        ("alice", "write", "info"),   # appended by G1 after the cut, never committed
        ("alice", "read", "fail"),    # G1 has stepped down: "no leader"
    ]
    assert "stepped down" in (ops[1].complete.error or "")
    assert "no leader" in (ops[2].complete.error or "")
    # After the heal there is a leader again and G1's client is served (which
    # value it reads is the linearizability checker's business, above).
    after = next(op for op in ops if op.process == "alice" and op.start >= 6.0)
    assert after.type == "ok"
    elections = live.checks["leadership"]["elections"]
    assert (elections[0]["node"], elections[0]["term"]) == ("G1", 1)
    assert any(e["time"] > 2.0 and e["term"] >= 2 for e in elections)
    out = " ".join(res.output.split())
    assert "G1 stepped down as leader of term 1" in out

"""``capsim live`` runs raft on real processes and reaches the simulator's verdicts.

Real timers decide the elections here, so who wins term 2 may differ from the
simulator; what must agree is the story: G1 leads, loses its majority, a
node of the majority side leads a later term, the old leader's requests fail
or stay unknown, and the history is linearizable.
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
    outcome = [(op.process, op.f, op.type, op.value if op.f == "read" else None)
               for op in live.history.operations()]
    expected = [(op.process, op.f, op.type, op.value if op.f == "read" else None)
                for op in sim.history.operations()]
    assert outcome == expected
    elections = live.checks["leadership"]["elections"]
    assert (elections[0]["node"], elections[0]["term"]) == ("G1", 1)
    later = [e for e in elections if 2.0 < e["time"] < 5.0]
    assert later and all(e["node"] in ("G2", "G3") and e["term"] >= 2 for e in later)
    out = " ".join(res.output.split())
    assert "G1 stepped down as leader of term 1" in out

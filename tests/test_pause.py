"""``pause: G1`` / ``resume: G1``: a stopped process that keeps its state (SIGSTOP, a GC pause)."""

from __future__ import annotations

from typer.testing import CliRunner

from capsim import parse_scenario, simulate
from capsim.cli import app
from capsim.sim.nemesis import fault_spans


def _story(nemesis: list[dict], ops: list[dict], policy: str = "ap") -> object:
    return parse_scenario({
        "name": "pause", "seed": 1, "duration": 6.0, "nodes": ["G1", "G2"],
        "initial": {"x": "v0"}, "policy": policy, "timeout": 2.0,
        "params": {"ap": {"sync_interval": 10.0}},
        "nemesis": nemesis,
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": ops,
    })


def test_a_paused_node_answers_when_it_resumes_and_loses_nothing() -> None:
    sc = _story([{"at": 1.0, "pause": "G2"}, {"at": 2.0, "resume": "G2"}],
                [{"at": 1.2, "client": "alice", "write": {"x": "v1"}},
                 {"at": 1.5, "client": "bob", "read": "x"}])
    r = simulate(sc)
    write, read = r.history.operations()
    assert (write.type, write.end) == ("ok", 1.2)  # G1 is not paused
    # bob's request waited in G2's buffers, and so did G1's replication of v1,
    # which arrived first: G2 handles both, in order, at the resume.
    assert (read.type, read.value, read.start, read.end) == ("ok", "v1", 1.5, 2.0)
    pause = next(f for f in r.faults if f.kind == "pause")
    assert pause[1:] == (1.0, 2.0, [["G2"]], "G2 paused")


def test_a_pause_longer_than_the_timeout_is_info_and_a_crash_drops_what_waited() -> None:
    sc = _story([{"at": 1.0, "pause": "G2"}, {"at": 4.0, "crash": "G2"},
                 {"at": 5.0, "recover": "G2"}],
                [{"at": 1.5, "client": "bob", "read": "x"}])
    (read,) = simulate(sc).history.operations()
    assert read.type == "info" and "within the 2 s timeout" in (read.complete.error or "")
    assert [f.kind for f in fault_spans(sc)] == ["pause", "crash"]


def test_pause_of_an_unknown_node_is_an_error_with_its_line(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nduration: 5\nnodes: [G1, G2]\nnemesis:\n"
                   "  - {at: 1.0, pause: G9}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2
    assert "bad.yaml:5" in res.output and "nemesis[0].pause" in res.output
    assert "unknown node 'G9'" in res.output
    both = tmp_path / "both.yaml"
    both.write_text("name: b\nduration: 5\nnodes: [G1, G2]\nnemesis:\n"
                    "  - {at: 1.0, pause: G1, resume: G1}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(both)])
    assert res.exit_code == 2 and "got pause, resume" in res.output

"""The compact journal and trace: they read back exactly as plain tuples would."""

from __future__ import annotations

import json
import pickle

import capsim
from capsim.journal import MessageLog, TraceLog
from capsim.result import Message, TraceEntry


def test_message_log_reads_back_what_was_appended():
    log = MessageLog()
    rows = [Message(0.5, "G1", "G2", "replicate", 0.55, "delivered", "v1"),
            Message(0.5, "G1", "G3", "replicate", 0.56, "delivered", "v1"),
            Message(1.0, "G2", "G1", "cas", 1.2, "lost", ["v0", "v1"]),
            Message(2.0, "G3", "G1", "ack", 2.1, "delivered", None)]
    for m in rows:
        log.append(*m)
    log.set_status(1, "cut")
    rows[1] = rows[1]._replace(status="cut")
    assert list(log) == rows and log == rows and len(log) == 4
    assert log[-1] == rows[-1] and log[1:3] == rows[1:3]
    assert pickle.loads(pickle.dumps(log)) == rows
    assert log.nbytes() <= 40 * len(log)  # a few dozen bytes a message


def test_a_runs_journal_and_trace_survive_the_run_folder(tmp_path):
    from capsim.cli.run import write_run

    r = capsim.simulate(capsim.seed_scenario(), policy="ap")
    assert isinstance(r.messages, MessageLog) and isinstance(r.trace, TraceLog)
    write_run(r, tmp_path)
    back = capsim.RunResult.load(tmp_path)
    assert back.messages == r.messages and back.trace == r.trace
    lines = (tmp_path / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    assert [Message(**json.loads(x)) for x in lines] == list(r.messages)
    assert json.loads((tmp_path / "result.json").read_text())["trace"] == [
        list(t) for t in r.trace]


def test_trace_log_keeps_order_and_values_of_any_json_type():
    entries = [TraceEntry(0.0, "G1", "x", "v0"), TraceEntry(0.0, "G2", "k", 3),
               TraceEntry(1.5, "G1", "x", ["a", 1]), TraceEntry(2.0, "G2", "k", None)]
    log = TraceLog.of(entries)
    assert list(log) == entries and log[2] == entries[2] and log == entries
    assert sorted(log, key=lambda e: e.time) == entries


def _rows(n: int) -> list[Message]:
    kinds = ("replicate", "ack", "read")
    return [Message(i * 0.001, f"G{i % 3 + 1}", f"G{(i + 1) % 3 + 1}", kinds[i % 3],
                    i * 0.001 + 0.0004, "delivered", None if i % 4 else f"v{i // 4}")
            for i in range(n)]


def test_a_long_journal_moves_to_disk_and_reads_back_the_same(monkeypatch, tmp_path):
    monkeypatch.setattr("capsim.journal.CHUNK", 100)
    log = MessageLog(spill_dir=tmp_path)
    rows = _rows(1_037)
    for m in rows:
        log.append(*m)
    # Statuses change after later messages went out, on disk or not.
    for i in (5, 99, 100, 640, 1_036):
        log.set_status(i, "cut")
        rows[i] = rows[i]._replace(status="cut")
    assert log.on_disk() > 0 and log.nbytes() < 200 * 40  # one block in memory, not ten
    assert list(tmp_path.iterdir()) == []  # an unlinked file: nothing left to clean up
    assert list(log) == rows and len(log) == len(rows)
    assert [log[i] for i in (0, 99, 100, 555, -1)] == [rows[i] for i in (0, 99, 100, 555, -1)]
    assert log[95:105] == rows[95:105] and log[::250] == rows[::250]
    assert pickle.loads(pickle.dumps(log)) == rows


def test_a_spilled_journal_rounds_times_as_they_come(monkeypatch):
    monkeypatch.setattr("capsim.journal.CHUNK", 10)
    log = MessageLog(digits=9)
    rows = [*_rows(25), Message(1 / 3, "G1", "G2", "ack", 2 / 3, "lost", None)]
    for m in rows:
        log.append(*m)
    assert log.on_disk() > 0
    assert list(log) == [m._replace(sent=round(m.sent, 9), end=round(m.end, 9)) for m in rows]
    assert log[-1] == Message(0.333333333, "G1", "G2", "ack", 0.666666667, "lost", None)
    assert log.round_times() is log


def test_a_journal_without_a_disk_stays_in_memory(monkeypatch, tmp_path):
    monkeypatch.setattr("capsim.journal.CHUNK", 10)
    log = MessageLog(spill=False)
    for m in _rows(35):
        log.append(*m)
    assert log.on_disk() == 0 and list(log) == _rows(35)


def test_a_runs_journal_on_disk_writes_the_same_file(monkeypatch, tmp_path):
    from capsim.cli.run import write_run

    sc = capsim.parse_scenario({
        "name": "spill", "seed": 3, "duration": 8.0, "nodes": ["G1", "G2", "G3"],
        "initial": {"x": "v0"}, "policy": "ap",
        "nemesis": [{"at": 2.0, "partition": [["G3"]]}, {"at": 5.0, "heal": True}],
        "workload": {"rate": 40, "clients": 3, "reads": 0.5}})
    in_memory = capsim.simulate(sc)
    write_run(in_memory, tmp_path / "a")
    monkeypatch.setattr("capsim.journal.CHUNK", 64)
    spilled = capsim.simulate(sc, journal_dir=tmp_path)
    assert spilled.messages.on_disk() > 0 and in_memory.messages.on_disk() == 0
    write_run(spilled, tmp_path / "b")
    for name in ("history.jsonl", "messages.jsonl", "result.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()

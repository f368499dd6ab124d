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

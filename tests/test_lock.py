"""The ``lock`` policy: the course's locking story, exact, and its never-stale promise."""

from __future__ import annotations

import json

import pytest

from capsim import load_scenario, parse_scenario, simulate
from capsim.check.linearizable import check_linearizable
from capsim.policies import REGISTRY
from capsim.policies.base import Marked, Reply, Request, Send, SetTimer, Stored
from capsim.policies.lock import Lock, LockParams

from .paths import SCENARIOS

LOCKED = ("G2 is locked by G1's write of x; it cannot read or write x until that write "
          "commits or aborts")


def test_lock_story_under_partition():
    """scenarios/lock.yaml, act by act (see its comments)."""
    r = simulate(load_scenario(SCENARIOS / "lock.yaml"))
    ops = [(op.process, op.f, op.type, op.value, op.start, op.end,
            op.complete.error if op.complete else None) for op in r.history.operations()]
    assert ops == [
        # Act 1: G2 is unreachable, so the write is aborted; nothing was written.
        ("alice", "write", "fail", "v1", 1.5, 2.3,
         "G2 could not be locked (no answer in 0.8 s); G1 aborted the write of x, "
         "nothing was written"),
        ("bob", "read", "ok", "v0", 2.0, 2.0, None),
        # Act 2: G2 locked x at 4.15; the link broke at 4.37, before the commit got there.
        ("alice", "write", "info", "v2", 4.0, float("inf"),
         "G1 wrote x, but G2 has not confirmed the commit in 0.8 s; it stays locked "
         "until it does, and the write will reach it"),
        ("bob", "read", "fail", None, 5.0, 5.0, LOCKED),
        ("alice", "read", "ok", "v2", 5.2, 5.2, None),
        ("bob", "write", "fail", "v3", 5.5, 5.5, LOCKED),
        # After the heal at 7.0, G1's next resend of the commit (7.3) unlocks G2 at 7.45.
        ("bob", "read", "ok", "v2", 8.0, 8.0, None),
    ]
    assert [(t.time, t.value) for t in r.trace if t.node == "G2"] == [(0.0, "v0"), (7.45, "v2")]
    assert [(t.time, t.value) for t in r.trace if t.node == "G1"] == [(0.0, "v0"), (4.3, "v2")]
    assert r.checks["stale_reads"]["count"] == 0
    assert check_linearizable(r.history, initial={"x": "v0"}).linearizable is True
    assert r.checks["convergence"]["converged"] is True
    kinds = [(m.kind, m.src, m.status) for m in r.messages if 4.0 <= m.sent < 4.4]
    assert kinds == [("prepare", "G1", "delivered"), ("ack", "G2", "delivered"),
                     ("commit", "G1", "cut")]


def test_no_partition_write_locks_then_commits_everywhere():
    """alice's write takes two round trips: prepare/locked, commit/done; bob reads v1 after."""
    sc = parse_scenario({
        "name": "l", "duration": 3.0, "nodes": ["G1", "G2", "G3"], "initial": {"x": "v0"},
        "network": {"latency": {"dist": "constant", "value": 0.05}}, "policy": "lock",
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G3"}],
        "operations": [{"at": 1.0, "client": "alice", "write": {"x": "v1"}},
                       {"at": 1.07, "client": "bob", "read": "x"},   # G3 is locked
                       {"at": 1.2, "client": "bob", "read": "x"}],
    })
    r = simulate(sc)
    assert [(op.type, op.value, op.end) for op in r.history.operations()] == [
        ("ok", "v1", 1.2), ("fail", None, 1.07), ("ok", "v1", 1.2)]
    assert sorted((t.node, t.time) for t in r.trace if t.value == "v1") == [
        ("G1", 1.1), ("G2", 1.15), ("G3", 1.15)]


def test_racing_writes_both_abort_and_nobody_deadlocks():
    sc = parse_scenario({
        "name": "race", "duration": 3.0, "nodes": ["G1", "G2"], "initial": {"x": "v0"},
        "network": {"latency": {"dist": "constant", "value": 0.05}}, "policy": "lock",
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": [{"at": 1.0, "client": "alice", "write": {"x": "v1"}},
                       {"at": 1.0, "client": "bob", "write": {"x": "v2"}},
                       {"at": 2.0, "client": "alice", "write": {"x": "v3"}}],
    })
    r = simulate(sc)
    ops = r.history.operations()
    assert [(op.process, op.type, op.end) for op in ops] == [
        ("alice", "fail", 1.1), ("bob", "fail", 1.1), ("alice", "ok", 2.2)]
    assert "G2 is locked by G2's write of x" in ops[0].complete.error
    assert {t.value for t in r.trace} == {"v0", "v3"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lock_is_never_stale_under_random_faults(seed):
    """Random delays, partitions and a crash: some requests fail, none reads stale."""
    sc = parse_scenario({
        "name": "busy", "seed": seed, "duration": 12.0, "nodes": ["G1", "G2", "G3"],
        "initial": {"x": "v0"}, "policy": "lock", "timeout": 0.5,
        "network": {"latency": {"dist": "exponential", "mean": 0.02}},
        "nemesis": [{"at": 2.0, "partition": [["G1"], ["G2", "G3"]]}, {"at": 4.0, "heal": True},
                    {"at": 6.0, "crash": "G2"}, {"at": 7.0, "recover": "G2"},
                    {"at": 8.0, "partition": [["G3"], ["G1", "G2"]]}, {"at": 9.5, "heal": True}],
        "workload": {"rate": 12, "reads": 0.6, "clients": 4},
    })
    r = simulate(sc)
    counts = r.checks["ops"]
    assert counts["ok"] > 40 and counts["fail"] > 5
    assert r.checks["stale_reads"]["count"] == 0
    assert check_linearizable(r.history, initial={"x": "v0"}).linearizable is True
    assert r.checks["convergence"]["converged"] is True


def test_default_on_two_nodes_fails_the_partitioned_write():
    """Gilbert & Lynch's run: no params, two nodes. The write fails; bob's v0 is not stale."""
    sc = parse_scenario({
        "name": "gl", "duration": 6.0, "nodes": ["G1", "G2"], "initial": {"x": "v0"},
        "policy": "lock",
        "nemesis": [{"at": 1.0, "partition": [["G1"], ["G2"]]}, {"at": 5.0, "heal": True}],
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": [{"at": 2.0, "client": "alice", "write": {"x": "v1"}},
                       {"at": 3.5, "client": "bob", "read": "x"}],
    })
    r = simulate(sc)
    assert [(op.type, op.value) for op in r.history.operations()] == [("fail", "v1"), ("ok", "v0")]
    assert r.checks["stale_reads"]["count"] == 0


# --- plain calls (sans-I/O) --------------------------------------------------------------


def _lock(node="G1", nodes=("G1", "G2", "G3")):
    return Lock(node, list(nodes), {"x": "v0"}, LockParams(), timeout=1.0)


def _wire(msg):
    return json.loads(json.dumps(msg))


def test_plain_calls_prepare_commit_done():
    g1, g2 = _lock("G1", ("G1", "G2")), _lock("G2", ("G1", "G2"))
    out = g1.on_request(1.0, Request(1, "write", "x", "v1"))
    # Marked: an observation for pictures ("G1 locked"), not an action.
    assert out == [Send("G2", {"t": "prepare", "txn": "G1:1", "key": "x"}, "prepare"),
                   SetTimer(0.8, "G1:1"), Marked("x", "locked")]
    # G1 holds its own lock meanwhile: its reads are refused.
    [refused] = g1.on_request(1.01, Request(2, "read", "x"))
    assert (refused.type, refused.error.startswith("G1 is locked by its own write")) == (
        "fail", True)
    locked = g2.on_message(1.05, "G1", _wire(out[0].msg))
    assert locked == [Send("G1", {"t": "locked", "txn": "G1:1", "ver": [0, ""]}, "ack"),
                      Marked("x", "locked")]
    assert g2.on_request(1.06, Request(3, "write", "x", "v9"))[0].type == "fail"
    commit = g1.on_message(1.1, "G2", _wire(locked[0].msg))
    assert commit == [
        Stored("x", "v1"),
        Send("G2", {"t": "commit", "txn": "G1:1", "key": "x", "value": "v1", "ver": [1, "G1"]},
             "commit"),
        SetTimer(0.5, "retry"),
        Marked("x", None),
    ]
    done = g2.on_message(1.15, "G1", _wire(commit[1].msg))
    assert done == [Stored("x", "v1"), Send("G1", {"t": "done", "txn": "G1:1"}, "ack"),
                    Marked("x", None)]
    assert g2.on_request(1.16, Request(4, "read", "x")) == [Reply(4, "ok", "v1")]
    assert g1.on_message(1.2, "G2", _wire(done[1].msg)) == [Reply(1, "ok", "v1")]
    assert g1.on_timer(1.5, "retry") == []  # nothing left to resend
    assert g1.on_timer(1.8, "G1:1") == []


def test_plain_calls_unreachable_replica_aborts_and_a_late_prepare_is_refused():
    g1 = _lock()
    g1.on_request(1.0, Request(1, "write", "x", "v1"))
    g1.on_message(1.1, "G2", {"t": "locked", "txn": "G1:1", "ver": [0, ""]})
    out = g1.on_timer(1.8, "G1:1")
    assert out[0] == Reply(1, "fail", error=(
        "G3 could not be locked (no answer in 0.8 s); G1 aborted the write of x, "
        "nothing was written"))
    aborts = [e for e in out if isinstance(e, Send)]
    assert [(e.dst, e.kind) for e in aborts] == [("G2", "abort"), ("G3", "abort")]
    assert g1.on_request(1.9, Request(2, "read", "x")) == [Reply(2, "ok", "v0")]
    # The abort overtakes the prepare at G3: the prepare must not lock x for ever.
    g3 = _lock("G3")
    assert g3.on_message(1.9, "G1", _wire(aborts[1].msg)) == [
        Send("G1", {"t": "done", "txn": "G1:1"}, "ack")]
    [refusal] = g3.on_message(2.0, "G1", {"t": "prepare", "txn": "G1:1", "key": "x"})
    assert refusal.msg["t"] == "refused"
    assert g3.on_request(2.1, Request(3, "read", "x")) == [Reply(3, "ok", "v0")]


def test_plain_calls_coordinator_crash_before_deciding_aborts_on_recovery():
    g1 = _lock()
    g1.on_request(1.0, Request(1, "write", "x", "v1"))
    state = _wire(g1.durable_state())
    restarted = _lock()
    restarted.restore(state)  # what the live runtime does after a real crash
    g1.on_crash()
    for p in (g1, restarted):
        out = p.on_recover(2.0)
        assert [(e.dst, e.msg["t"]) for e in out if isinstance(e, Send)] == [
            ("G2", "abort"), ("G3", "abort")]
        assert not any(isinstance(e, Reply) for e in out)
        assert p.on_request(2.1, Request(2, "read", "x")) == [Reply(2, "ok", "v0")]


def test_plain_calls_a_locked_replica_keeps_its_lock_across_a_crash():
    g2 = _lock("G2")
    g2.on_message(1.0, "G1", {"t": "prepare", "txn": "G1:1", "key": "x"})
    restarted = _lock("G2")
    restarted.restore(_wire(g2.durable_state()))
    assert restarted.on_request(2.0, Request(1, "read", "x"))[0].type == "fail"
    restarted.on_message(3.0, "G1", {"t": "commit", "txn": "G1:1", "key": "x", "value": "v1",
                                     "ver": [1, "G1"]})
    assert restarted.on_request(3.1, Request(2, "read", "x")) == [Reply(2, "ok", "v1")]


def test_registered():
    assert REGISTRY["lock"] is Lock


def test_the_story_in_the_docs_is_what_capsim_prints():
    from capsim.report import story

    from .paths import ROOT

    doc = (ROOT / "docs" / "quorums.md").read_text(encoding="utf-8")
    lines = story(simulate(load_scenario(SCENARIOS / "lock.yaml")))
    assert len(lines) == 7
    for line in lines:
        assert line in doc, line

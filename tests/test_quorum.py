"""The ``quorum`` policy: small stories with exact outcomes, and plain-call unit tests."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from capsim import parse_scenario, simulate
from capsim.check.linearizable import check_linearizable
from capsim.cli import app
from capsim.errors import CapsimError, ScenarioError
from capsim.policies import REGISTRY
from capsim.policies.base import Reply, Request, Send, SetTimer, Stored
from capsim.policies.quorum import Quorum, QuorumParams

from .quorum_trials import run_trials

NODES = ["G1", "G2", "G3"]


def _story(**kw):
    """Three replicas, 50 ms links; alice on G1, bob on G3."""
    d = {
        "name": "q", "duration": 10.0, "nodes": NODES, "initial": {"x": "v0"},
        "network": {"latency": {"dist": "constant", "value": 0.05}},
        "policy": "quorum", "timeout": 1.0,
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G3"}],
    }
    d.update(kw)
    return parse_scenario(d)


def _outcomes(result):
    return [(op.process, op.f, op.type, op.value, op.start, op.end)
            for op in result.history.operations()]


# --- stories ------------------------------------------------------------------------

# G3 is cut off from G1 and G2; alice writes v1 at G1, then bob reads at G3.
PARTITIONED = {
    "nemesis": [{"at": 1.0, "partition": [["G1", "G2"], ["G3"]]}, {"at": 5.0, "heal": True}],
    "operations": [{"at": 2.0, "client": "alice", "write": {"x": "v1"}},
                   {"at": 3.0, "client": "bob", "read": "x"}],
}


def test_partial_quorum_r1_w1_reads_stale():
    """R = W = 1 of N = 3: the write is acked by G1 alone; G3 alone answers bob with v0."""
    r = simulate(_story(**PARTITIONED))
    assert _outcomes(r) == [
        ("alice", "write", "ok", "v1", 2.0, 2.1),  # to G1 and back (the client coordinates)
        ("bob", "read", "ok", "v0", 3.0, 3.1),
    ]
    assert r.checks["stale_reads"]["count"] == 1
    assert check_linearizable(r.history, initial={"x": "v0"}).linearizable is False


def test_strict_quorum_r2_w2_refuses_rather_than_reads_stale():
    """R = W = 2 of N = 3 (R + W > N): alice still gets 2 acks; bob cannot get 2 replies."""
    r = simulate(_story(params={"quorum": {"r": 2, "w": 2}}, **PARTITIONED))
    ops = _outcomes(r)
    assert ops[0] == ("alice", "write", "ok", "v1", 2.0, 2.1)
    assert ops[1][:4] == ("bob", "read", "fail", None)
    assert ops[1][5] == pytest.approx(3.8)  # gives up after 0.8 x the 1 s timeout
    assert "heard from 1 of 3 replicas" in r.history.operations()[1].complete.error
    assert r.checks["stale_reads"]["count"] == 0


def test_strict_quorum_is_never_stale_where_a_partial_quorum_is():
    """A busy workload over the paper's LNKD-DISK delays: R=W=2 has no stale read, R=W=1 many."""
    sc = _story(network={"latency": "LNKD-DISK"}, duration=8.0, timeout=2.0, initial={},
                workload={"rate": 300, "reads": 0.5, "keys": 2, "clients": 6})
    strict = simulate(sc, params={"r": 2, "w": 2}, linearizability=False)
    partial = simulate(sc, params={"r": 1, "w": 1}, linearizability=False)
    assert strict.checks["stale_reads"]["reads"] > 1000
    assert strict.checks["stale_reads"]["count"] == 0
    assert strict.checks["ops"]["ok"] == strict.checks["ops"]["total"]
    assert partial.checks["stale_reads"]["count"] > 50


def test_without_read_repair_a_replica_that_missed_a_write_keeps_the_old_value():
    sc = _story(nemesis=PARTITIONED["nemesis"], duration=10.0, operations=[
        *PARTITIONED["operations"], {"at": 6.0, "client": "bob", "read": "x"}])
    r = simulate(sc)
    assert [t.value for t in r.trace if t.node == "G3"] == ["v0"]
    assert r.checks["convergence"]["converged"] is False


def test_read_repair_brings_the_replica_up_to_date_after_the_heal():
    """bob's read after the heal sees v1 (from G1) and v0 (from G3): G3 is repaired."""
    sc = _story(nemesis=PARTITIONED["nemesis"], duration=10.0,
                params={"quorum": {"read_repair": True}},
                operations=[*PARTITIONED["operations"], {"at": 6.0, "client": "bob", "read": "x"}])
    r = simulate(sc)
    # All three answers arrive together at 6.1; G1's is first in line, so bob reads v1.
    assert _outcomes(r)[-1] == ("bob", "read", "ok", "v1", 6.0, 6.1)
    assert [(t.time, t.value) for t in r.trace if t.node == "G3"] == [(0.0, "v0"), (6.15, "v1")]
    repairs = [m for m in r.messages if m.kind == "W" and m.sent == 6.1]
    assert [(m.src, m.dst) for m in repairs] == [("G3", "G3")]  # only the stale one
    assert r.checks["convergence"]["converged"] is True


# alice's own read-after-write, while G2 missed the write (it was cut off).
# Links: G1-G2 10 ms, G1-G3 20 ms, and 50 ms from G1's client to G1 itself.
def _const(seconds):
    return {"dist": "constant", "value": seconds}


OWN_READ = {
    "network": {"latency": _const(0.05),
                "links": [{"between": ["G1", "G2"], "latency": _const(0.01)},
                          {"between": ["G1", "G3"], "latency": _const(0.02)}]},
    "nemesis": [{"at": 0.5, "partition": [["G1", "G3"], ["G2"]]}, {"at": 1.03, "heal": True}],
    "operations": [{"at": 1.0, "client": "alice", "write": {"x": "v1"}},
                   {"at": 1.05, "client": "alice", "read": "x"}],
}


def test_client_coordination_can_miss_your_own_write():
    """The first answer to alice's read comes from G2, which never got v1."""
    r = simulate(_story(**OWN_READ))
    assert _outcomes(r) == [
        ("alice", "write", "ok", "v1", 1.0, 1.04),  # G3's ack (20 ms each way) comes first
        ("alice", "read", "ok", "v0", 1.05, 1.07),  # G2's answer (10 ms each way) comes first
    ]
    assert r.checks["stale_reads"]["count"] == 1


def test_replica_coordination_reads_your_own_write_at_once():
    """G1 coordinates: its own copy takes the write at once and answers alice's read."""
    r = simulate(_story(params={"quorum": {"coordinator": "replica"}}, **OWN_READ))
    assert _outcomes(r) == [
        ("alice", "write", "ok", "v1", 1.0, 1.0),
        ("alice", "read", "ok", "v1", 1.05, 1.05),
    ]
    assert r.checks["stale_reads"]["count"] == 0
    assert all(m.src != m.dst for m in r.messages)  # nothing travels to itself


def test_replica_coordination_lowers_staleness_of_reading_your_writes():
    """Write, then read at commit, same client, LNKD-DISK: often stale unless G1 coordinates."""
    client = run_trials("LNKD-DISK", [0.0], per_t=600, seed=4)
    replica = run_trials("LNKD-DISK", [0.0], per_t=600, seed=4, coordinator="replica")
    assert 0.35 < client.p(0.0) < 0.55  # the paper: 43.9% consistent
    assert replica.p(0.0) == 1.0


def test_messages_carry_the_pbs_kinds_and_the_client_talks_to_its_home_over_the_network():
    r = simulate(_story(operations=[{"at": 1.0, "client": "alice", "write": {"x": "v1"}},
                                    {"at": 2.0, "client": "alice", "read": "x"}]))
    assert sorted({m.kind for m in r.messages}) == ["A", "R", "S", "W"]
    own = [(m.kind, m.sent, m.end) for m in r.messages if m.src == m.dst]
    assert own == [("W", 1.0, 1.05), ("A", 1.05, 1.1), ("R", 2.0, 2.05), ("S", 2.05, 2.1)]


def test_default_on_two_nodes_is_the_gilbert_lynch_stale_read():
    """No params, two nodes: N = 2, R = W = 1. Partitioned, G2 answers with v0."""
    sc = parse_scenario({
        "name": "gl", "duration": 6.0, "nodes": ["G1", "G2"], "initial": {"x": "v0"},
        "policy": "quorum",
        "nemesis": [{"at": 1.0, "partition": [["G1"], ["G2"]]}, {"at": 5.0, "heal": True}],
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": [{"at": 2.0, "client": "alice", "write": {"x": "v1"}},
                       {"at": 3.5, "client": "bob", "read": "x"}],
    })
    r = simulate(sc)
    assert [(op.type, op.value) for op in r.history.operations()] == [("ok", "v1"), ("ok", "v0")]
    assert r.checks["stale_reads"]["count"] == 1


def test_smaller_n_places_each_key_on_n_consecutive_nodes():
    sc = _story(nodes=["A", "B", "C", "D", "E"], params={"quorum": {"n": 3, "w": 3}},
                clients=[{"name": "alice", "node": "A"}],
                operations=[{"at": 1.0, "client": "alice", "write": {"x": "v1"}}])
    r = simulate(sc)
    p = Quorum("A", sc.nodes, {}, QuorumParams(n=3), timeout=1.0)
    holders = p.replicas_for("x")
    assert len(holders) == 3 and "".join(holders) in "ABCDEABCDE"
    assert sorted({t.node for t in r.trace if t.value == "v1"}) == sorted(holders)
    assert r.history.operations()[0].type == "ok"


# --- plain calls (sans-I/O) --------------------------------------------------------------


def _q(node="G1", **params):
    return Quorum(node, NODES, {"x": "v0"}, QuorumParams(**params), timeout=1.0)


def _wire(msg):
    """What the live runtime does to a message: JSON out, JSON in."""
    return json.loads(json.dumps(msg))


def test_plain_calls_write_waits_for_w_acks():
    q = _q(w=2)
    out = q.on_request(2.0, Request(7, "write", "x", "v1"))
    sends = [e for e in out if isinstance(e, Send)]
    assert [(s.dst, s.kind) for s in sends] == [("G1", "W"), ("G2", "W"), ("G3", "W")]
    assert sends[0].msg["ver"] == [2_000_000, "G1"]  # Lamport clock, kept at >= time in µs
    assert SetTimer(0.8, 1) in out
    assert not any(isinstance(e, (Reply, Stored)) for e in out)  # nothing stored yet
    # G2 gets it and acks.
    g2 = _q("G2")
    back = g2.on_message(2.01, "G1", _wire(sends[1].msg))
    assert back == [Stored("x", "v1"), Send("G1", {"t": "ack", "op": 1}, "A")]
    assert q.on_message(2.02, "G2", _wire(back[1].msg)) == []
    assert q.on_message(2.03, "G3", {"t": "ack", "op": 1}) == [Reply(7, "ok", "v1")]
    assert q.on_message(2.04, "G1", {"t": "ack", "op": 1}) == []  # late ack: ignored
    assert q.on_timer(2.8, 1) == []


def test_plain_calls_read_takes_the_highest_version_of_the_first_r():
    q = _q(r=2)
    out = q.on_request(1.0, Request(3, "read", "x"))
    assert [(e.dst, e.kind, e.msg["t"]) for e in out if isinstance(e, Send)] == [
        ("G1", "R", "read"), ("G2", "R", "read"), ("G3", "R", "read")]
    assert q.on_message(1.1, "G3", {"t": "value", "op": 1, "value": "v0", "ver": [0, ""]}) == []
    got = q.on_message(1.2, "G2", {"t": "value", "op": 1, "value": "v9", "ver": [5, "G3"]})
    assert got == [Reply(3, "ok", "v9")]


def test_plain_calls_replica_answers_for_itself():
    q = _q(coordinator="replica")
    out = q.on_request(1.0, Request(1, "write", "x", "v1"))
    assert out[0] == Stored("x", "v1")
    assert [(e.dst, e.kind) for e in out if isinstance(e, Send)] == [("G2", "W"), ("G3", "W")]
    assert Reply(1, "ok", "v1") in out
    assert q.on_request(1.1, Request(2, "read", "x")) == [
        Send("G2", {"t": "read", "op": 2, "key": "x"}, "R"),
        Send("G3", {"t": "read", "op": 2, "key": "x"}, "R"),
        SetTimer(0.8, 2),
        Reply(2, "ok", "v1"),
    ]


def test_plain_calls_give_up_fails_a_read_and_leaves_a_write_unknown():
    q = _q(r=3, w=3)
    q.on_request(1.0, Request(1, "read", "x"))
    q.on_request(1.0, Request(2, "write", "x", "v1"))
    q.on_message(1.1, "G1", {"t": "ack", "op": 2})
    [fail] = q.on_timer(1.8, 1)
    assert (fail.type, fail.request) == ("fail", 1)
    assert fail.error == "G1 heard from 0 of 3 replicas in 0.8 s, R=3 needed"
    [info] = q.on_timer(1.8, 2)
    assert (info.type, info.request) == ("info", 2)
    assert info.error.startswith("1 of 3 replicas acknowledged the write")


def test_plain_calls_read_repair_fixes_late_stale_replies_too():
    q = _q(read_repair=True)
    q.on_request(1.0, Request(1, "read", "x"))
    first = q.on_message(1.1, "G2", {"t": "value", "op": 1, "value": "v1", "ver": [9, "G2"]})
    assert first == [Reply(1, "ok", "v1")]
    late = q.on_message(1.2, "G3", {"t": "value", "op": 1, "value": "v0", "ver": [0, ""]})
    assert late == [Send("G3", {"t": "repair", "key": "x", "value": "v1", "ver": [9, "G2"]}, "W")]
    assert q.on_message(1.3, "G1", {"t": "value", "op": 1, "value": "v1", "ver": [9, "G2"]}) == []
    g3 = _q("G3")
    assert g3.on_message(1.3, "G1", _wire(late[0].msg)) == [Stored("x", "v1")]
    assert g3.value_of("x") == "v1"


def test_crash_forgets_operations_in_flight_but_not_the_data():
    q = _q(coordinator="replica", w=2)
    q.on_request(1.0, Request(1, "write", "x", "v1"))
    state = _wire(q.durable_state())
    q.on_crash()
    assert q.on_message(1.1, "G2", {"t": "ack", "op": 1}) == []
    fresh = _q()
    fresh.restore(state)
    assert fresh.value_of("x") == "v1" and fresh.clock == q.clock


# --- parameters --------------------------------------------------------------------------


def test_n_defaults_to_the_number_of_nodes():
    q = Quorum("G1", ["G1", "G2"], {}, QuorumParams(), timeout=1.0)
    assert (q.n, q.r, q.w) == (2, 1, 1)


@pytest.mark.parametrize(("params", "message"), [
    ({"n": 4}, "N=4 is more than the 3 nodes"),
    ({"r": 4}, "R=4 is more than N=3 (the number of nodes)"),
    ({"n": 2, "w": 3}, "W=3 is more than N=2: a write cannot wait"),
])
def test_impossible_nrw_is_a_clear_scenario_error(params, message):
    with pytest.raises(ScenarioError) as err:
        _story(params={"quorum": params})
    assert "params.quorum" in str(err.value) and message in str(err.value)


def test_impossible_nrw_through_python_is_a_capsim_error():
    with pytest.raises(CapsimError, match="N=5 is more than the 3 nodes"):
        simulate(_story(), params={"n": 5})


def test_cli_nrw(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(_story(**PARTITIONED).to_yaml(), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(path), "--nrw", "3,2,2", "--no-write", "--json"])
    assert res.exit_code == 0, res.output
    strict = json.loads(res.output)
    assert strict["policy"] == "quorum"
    assert strict["checks"]["ops"]["fail"] == 1  # R=W=2: bob refused
    res = runner.invoke(app, ["run", str(path), "--nrw", "3,1,1", "--no-write", "--json"])
    partial = json.loads(res.output)
    assert partial["checks"]["ops"]["fail"] == 0  # R=W=1: bob answered...
    assert partial["checks"]["stale_reads"]["count"] == 1  # ...with v0
    for bad, words in (("3,1", "three positive whole numbers"),
                       ("3,4,1", "R=4 is more than N=3"),
                       ("4,1,1", "N=4 is more than the 3 nodes")):
        res = runner.invoke(app, ["run", str(path), "--nrw", bad, "--no-write"])
        assert res.exit_code == 2 and words in res.output, (bad, res.output)
    res = runner.invoke(app, ["run", str(path), "-p", "cp", "--nrw", "3,1,1", "--no-write"])
    assert res.exit_code == 2 and "add --policy quorum" in res.output


def test_registered():
    assert REGISTRY["quorum"] is Quorum

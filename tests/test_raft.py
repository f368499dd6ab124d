"""raft: the paper's rules one by one (plain calls), and its scenarios through the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from capsim import load_scenario, seed_scenario, simulate
from capsim.cli import app
from capsim.policies.base import Reply, Request, Role, Send, node_rng
from capsim.policies.raft import CANDIDATE, FOLLOWER, LEADER, Raft, RaftParams
from capsim.testing.raft import Script, figure_8

from .paths import SCENARIOS
from .properties.broken import Figure8Raft

PAPER = {"pre_vote": False, "check_quorum": False}


def _node(name: str = "S1", n: int = 3, **params: object) -> Raft:
    nodes = [f"S{i}" for i in range(1, n + 1)]
    p = RaftParams.model_validate({**PAPER, **params})
    return Raft(name, nodes, {"x": "v0"}, p, timeout=1.0, rng=node_rng(0, name))


def _sends(effects: list[object], t: str | None = None) -> list[Send]:
    return [e for e in effects if isinstance(e, Send) and (t is None or e.msg["t"] == t)]


# --- elections (§5.2, §5.4.1) ----------------------------------------------------------


def test_a_timeout_makes_a_candidate_that_asks_every_peer_for_its_vote() -> None:
    r = _node()
    r.start(0.0)
    out = r.on_timer(0.0, ("elect", r.egen))
    assert (r.role, r.term, r.voted_for) == (CANDIDATE, 1, "S1")
    assert sorted(s.dst for s in _sends(out, "vote")) == ["S2", "S3"]
    assert Role(CANDIDATE, 1, 0, None) in out  # the observation the pictures use


def test_a_majority_of_votes_makes_a_leader_that_appends_an_empty_entry() -> None:
    r = _node()
    r.on_timer(0.0, ("elect", r.egen))
    out = r.on_message(0.0, "S2", {"t": "vote_resp", "term": 1, "granted": True})
    assert r.role == LEADER and r.log[-1] == (1, None)
    assert sorted(s.dst for s in _sends(out, "app")) == ["S2", "S3"]


def test_a_voter_votes_once_per_term() -> None:
    v = _node("S3")
    a = v.on_message(0.0, "S1", {"t": "vote", "term": 1, "li": 0, "lt": 0})
    b = v.on_message(0.0, "S2", {"t": "vote", "term": 1, "li": 0, "lt": 0})
    assert _sends(a)[0].msg["granted"] is True
    assert _sends(b)[0].msg["granted"] is False


def test_a_voter_refuses_a_candidate_whose_log_is_behind() -> None:
    """§5.4.1: up to date = a later last term, or the same last term and a longer log."""
    v = _node("S3")
    v.log = [(0, None), (1, None), (2, None)]
    v.term = 2
    older_term = v.on_message(0.0, "S1", {"t": "vote", "term": 3, "li": 5, "lt": 1})
    shorter = v.on_message(0.0, "S2", {"t": "vote", "term": 4, "li": 1, "lt": 2})
    assert _sends(older_term)[0].msg["granted"] is False
    assert _sends(shorter)[0].msg["granted"] is False
    ok = v.on_message(0.0, "S2", {"t": "vote", "term": 5, "li": 2, "lt": 2})
    assert _sends(ok)[0].msg["granted"] is True


def test_a_voter_that_hears_a_leader_ignores_vote_requests() -> None:
    """§4.2.3 (etcd CheckQuorum): a cut-off node cannot depose a working leader."""
    v = _node("S3", check_quorum=True)
    v.on_message(0.0, "S1", {"t": "app", "term": 1, "prev": 0, "pt": 0, "entries": [],
                             "commit": 0, "round": 1})
    assert v.on_message(0.0, "S2", {"t": "vote", "term": 2, "li": 0, "lt": 0}) == []
    assert v.term == 1


# --- replication (§5.3) --------------------------------------------------------------------


def test_append_entries_is_refused_when_the_previous_entry_does_not_match() -> None:
    f = _node("S2")
    out = f.on_message(0.0, "S1", {"t": "app", "term": 2, "prev": 3, "pt": 2,
                                   "entries": [[2, None]], "commit": 0, "round": 1})
    resp = _sends(out, "app_resp")[0].msg
    assert resp["ok"] is False and f.last_index == 0


def test_a_conflicting_suffix_is_truncated_and_replaced() -> None:
    f = _node("S2")
    f.term = 1
    f.log = [(0, None), (1, None), (1, ("write", "x", "old", "S2", 1, 0))]
    out = f.on_message(0.0, "S1", {"t": "app", "term": 2, "prev": 1, "pt": 1,
                                   "entries": [[2, ["write", "x", "new", "S1", 7, 0]]],
                                   "commit": 2, "round": 1})
    assert f.log[2] == (2, ("write", "x", "new", "S1", 7, 0))
    assert f.commit == 2 and f.value_of("x") == "new"
    assert _sends(out, "app_resp")[0].msg == {"t": "app_resp", "term": 2, "ok": True,
                                              "match": 2, "hint": 0, "round": 1}


def test_a_leader_never_commits_an_earlier_terms_entry_by_counting() -> None:
    """§5.4.2: a majority storing a term-1 entry does not commit it under a term-3 leader."""
    for policy, commits in ((Raft, False), (Figure8Raft, True)):
        nodes = ["S1", "S2", "S3"]
        p = RaftParams.model_validate(PAPER)
        r = policy("S1", nodes, {"x": "v0"}, p, timeout=1.0, rng=node_rng(0, "S1"))
        r.term = 2
        r.log = [(0, None), (1, ("write", "x", "v1", "S1", 1, 0))]
        r.on_timer(0.0, ("elect", r.egen))
        r.on_message(0.0, "S2", {"t": "vote_resp", "term": 3, "granted": True})
        assert r.role == LEADER
        r.next["S2"] = 1
        r.on_message(0.0, "S2", {"t": "app_resp", "term": 3, "ok": True, "match": 1,
                                 "hint": 0, "round": 1})
        assert (r.commit >= 1) is commits, policy.__name__
        if policy is Raft:  # the term-3 empty entry commits it indirectly
            r.on_message(0.0, "S2", {"t": "app_resp", "term": 3, "ok": True, "match": 2,
                                     "hint": 0, "round": 2})
            assert r.commit == 2 and r.value_of("x") == "v1"


def test_figure_8_loses_a_committed_write_only_under_the_broken_rule() -> None:
    class NoEmptyEntry(Raft):
        empty_entry_on_election = False

    figure_8(Raft)
    figure_8(NoEmptyEntry)  # the current-term rule alone is enough
    with pytest.raises(AssertionError, match="committed entry was overwritten"):
        figure_8(Figure8Raft)


# --- clients -----------------------------------------------------------------------------


def test_a_node_without_a_leader_fails_fast_and_a_follower_forwards() -> None:
    s = Script(3)
    assert s.p["S2"].on_request(0.0, Request(1, "write", "x", "v1")) == [
        Reply(1, "fail", error="no leader: S2 knows no leader in term 0")]
    s.timeout("S1")
    s.deliver()
    out = s.p["S2"].on_request(0.0, Request(2, "write", "x", "v1"))
    assert [(m.dst, m.kind) for m in _sends(out)] == [("S1", "forward")]


def test_cas_is_decided_when_applied_on_every_node() -> None:
    s = Script(3)
    s.timeout("S1")
    s.deliver()
    for i, (exp, new) in enumerate((("v0", "v1"), ("v0", "v2")), start=1):
        s._run("S1", s.p["S1"].on_request(0.0, Request(i, "cas", "x", (exp, new))))
        s.deliver()
    assert [(r.type, r.error) for r in s.replies] == [
        ("ok", None), ("fail", "x held 'v1', not 'v0'")]
    assert {p.value_of("x") for p in s.p.values()} == {"v1"}


# --- durability -----------------------------------------------------------------------------


def test_term_vote_log_and_commit_survive_a_restart_as_json() -> None:
    s = Script(3)
    s.timeout("S1")
    s.deliver()
    s.write("S1", "v1")
    s.deliver()
    saved = json.loads(json.dumps(s.p["S2"].durable_state()))
    fresh = _node("S2")
    fresh.restore(saved)
    assert (fresh.term, fresh.voted_for, fresh.log, fresh.commit) == (
        s.p["S2"].term, "S1", s.p["S2"].log, s.p["S2"].commit)
    assert fresh.value_of("x") == "v1" and fresh.role == FOLLOWER


def test_a_snapshot_restores_every_bit_of_state() -> None:
    s = Script(3)
    s.timeout("S1")
    s.deliver()
    s.write("S1", "v1")
    snap = s.p["S1"].snapshot()
    hash(snap)
    s.deliver()
    assert s.p["S1"].snapshot() != snap
    s.p["S1"].restore_snapshot(snap)
    assert s.p["S1"].snapshot() == snap


# --- params -------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "says"), [
    ({"election_timeout": [1.0, 0.5]}, "0 < lo <= hi"),
    ({"heartbeat": 0.6}, "must be shorter than the election timeout"),
    ({"read": "stale"}, "index"),
    ({"read": "lease", "check_quorum": False}, "needs check_quorum"),
])
def test_bad_params_name_the_field_and_exit_2(tmp_path, params, says) -> None:
    text = (SCENARIOS / "raft-leader-partition.yaml").read_text(encoding="utf-8")
    data = load_scenario(SCENARIOS / "raft-leader-partition.yaml").model_dump(
        mode="json", by_alias=True)
    data["params"] = {"raft": params}
    bad = tmp_path / "bad.yaml"
    import yaml

    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(bad), "--no-plot", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "params.raft" in res.output and says in res.output
    assert "Traceback" not in res.output
    assert text  # the shipped file itself is untouched


# --- the scenarios -------------------------------------------------------------------------


def _run_cli(tmp_path, name: str) -> str:
    res = CliRunner().invoke(app, ["run", str(SCENARIOS / name), "--policy", "raft",
                                   "--no-plot", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_leader_partition_tells_the_story_in_the_table(tmp_path) -> None:
    out = _run_cli(tmp_path, "raft-leader-partition.yaml")
    assert "G1 became leader of term 1" in out
    assert ("alice@G1 write x=v2: info (G1 heard from no majority for 0.5 s and stepped "
            "down; the write may still take effect)") in out
    assert "G1 stepped down as leader of term 1 at t=2.445" in out
    assert "G2 became leader of term 2 at t=2.906, after 0.462 s without a leader" in out
    assert "alice@G1 read x: fail (no leader: G1 knows no leader in term 1" in out
    assert "alice@G1 read x: ok v3" in out  # after the heal: v2 was overwritten
    assert "│ linearizable │ yes │" in out
    assert "│ leaders (term) │ G1 (1), G2 (2) │" in out
    saved = json.loads((tmp_path / "run" / "result.json").read_text(encoding="utf-8"))
    assert [r[2] for r in saved["roles"] if r[1] == "G1"][:3] == [
        "follower", "candidate", "leader"]


def test_the_seed_story_under_raft_says_why_there_is_no_leader(tmp_path) -> None:
    res = CliRunner().invoke(app, ["run", "--policy", "raft", "--no-plot",
                                   "--out", str(tmp_path / "seed")])
    out = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert ("During the partition G1 | G2 (t=1 to 6) no side holds a majority (2 of 2 "
            "nodes): nobody can be elected, so no write can commit.") in out
    r = simulate(seed_scenario(), policy="raft")
    assert all(not (1.5 <= e["time"] < 6) for e in r.checks["leadership"]["elections"])


def test_a_paused_leaders_lease_outlives_its_term(tmp_path) -> None:
    out = _run_cli(tmp_path, "raft-lease.yaml")
    assert "alice@G1 read x: ok v1" in out and "│ linearizable │ no │" in out
    assert "alice read v1 from G1" in out
    sc = load_scenario(SCENARIOS / "raft-lease.yaml")
    index = simulate(sc, params={"read": "index"})
    assert index.checks["linearizable"]["linearizable"] is True
    local = simulate(sc, params={"read": "local"})
    assert local.checks["stale_reads"]["count"] >= 1


def test_the_election_scenario_shows_the_election_time(tmp_path) -> None:
    out = _run_cli(tmp_path, "raft-election.yaml")
    assert "G1, leader of term 1, crashed at t=2." in out
    assert "became leader of term 2 at t=2.788, after 0.788 s without a leader" in out
    assert "│ linearizable │ yes │" in out


def test_same_seed_same_history_bytes() -> None:
    sc = load_scenario(SCENARIOS / "raft-leader-partition.yaml")
    a, b = simulate(sc), simulate(sc)
    assert a.history.to_jsonl() == b.history.to_jsonl()
    assert simulate(sc, seed=5).history.to_jsonl() != a.history.to_jsonl()


def test_the_timeline_marks_leaders_terms_and_elections() -> None:
    from capsim.plot.timeline import timeline

    r = simulate(load_scenario(SCENARIOS / "raft-leader-partition.yaml"))
    fig = timeline(r)
    ax = fig.axes[0]
    gids = {a.get_gid() for a in [*ax.patches, *ax.artists, *ax.lines] if a.get_gid()}
    assert {"election:G1:1", "election:G2:2"} <= gids
    leader_strips = sorted(g for g in gids if g.startswith("role:") and ":leader:" in g)
    assert [g.split(":")[1:4] for g in leader_strips] == [["G1", "leader", "1"],
                                                          ["G2", "leader", "2"]]
    texts = {t.get_text().strip() for t in ax.texts}
    assert {"term 1", "term 2"} <= texts
    labels = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else [
        t.get_text() for t in ax.get_legend().get_texts()]
    assert "leader (term)" in labels and "candidate" in labels
    # Other policies are drawn as before: no role strips.
    cp = timeline(simulate(seed_scenario(), policy="cp"))
    assert not any(str(a.get_gid()).startswith("role:") for a in cp.axes[0].patches)


def test_the_leadership_lines_speak_chinese(tmp_path) -> None:
    res = CliRunner().invoke(app, ["run", "--policy", "raft", "--no-plot", "--lang", "zh",
                                   "--out", str(tmp_path / "zh")])
    out = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "没有任何一侧拥有多数派" in out and "成为任期 3 的领导者" in out
    assert "无领导者时长" in out


def test_lab_manifests_can_drive_the_live_story_under_raft(tmp_path) -> None:
    import yaml

    out = tmp_path / "k8s"
    res = CliRunner().invoke(app, ["lab", "manifests", "--live", "--policy", "raft",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    job = yaml.safe_load_all((out / "09-capsim-live-job.yaml").read_text(encoding="utf-8"))
    (obj,) = [o for o in job if o]
    cmd = obj["spec"]["template"]["spec"]["containers"][0]["command"]
    assert cmd[cmd.index("--policy") + 1] == "raft"
    assert "under raft" in (out / "09-capsim-live-job.yaml").read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, ["lab", "manifests", "--live", "--policy", "paxos",
                                   "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "unknown policy 'paxos'" in bad.output

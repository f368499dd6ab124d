"""``capsim explore``: snapshots, the incremental checker, replay, the command line."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import capsim
from capsim.check.linearizable import check_linearizable
from capsim.cli import app
from capsim.explore.linear import KeyFrontier, LinOp
from capsim.explore.properties import Checker
from capsim.explore.run import build_model
from capsim.explore.search import bfs, path_history
from capsim.history import Event, History
from capsim.policies import REGISTRY
from capsim.scenario import load_scenario
from capsim.sim.schedule import replay

from .paths import SCENARIOS

runner = CliRunner()
# Modest example counts (each example is a whole schedule): about 40 under the ci
# profile, 20 under dev, 250 under thorough.
EXAMPLES = max(20, settings().max_examples // 12)
SEED = SCENARIOS / "partition.yaml"
CRASH = SCENARIOS / "crash.yaml"
MAJORITY = SCENARIOS / "majority.yaml"
ABD = SCENARIOS / "abd-new-old.yaml"


def random_path(model: Any, rng: random.Random, steps: int) -> list[Any]:
    s = model.initial()
    path = []
    for _ in range(steps):
        acts = model.actions(s)
        if not acts:
            break
        a = rng.choice(acts)
        path.append(a)
        s = model.step(s, a).state
    return path


# --- snapshots ------------------------------------------------------------------------
@pytest.mark.parametrize("policy", sorted(REGISTRY))
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 10_000), cut=st.integers(0, 40))
def test_replaying_from_a_restored_snapshot_gives_the_same_effects(
        policy: str, seed: int, cut: int) -> None:
    """Drive live replicas through a random schedule; at ``cut``, build fresh replicas
    from snapshots and drive both on: every handler returns the same effects."""
    sc = load_scenario(CRASH)
    model = build_model(sc, policy, drops=1)
    path = random_path(model, random.Random(seed), 40)
    cls = REGISTRY[policy]
    params = cls.Params.model_validate(sc.params.get(policy, {}))

    def fresh() -> dict[str, Any]:
        return {n: cls(n, sc.nodes, sc.initial, params, timeout=sc.timeout) for n in sc.nodes}

    live = fresh()
    for r in live.values():
        r.start(0.0)
    calls = _calls(model, path)
    restored: dict[str, Any] | None = None
    for i, (node, call) in enumerate(calls):
        if i == min(cut, len(calls)):
            restored = fresh()
            for n in sc.nodes:
                snap = live[n].snapshot()
                hash(snap)  # hashable
                restored[n].restore_snapshot(snap)
                assert restored[n].snapshot() == snap
        a = call(live[node])
        if restored is not None:
            assert call(restored[node]) == a
            assert restored[node].snapshot() == live[node].snapshot()


def _calls(model: Any, path: list[Any]) -> list[tuple[str, Any]]:
    """The policy calls a path makes, as (node, call) pairs."""
    from capsim.policies.base import Request

    out: list[tuple[str, Any]] = []
    s = model.initial()
    for a in path:
        kind = a[0]
        if kind == "invoke":
            gid = s.clients[a[1]][0]
            gid = model.client_ops[a[1]][gid]
            op = model.ops[gid]
            if op.node not in model.down[s.faults]:
                req = Request(gid + 1, op.f, op.key, op.value)
                out.append((op.node, lambda r, req=req: r.on_request(0.0, req)))
        elif kind == "deliver":
            src, dst, _, payload = a[1]
            out.append((dst, lambda r, src=src, p=payload: r.on_message(0.0, src, json.loads(p))))
        elif kind == "timer":
            node, tok = a[1]
            out.append((node, lambda r, tok=tok: r.on_timer(0.0, json.loads(tok))))
        elif kind == "fault":
            ev = model.nemesis[s.faults]
            if ev.crash is not None:
                out.append((ev.crash, lambda r: r.on_crash() or []))
            elif ev.recover is not None:
                out.append((ev.recover, lambda r: r.on_recover(0.0)))
        s = model.step(s, a).state
    return out


# --- the incremental linearizability check -------------------------------------------------
@st.composite
def histories(draw: Any) -> list[Event]:
    """Small one-key register histories with ok, fail and info outcomes, in time order."""
    n_ops = draw(st.integers(1, 6))
    procs = ["a", "b", "c"]
    values = ["v0", "v1", "v2", "v3"]
    ops = []
    for i in range(n_ops):
        f = draw(st.sampled_from(["read", "write"]))
        ops.append((i, draw(st.sampled_from(procs)), f,
                    None if f == "read" else values[1 + i % 3]))
    # Each process runs its ops in order; interleave invokes and completions.
    queue = {p: [o for o in ops if o[1] == p] for p in procs}
    open_: dict[str, Any] = {}
    events: list[Event] = []
    while any(queue.values()) or open_:
        choices = [("inv", p) for p in procs if queue[p] and p not in open_]
        choices += [("end", p) for p in open_]
        kind, p = draw(st.sampled_from(choices))
        t = float(len(events))
        if kind == "inv":
            op = queue[p].pop(0)
            open_[p] = op
            events.append(Event(len(events), t, p, "G1", "invoke", op[2], "x", op[3]))
        else:
            op = open_.pop(p)
            typ = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info", "pending"]))
            if typ == "pending":
                queue[p] = []  # the process never hears back
                continue
            val = draw(st.sampled_from(values)) if op[2] == "read" and typ == "ok" else (
                None if op[2] == "read" else op[3])
            events.append(Event(len(events), t, p, "G1", typ, op[2], "x", val))
            if typ == "info":
                queue[p] = []
    return events


@settings(max_examples=EXAMPLES * 10)
@given(histories())
def test_frontier_agrees_with_the_offline_checker(events: list[Event]) -> None:
    fr = KeyFrontier.initial("v0")
    ids: dict[str, LinOp] = {}
    for i, e in enumerate(events):
        if e.type == "invoke":
            op = LinOp(i, e.f, e.value)
            ids[e.process] = op
            fr = fr.invoke(op)
        else:
            fr = fr.complete(ids[e.process], e.type, e.value if e.f == "read" else None)
    expected = check_linearizable(History(events), initial={"x": "v0"}).linearizable
    assert bool(fr.configs) == expected


# --- replay: the simulator carries out the explorer's schedules exactly ---------------------
@pytest.mark.parametrize(("scenario", "policy", "drops", "any_faults"), [
    (SEED, "cp", 1, None), (SEED, "ap", 1, None), (CRASH, "cp", 1, None), (CRASH, "ap", 0, None),
    (CRASH, "lock", 1, None), (CRASH, "quorum", 1, None), (MAJORITY, "cp", 0, None),
    (MAJORITY, "lock", 0, 2), (CRASH, "ap", 1, 3), (SEED, "quorum", 0, 2),
])
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 10_000))
def test_random_schedules_replay_to_the_same_history(
        scenario: Path, policy: str, drops: int, any_faults: int | None, seed: int) -> None:
    from capsim.explore.story import schedule_step

    sc = load_scenario(scenario)
    model = build_model(sc, policy, drops=drops, any_faults=any_faults)
    path = random_path(model, random.Random(seed), 30)
    steps = [schedule_step(model, a, "") for a in path]
    run = replay(sc, {"steps": steps}, policy=policy)
    assert run.history.to_jsonl() == path_history(model, path).to_jsonl()


# --- the search -----------------------------------------------------------------------------
def test_budgets_give_an_honest_incomplete_result() -> None:
    r = capsim.explore(load_scenario(MAJORITY), "cp", max_states=50)
    assert r.complete is False and "state limit" in str(r.stopped)
    assert r.properties["linearizable"].holds is None


def test_ctrl_c_keeps_what_was_proved() -> None:
    model = build_model(load_scenario(MAJORITY), "cp")

    def interrupt(p: Any) -> None:
        raise KeyboardInterrupt

    out = bfs(model, Checker(["linearizable"]), on_progress=interrupt, progress_every=0)
    assert out.stopped == "Ctrl-C" and not out.complete and out.progress.states > 1


def test_fingerprints_give_the_same_verdicts_and_counts() -> None:
    sc = load_scenario(SEED)
    for policy in ("cp", "ap"):
        a = capsim.explore(sc, policy)
        b = capsim.explore(sc, policy, fingerprints=True)
        assert (a.states, a.properties["linearizable"].holds) == (
            b.states, b.properties["linearizable"].holds)
        assert b.collision_probability is not None and b.collision_probability < 1e-12


def test_properties_per_policy_on_the_majority_story() -> None:
    sc = load_scenario(MAJORITY)
    cp = capsim.explore(sc, "cp", properties=["linearizable", "available"])
    assert cp.properties["linearizable"].holds is True
    assert cp.properties["available"].holds is True
    ap = capsim.explore(sc, "ap", properties=["linearizable", "available", "converges"])
    assert ap.properties["linearizable"].holds is False
    assert ap.properties["available"].holds is True
    assert ap.properties["converges"].holds is True
    lossy = capsim.explore(sc, "cp", properties=["available"], drops=1)
    ce = lossy.properties["available"].counterexample
    assert ce is not None and "could reach a majority" in ce.explanation


# --- the command line -----------------------------------------------------------------------
def test_seed_story_cp_proved_ap_three_step_counterexample(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    res = runner.invoke(app, ["explore", str(SEED), "--policy", "cp,ap", "--out", str(out)])
    assert res.exit_code == 1, res.output
    assert "cp  linearizable in every schedule: 22 distinct states" in res.output
    assert "ap  NOT linearizable: shortest counterexample has 3 steps" in res.output
    assert "1. the network splits: G1 | G2" in res.output
    assert "2. alice@G1 write x=v1 → ok" in res.output
    assert "3. bob@G2 read x → ok v0" in res.output
    assert "bob read v0 from G2" in res.output
    folder = out / "explore-ap"
    for name in ("history.jsonl", "result.json", "timeline.png", "schedule.json",
                 "explore.json"):
        assert (folder / name).is_file(), name
    ex = json.loads((folder / "explore.json").read_text())
    assert (ex["policy"], ex["property"]) == ("ap", "linearizable")
    assert [s["label"].split("  (")[0] for s in ex["steps"]] == [
        "the network splits: G1 | G2", "alice@G1 write x=v1 → ok", "bob@G2 read x → ok v0"]
    for st_ in ex["steps"]:
        assert st_["state"] in ex["states"]
    first = ex["states"][ex["initial"]]
    assert first["replicas"] == {"G1": {"x": "v0"}, "G2": {"x": "v0"}}
    assert {"label", "next"} <= set(first["enabled"][0])
    last = ex["states"][ex["steps"][-1]["state"]]
    assert last["replicas"]["G1"] == {"x": "v1"} and last["replicas"]["G2"] == {"x": "v0"}
    assert last["faults"] == ["cut: G1→G2, G2→G1"]
    # Existing folders are not overwritten without --force.
    again = runner.invoke(app, ["explore", str(SEED), "--policy", "ap", "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_broken_abd_found_and_replayed_to_the_same_history(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    res = runner.invoke(app, ["explore", str(ABD), "--policy", "abd-no-writeback",
                              "--out", str(out), "--no-plot"])
    assert res.exit_code == 1, res.output
    assert "abd-no-writeback NOT linearizable: shortest counterexample has 9 steps" \
        in res.output
    assert "carol started a read on G3" in res.output and "got v0" in res.output
    folder = out / "explore-abd-no-writeback"
    rerun = tmp_path / "rerun"
    res2 = runner.invoke(app, ["run", str(ABD), "--policy", "abd-no-writeback", "--schedule",
                               str(folder / "schedule.json"), "--out", str(rerun), "--no-plot"])
    assert res2.exit_code == 0, res2.output
    assert (rerun / "history.jsonl").read_bytes() == (folder / "history.jsonl").read_bytes()
    assert "linearizable" in res2.output and "no" in res2.output


def test_incomplete_search_exits_3(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explore", str(MAJORITY), "--policy", "cp", "--max-states", "40",
                              "--out", str(tmp_path)])
    assert res.exit_code == 3, res.output
    assert "incomplete, stopped by the state limit (40 states)" in res.output
    assert "no violation so far" in res.output


def test_bad_property_and_bad_schedule_are_clear_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explore", str(SEED), "--property", "fast"])
    assert res.exit_code == 2
    assert "unknown property 'fast'; valid properties: linearizable, available, converges" \
        in res.output
    bad = tmp_path / "schedule.json"
    bad.write_text(json.dumps({"steps": [{"do": "invoke", "client": "alice"},
                                         {"do": "deliver", "src": "G1", "dst": "G2",
                                          "kind": "query", "msg": {"t": "nope"}}]}))
    res = runner.invoke(app, ["run", str(SEED), "--policy", "cp", "--schedule", str(bad),
                              "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert f"{bad}: steps[2]: no query message G1→G2 like that is in flight" in res.output
    bad.write_text("{not json")
    res = runner.invoke(app, ["run", str(SEED), "--schedule", str(bad), "--no-write"])
    assert res.exit_code == 2 and "not valid JSON" in res.output


@pytest.mark.parametrize(("scenario", "policy"), [(SEED, "ap"), (CRASH, "ap"), (CRASH, "quorum"),
                                                  (MAJORITY, "quorum")])
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 10_000))
def test_stale_reads_found_on_the_way_match_the_offline_check(
        scenario: Path, policy: str, seed: int) -> None:
    from capsim.check.staleness import stale_reads

    model = build_model(load_scenario(scenario), policy, drops=1, properties=["stale-free"])
    s = model.initial()
    flagged = False
    for a in random_path(model, random.Random(seed), 30):
        r = model.step(s, a)
        flagged = flagged or r.stale is not None
        s = r.state
    path = random_path(model, random.Random(seed), 30)
    offline = stale_reads(path_history(model, path).operations(), model.scenario.initial)
    assert flagged == (offline["count"] > 0)


def test_stale_free_needs_values_written_once(tmp_path: Path) -> None:
    sc = tmp_path / "twice.yaml"
    sc.write_text(SEED.read_text().replace("write: {x: v1}", "write: {x: v0}"))
    res = runner.invoke(app, ["explore", str(sc), "--property", "stale-free"])
    assert res.exit_code == 2
    assert "needs every value written once, but alice writes 'v0' to x, as the initial value" \
        in res.output


def test_abd_without_request_ids_is_caught_by_a_late_ack() -> None:
    sc = load_scenario(SCENARIOS / "abd-late-ack.yaml")
    r = capsim.explore(sc, "abd-no-request-ids")
    ce = r.properties["linearizable"].counterexample
    assert ce is not None and ce.steps == 13
    assert "alice's write of v2 to G1 had already been acknowledged" in ce.explanation
    assert ce.run.history.to_jsonl() == replay(sc, ce.schedule).history.to_jsonl()


def test_arbitrary_faults(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explore", str(SEED), "--policy", "cp,ap", "--faults", "any:2",
                              "--property", "linearizable,available", "--out", str(tmp_path),
                              "--no-plot"])
    assert res.exit_code == 1, res.output
    assert "cp  linearizable in every schedule" in res.output
    assert "cp  available in every schedule" in res.output
    assert "ap  NOT linearizable: shortest counterexample has 2 steps" in res.output
    sched = json.loads((tmp_path / "explore-ap" / "schedule.json").read_text())
    assert sched["faults"] == "any:2"
    lock = capsim.explore(load_scenario(SEED), "lock", any_faults=1, properties=["available"])
    ce = lock.properties["available"].counterexample
    # lock refuses a read while a write holds the lock, with or without a fault:
    assert ce is not None and "G2 is locked by G1's write of x" in ce.explanation
    assert ce.run.history.to_jsonl() == replay(load_scenario(SEED), ce.schedule).history.to_jsonl()
    bad = runner.invoke(app, ["explore", str(SEED), "--faults", "some:2"])
    assert bad.exit_code == 2 and "--faults takes any:K, e.g. any:2" in bad.output


def test_json_output_names_the_verdicts_and_folders(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explore", str(SEED), "--policy", "cp,ap", "--json", "--no-plot",
                              "--out", str(tmp_path)])
    assert res.exit_code == 1
    cp, ap = json.loads(res.stdout)
    assert (cp["policy"], cp["states"], cp["properties"]["linearizable"]["holds"]) == (
        "cp", 22, True)
    assert ap["properties"]["linearizable"] == {
        "holds": False, "steps": 3, "explanation": ap["properties"]["linearizable"]["explanation"]}
    assert ap["written"] == {"linearizable": str(tmp_path / "explore-ap")}

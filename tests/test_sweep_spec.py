"""Sweep files: expansion of grids and zips, dotted paths, seeds, and clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capsim.errors import ScenarioError
from capsim.sweep.spec import derive_seed, load_sweep, parse_sweep_text, set_path, split_path
from tests.paths import ROOT, SCENARIOS

BASE = """\
base:
  name: t
  duration: 10
  nodes: [G1, G2]
  initial: {x: v0}
  policy: [cp, ap]
  nemesis:
    - {at: 1.0, partition: [[G1], [G2]]}
    - {at: 6.0, heal: true}
  clients:
    - {name: alice, node: G1}
  operations:
    - {at: 2.0, client: alice, write: {x: v1}}
"""


def sweep(text: str, **kw: object) -> object:
    return parse_sweep_text(BASE + text, source="s.yaml", **kw)  # type: ignore[arg-type]


def problems(text: str, full: bool = False) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_sweep_text(text if full else BASE + text, source="s.yaml")
    return str(info.value)


def test_grid_is_a_product_in_file_order_with_policies_and_seeds() -> None:
    s = sweep("grid:\n  timeout: [0.5, 1.0]\n  network.latency.value: {start: 0.1, stop: 0.3, "
              "step: 0.1}\nseeds: 3\n")
    assert s.describe() == "6 points × 2 policies × 3 seeds = 36 runs"
    assert [p.values for p in s.points] == [
        {"timeout": t, "network.latency.value": v}
        for t in (0.5, 1.0) for v in (0.1, 0.2, 0.3)  # exact decimals, no 0.30000000000000004
    ]
    assert s.points[4].scenario.timeout == 1.0
    assert s.points[4].scenario.network.latency.value == 0.2  # type: ignore[union-attr]
    first = s.runs[:7]
    assert [(r.point.index, r.policy, r.replicate) for r in first] == [
        (0, "cp", 0), (0, "cp", 1), (0, "cp", 2), (0, "ap", 0), (0, "ap", 1), (0, "ap", 2),
        (1, "cp", 0)]


def test_integer_range_stays_integer_and_includes_stop() -> None:
    s = sweep("grid:\n  workload.rate: {start: 10, stop: 30, step: 10}\n")
    assert [p.values["workload.rate"] for p in s.points] == [10, 20, 30]
    assert all(type(p.values["workload.rate"]) is int for p in s.points)
    # workload was null in the base: the path made it
    assert [p.scenario.workload.rate for p in s.points] == [10, 20, 30]  # type: ignore[union-attr]


def test_zip_advances_together_and_crosses_with_grid() -> None:
    s = sweep("zip:\n  label.length: [1, 2, 3]\n  nemesis.1.at: [2.0, 3.0, 4.0]\n"
              "grid:\n  policy: [cp, ap]\n")
    assert len(s.points) == 6 and len(s.runs) == 6
    assert [(p.values["length"], p.values["nemesis.1.at"], p.values["policy"])
            for p in s.points] == [(1, 2.0, "cp"), (1, 2.0, "ap"), (2, 3.0, "cp"),
                                   (2, 3.0, "ap"), (3, 4.0, "cp"), (3, 4.0, "ap")]
    assert [p.scenario.nemesis[1].at for p in s.points[::2]] == [2.0, 3.0, 4.0]
    assert s.columns == ["length", "nemesis.1.at", "policy"]


def test_several_zip_blocks_are_crossed() -> None:
    s = sweep("zip:\n  - {timeout: [1.0, 2.0], nemesis.0.at: [0.5, 1.5]}\n"
              "  - {network.loss: [0.0, 0.1, 0.2]}\n")
    assert len(s.points) == 6
    assert s.points[5].values == {"timeout": 2.0, "nemesis.0.at": 1.5, "network.loss": 0.2}


def test_dotted_paths_reach_list_items_params_and_whole_values() -> None:
    s = sweep("set:\n  params.ap.sync_interval: 0.25\n"
              "grid:\n  nemesis[0].partition: [[[G1], [G2]], [[G2], [G1]]]\n"
              "  network.latency: [{dist: exponential, mean: 0.02}]\n")
    assert s.points[1].scenario.nemesis[0].partition == [["G2"], ["G1"]]
    assert s.points[0].scenario.params == {"ap": {"sync_interval": 0.25}}
    assert s.points[0].scenario.network.latency.dist == "exponential"
    assert split_path("nemesis[1].at") == split_path("nemesis.1.at") == ("nemesis", "1", "at")
    data: dict[str, object] = {"a": [{"b": 1}], "w": None}
    set_path(data, ("a", "0", "b"), 2)
    set_path(data, ("w", "rate"), 5)
    assert data == {"a": [{"b": 2}], "w": {"rate": 5}}


def test_seeds_are_sha256_of_the_point_not_of_the_policy_or_the_process() -> None:
    s = sweep("grid:\n  timeout: [0.5, 1.0]\nseeds: 2\nseed: 9\n")
    by = {(r.point.index, r.policy, r.replicate): r.seed for r in s.runs}
    assert by[(0, "cp", 0)] == by[(0, "ap", 0)]       # same workload under both policies
    assert by[(0, "cp", 0)] != by[(0, "cp", 1)] != by[(1, "cp", 1)]
    text = json.dumps({"point": {"timeout": 0.5}, "replicate": 0, "seed": 9},
                      sort_keys=True, separators=(",", ":"))
    expected = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1
    assert by[(0, "cp", 0)] == expected == derive_seed(9, {"timeout": 0.5, "policy": "x"}, 0)
    # another process with another hash salt derives the same seeds
    code = ("from capsim.sweep.spec import derive_seed;"
            "print(derive_seed(9, {'timeout': 0.5}, 0))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True).stdout
    assert int(out) == expected


def test_base_file_is_relative_to_the_sweep_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "s.yaml").write_text(
        f"base: {os.path.relpath(SCENARIOS / 'partition.yaml', tmp_path / 'sub')}\n"
        "grid: {timeout: [0.5, 2.0]}\n")
    s = load_sweep(tmp_path / "sub" / "s.yaml")
    assert s.name == "s" and s.base.name == "seed-cap-story"
    assert len(s.runs) == 4


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("grd:\n  timeout: [1]\n", ["s.yaml:14: grd: unknown field 'grd'", "grid"]),
        ("grid:\n  nemesis.5.at: [1.0]\n",
         ["s.yaml:15: grid.nemesis.5.at:", "2 entries", "index 5 is out of range"]),
        ("grid:\n  nemesis.1.at: [5.0, 12.0]\n",
         ["s.yaml:15: grid.nemesis.1.at:", "after the end of the run", "nemesis.1.at=12.0"]),
        ("grid:\n  nemesis.1.att: [5.0]\n",
         ["s.yaml:15: grid.nemesis.1.att:", "unknown field 'att'"]),
        ("grid:\n  policy: [cp, paxos]\n",
         ["s.yaml:15: grid.policy:", "unknown policy 'paxos'", "cp, ap"]),
        ("zip:\n  timeout: [1, 2]\n  network.loss: [0.1]\n",
         ["s.yaml:14: zip:", "equal lengths", "timeout has 2, network.loss has 1"]),
        ("grid:\n  timeout: {start: 1, stop: 0.5}\n",
         ["s.yaml:15: grid.timeout.stop:", "before start"]),
        ("grid:\n  timeout: {start: 1, stop: 2, step: 0}\n",
         ["s.yaml:15: grid.timeout.step:", "greater than 0"]),
        ("grid:\n  timeout: 3\n", ["s.yaml:15: grid.timeout:", "list of values", "range"]),
        ("grid:\n  timeout: []\n", ["s.yaml:15: grid.timeout:", "empty list"]),
        ("grid:\n  seed: [1, 2]\n", ["grid.seed:", "do not vary seed"]),
        ("grid:\n  network: [1]\n  network.loss: [0.1]\n",
         ["s.yaml:16: grid.network.loss:", "also varied by grid.network (line 15)"]),
        ("set:\n  duration: -1\n", ["s.yaml:15: set.duration:", "greater than 0"]),
        ("seeds: 0\n", ["s.yaml:14: seeds:", "greater than or equal to 1"]),
        ("plots:\n  - {x: latency}\n", ["s.yaml:15: plots[0].x:", "'latency' is not a column"]),
        ("grid:\n  operations.0.write: [{x: v1}, {x: v2}, {y: 1, z: 2}]\n",
         ["s.yaml:15: grid.operations.0.write:", "exactly one key"]),
    ],
)
def test_bad_sweeps_name_line_and_field(text: str, words: list[str]) -> None:
    msg = problems(text)
    for w in words:
        assert w in msg, msg


def test_bad_inline_base_and_missing_base_file() -> None:
    msg = problems("base:\n  name: t\n  duration: 10\n  nodes: [G1]\n  colour: red\n", full=True)
    assert "s.yaml:5: base.colour: unknown field 'colour'" in msg
    msg = problems("base: nowhere.yaml\n", full=True)
    assert "s.yaml:1: base:" in msg and "no scenario file" in msg
    msg = problems("grid: [1, 2\n", full=True)
    assert "s.yaml:2:" in msg and "not valid YAML" in msg


def test_a_policy_that_cannot_serve_the_workload_fails_before_any_run() -> None:
    from capsim.policies import REGISTRY

    lacking = [n for n, cls in REGISTRY.items() if "cas" not in cls.supports]
    if not lacking:
        pytest.skip("every registered policy offers cas")
    msg = problems(f"set:\n  workload: {{rate: 5, cas: 0.5}}\ngrid:\n  policy: [{lacking[0]}]\n")
    assert "grid.policy" in msg and "does not offer cas" in msg


@pytest.mark.parametrize("path", sorted((SCENARIOS / "sweeps").glob("*.yaml")))
def test_example_sweeps_expand(path: Path) -> None:
    from capsim.policies import REGISTRY

    text = path.read_text()
    if "policy: quorum" in text and "quorum" not in REGISTRY:
        pytest.skip("the quorum policy is not registered yet")
    s = load_sweep(path)
    assert len(s.runs) >= 40
    assert s.plots, "an example sweep says which picture to draw"


def test_quorum_example_shows_overlapping_quorums_never_read_stale(tmp_path: Path) -> None:
    from capsim.policies import REGISTRY
    from capsim.sweep import run_sweep

    if "quorum" not in REGISTRY:
        pytest.skip("the quorum policy is not registered yet")
    text = (SCENARIOS / "sweeps" / "quorum-nrw.yaml").read_text()
    f = tmp_path / "q.yaml"
    f.write_text(text.replace("seeds: 10", "seeds: 2"))
    result = run_sweep(load_sweep(f), tmp_path / "out", workers=1, plots=False)
    assert len(result.rows) == 18
    for row in result.rows:
        r, w = row["params.quorum.r"], row["params.quorum.w"]
        if r + w > 3:  # every read quorum meets every write quorum
            assert row["stale_reads.count"] == 0, row
        if r == w == 3:  # G3 is cut off: no op can gather all three replicas
            assert row["availability.during_partition"] == 0.0, row
    assert any(row["stale_reads.count"] for row in result.rows
               if row["params.quorum.r"] == row["params.quorum.w"] == 1)

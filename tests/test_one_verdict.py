"""One verdict everywhere (issue 19 §3): `capsim check` agrees with the run that wrote it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.errors import CapsimError
from capsim.policies import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
runner = CliRunner()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_check_gives_the_runs_verdict_for_every_shipped_scenario_and_policy(
    scenario: Path, tmp_path: Path
) -> None:
    from capsim.cli.run import write_run
    from capsim.scenario import load_scenario
    from capsim.sim import simulate

    sc = load_scenario(scenario)
    compared = 0
    for policy in REGISTRY:
        try:
            result = simulate(sc, policy=policy)
        except CapsimError as exc:  # e.g. cas under a policy that does not offer it
            assert "does not offer" in str(exc) or "cas" in str(exc), str(exc)
            continue
        folder = tmp_path / policy
        folder.mkdir()
        write_run(result, folder)
        ran = json.loads((folder / "result.json").read_text())["checks"]["linearizable"]
        res = runner.invoke(app, ["check", str(folder / "history.jsonl"), "--json"])
        doc = json.loads(res.stdout)
        assert doc["linearizable"] == ran["linearizable"], (policy, doc["explanation"])
        assert res.exit_code == {True: 0, False: 1}[ran["linearizable"]]
        assert doc["initial_from"].endswith("result.json")
        # The same history alone, without result.json: never a wrong NO.
        alone = tmp_path / f"{policy}-alone.jsonl"
        shutil.copy(folder / "history.jsonl", alone)
        res = runner.invoke(app, ["check", str(alone), "--json"])
        doc = json.loads(res.stdout)
        if ran["linearizable"] is True:
            assert doc["linearizable"] in (True, "unknown"), (policy, doc["explanation"])
        compared += 1
    assert compared >= 2


def test_check_beside_the_seed_run_says_yes_and_names_where_the_initial_values_came_from(
    tmp_path: Path,
) -> None:
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "--out", str(out), "--no-plot"]).exit_code == 0
    res = runner.invoke(app, ["check", str(out / "cp" / "history.jsonl")])
    assert res.exit_code == 0, res.output
    assert f"initial values (from {out / 'cp' / 'result.json'}): x=v0" in res.output
    assert "linearizable: yes" in res.output


def test_without_the_initial_values_check_says_unknown_and_how_to_settle_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "--out", str(out), "--no-plot"]).exit_code == 0
    alone = tmp_path / "cp.jsonl"
    shutil.copy(out / "cp" / "history.jsonl", alone)
    res = runner.invoke(app, ["check", str(alone)])
    assert res.exit_code == 3, res.output
    assert "linearizable: unknown" in res.output
    assert "the verdict depends on the keys' initial values, which cp.jsonl does not record" \
        in res.output
    assert "If x=v0 before the history started, it is linearizable" in res.output
    assert "Pass --initial x=v0" in res.output
    res = runner.invoke(app, ["check", str(alone), "--initial", "x=v0"])
    assert res.exit_code == 0, res.output
    # ap's stale read is a NO whatever x held at first: said so.
    shutil.copy(out / "ap" / "history.jsonl", alone)
    res = runner.invoke(app, ["check", str(alone)])
    assert res.exit_code == 1, res.output
    assert "This holds whatever the keys' initial values were." in res.output

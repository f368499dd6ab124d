"""Determinism: a run is a function of its scenario and seed; a verdict of its history."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from capsim import load_scenario, simulate
from capsim.scenario import Scenario
from capsim.testing import strategies as cst

from . import claims


@given(claims.ANY_POLICY)
def test_same_scenario_and_seed_give_the_same_history(scenario: Scenario) -> None:
    """Running the same scenario with the same seed twice gives byte-identical
    histories and results."""
    claims.check_deterministic(scenario)


@given(claims.ANY_POLICY, cst.sequential_histories(keys=2))
def test_checkers_are_pure(scenario: Scenario, other: tuple) -> None:
    """Checking a history gives the same verdicts whatever was checked before,
    and leaves the history unchanged."""
    history = simulate(scenario).history
    claims.check_checkers_pure(history, other[0], scenario.initial)


_DIGESTS = """
import hashlib, json, sys
from capsim import load_scenario, simulate
out = []
for path in sys.argv[1:]:
    r = simulate(load_scenario(path))
    out.append(hashlib.sha256((r.history.to_jsonl() + r.to_json()).encode()).hexdigest())
print(json.dumps(out))
"""


def test_same_history_in_fresh_interpreters(tmp_path: Path) -> None:
    """Generated scenarios give the same bytes in fresh interpreters with other hash seeds."""
    found: list[Scenario] = []

    @settings(max_examples=8, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(claims.ANY_POLICY)
    def collect(scenario: Scenario) -> None:
        found.append(scenario)

    collect()
    paths = []
    for i, sc in enumerate(found):
        p = tmp_path / f"s{i}.yaml"
        p.write_text(sc.to_yaml(), encoding="utf-8")
        paths.append(str(p))
    here = [
        hashlib.sha256((r.history.to_jsonl() + r.to_json()).encode()).hexdigest()
        for r in (simulate(load_scenario(p)) for p in paths)
    ]
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, "-c", _DIGESTS, *paths], env=env,
                              capture_output=True, text=True, check=True)
        assert json.loads(proc.stdout) == here, f"PYTHONHASHSEED={hash_seed} changed a run"

"""The front door: ``simulate(scenario, **overrides) -> RunResult``.

The CLI, notebooks, sweeps and tests all come through here, so a scenario
means the same thing everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from capsim.check import run_checks
from capsim.check.leadership import leadership
from capsim.errors import CapsimError, Problem, ScenarioError
from capsim.policies import get_policy
from capsim.policies.base import Policy
from capsim.result import RunResult
from capsim.scenario import Scenario, load_scenario
from capsim.sim.engine import Engine
from capsim.sim.nemesis import fault_spans


def simulate(
    scenario: Scenario | str | Path,
    *,
    policy: str | type[Policy] | None = None,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    record_messages: bool = True,
    linearizability: bool = True,
) -> RunResult:
    """Run ``scenario`` once and check its history.

    ``policy`` overrides the scenario's (its first, when it lists several);
    a Policy subclass may be passed directly (tests use this for deliberately
    broken policies). ``seed`` overrides the scenario's seed: the same
    scenario and seed always give the same history, byte for byte.
    ``params`` overrides the policy's tunables from the scenario.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if policy is None:
        policy = scenario.policies[0]
    policy_cls = get_policy(policy) if isinstance(policy, str) else policy
    name = policy_cls.name or policy_cls.__name__
    merged = {**scenario.params.get(name, {}), **(params or {})}
    try:
        p = policy_cls.Params.model_validate(merged)
    except Exception as exc:
        raise CapsimError(f"bad parameters for policy {name!r}: {exc}") from None
    check_supported(scenario, policy_cls, name)
    run_seed = scenario.seed if seed is None else int(seed)

    engine = Engine(scenario, policy_cls, p, run_seed, record_messages=record_messages)
    engine.run()
    history = engine.history()
    faults = fault_spans(scenario)
    checks = run_checks(
        history,
        initial=scenario.initial,
        faults=faults,
        trace=engine.trace,
        nodes=scenario.nodes,
        duration=scenario.duration,
        linearizability=linearizability,
    )
    if engine.roles:
        checks["leadership"] = leadership(engine.roles, faults, scenario.nodes,
                                          scenario.duration)
    return RunResult(
        scenario=scenario,
        policy=name,
        seed=run_seed,
        history=history,
        trace=engine.trace,
        faults=faults,
        messages=engine.messages(),
        checks=checks,
        params=p.model_dump(mode="json"),
        roles=engine.roles,
        marks=engine.marks,
    )


def check_supported(scenario: Scenario, policy_cls: type[Policy], name: str) -> None:
    wanted = {op.f for op in scenario.operations}
    if scenario.workload is not None:
        if scenario.workload.reads > 0:
            wanted.add("read")
        if scenario.workload.cas > 0:
            wanted.add("cas")
        if scenario.workload.reads + scenario.workload.cas < 1:
            wanted.add("write")
    missing = sorted(wanted - set(policy_cls.supports))
    if missing:
        why = (
            " (compare-and-set needs consensus, which a quorum register cannot give)"
            if "cas" in missing else ""
        )
        raise ScenarioError([
            Problem(
                f"scenario {scenario.name!r}", None, "policy",
                f"policy {name!r} does not offer {', '.join(missing)}{why}; "
                f"it offers {', '.join(sorted(policy_cls.supports))}",
            )
        ])

"""The front door: ``simulate(scenario, **overrides) -> RunResult``.

The CLI, notebooks, sweeps and tests all come through here, so a scenario
means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from capsim.check import run_checks
from capsim.check.leadership import leadership
from capsim.errors import Problem, ScenarioError
from capsim.i18n import t
from capsim.policies import REGISTRY, get_policy
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
    journal_dir: str | Path | None = None,
) -> RunResult:
    """Run ``scenario`` once and check its history.

    ``policy`` overrides the scenario's (its first, when it lists several);
    a Policy subclass may be passed directly (tests use this for deliberately
    broken policies). ``seed`` overrides the scenario's seed: the same
    scenario and seed always give the same history, byte for byte.
    ``params`` overrides the policy's tunables from the scenario.
    A long message journal waits in an anonymous temporary file in
    ``journal_dir`` (default: the system's temporary folder) rather than in
    memory; ``record_messages=False`` records none.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if policy is None:
        policy = scenario.policies[0]
    policy_cls = get_policy(policy) if isinstance(policy, str) else policy
    name = policy_cls.name or policy_cls.__name__
    merged = {**scenario.params.get(name, {}), **policy_params(params, name)}
    try:
        p = policy_cls.Params.model_validate(merged, context={"nodes": list(scenario.nodes)})
    except ValidationError as exc:
        from capsim.scenario import dotted, problem_message

        raise ScenarioError([
            Problem("simulate(params=…)", None, dotted(("params", name, *e["loc"])),
                    problem_message(e, policy_cls.Params, tuple(e["loc"])))
            for e in exc.errors()
        ]) from None
    check_supported(scenario, policy_cls, name)
    if name in REGISTRY:
        from capsim.limits import problems as limit_problems
        from capsim.scenario import dotted

        too_big = limit_problems(scenario, {name: merged}, [name])
        if too_big:
            raise ScenarioError([Problem(f"scenario {scenario.name}", None, dotted(loc), msg)
                                 for loc, msg in too_big])
    run_seed = scenario.seed if seed is None else int(seed)

    engine = Engine(scenario, policy_cls, p, run_seed, record_messages=record_messages,
                    journal_dir=journal_dir)
    engine.run()
    history = engine.history()
    trace, messages, roles, marks = engine.trace, engine.messages(), engine.roles, engine.marks
    not_issued = engine.not_issued()
    # What the run keeps is taken out; the simulator itself (the plans of every
    # operation, the policies' state) goes before the checks, whose search is
    # the run's largest transient.
    engine.release()
    del engine
    faults = fault_spans(scenario)
    checks = run_checks(
        history,
        initial=scenario.initial,
        faults=faults,
        trace=trace,
        nodes=scenario.nodes,
        duration=scenario.duration,
        linearizability=linearizability,
    )
    if roles:
        checks["leadership"] = leadership(roles, faults, scenario.nodes, scenario.duration)
    checks["ops"]["not_issued"] = sum(not_issued.values())
    if checks["ops"]["not_issued"]:
        checks["not_issued"] = not_issued_report(not_issued)
    if not checks.get("convergence", {}).get("converged", True) and policy_cls.no_convergence:
        checks["convergence"]["why"] = policy_cls.no_convergence
    return RunResult(
        scenario=scenario,
        policy=name,
        seed=run_seed,
        history=history,
        trace=trace,
        faults=faults,
        messages=messages,
        checks=checks,
        params=p.model_dump(mode="json"),
        roles=roles,
        marks=marks,
    )


def policy_params(params: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """``params`` for policy ``name``, given either shape.

    Nested by policy as in a scenario file (``{"quorum": {"r": 1}}``, the
    shape everywhere), or flat (``{"r": 1}``, kept for old notebooks) when
    that is unambiguous: no key is a policy's name. A mix is an error.
    """
    from capsim.policies import REGISTRY

    if not params:
        return {}
    nested = [k for k in params if k in REGISTRY]
    if not nested:
        return dict(params)
    flat = [k for k in params if k not in REGISTRY]
    if flat:
        raise ScenarioError([Problem(
            "simulate(params=…)", None, "params",
            t("give params nested by policy, as in a scenario file ({{\"{name}\": "
              "{{…}}}}), or flat for the one policy; not both (policy keys: {nested}; "
              "other keys: {flat})", None, name=name, nested=", ".join(nested),
              flat=", ".join(map(str, flat))),
        )])
    inner = params.get(name, {})
    if not isinstance(inner, Mapping):
        raise ScenarioError([Problem("simulate(params=…)", None, f"params.{name}",
                                     f"must be a mapping of {name}'s tunables, not {inner!r}")])
    return dict(inner)


def not_issued_report(by_client: dict[str, int]) -> dict[str, Any]:
    """The planned operations nobody issued, counted and explained in words."""
    n = sum(by_client.values())
    return {
        "count": n,
        "by_client": by_client,
        "reason": t(
            "{n} planned operations were never issued: a client waits for the answer to its "
            "previous operation (or for its timeout) before it issues the next one, and the "
            "run ended while they were still queued.", "en", n=n,
        ),
    }


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

"""Tools for property-based tests of capsim policies (needs hypothesis).

:mod:`capsim.testing.strategies` generates scenarios; the helpers here make a
failing example reproducible from the command line. :func:`run` is
:func:`capsim.simulate` plus a hypothesis ``note`` holding the scenario as
YAML, the seed and the policy, so when a property fails, hypothesis prints
(after shrinking) a file you can save and replay with ``capsim run``::

    from hypothesis import given
    from capsim.testing import run
    from capsim.testing import strategies as cst

    @given(cst.scenarios(policy="cp", partitioned=True))
    def test_cp_never_returns_a_value_nobody_wrote(scenario):
        result = run(scenario)
        assert result.checks["stale_reads"]["never_written"] == []
"""

from __future__ import annotations

from typing import Any

try:
    from hypothesis import note
    from hypothesis.control import currently_in_test_context, should_note
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "capsim.testing needs hypothesis: pip install hypothesis "
        "(or install capsim with its [test] extra)"
    ) from exc

from capsim.policies import REGISTRY, Policy
from capsim.result import RunResult
from capsim.scenario import Scenario
from capsim.testing import strategies

REPRO_FILE = "counterexample.yaml"
_BEGIN = "# capsim counterexample"
_END = "# end of counterexample"


def policy_label(policy: str | type[Policy] | None, scenario: Scenario) -> str:
    """The policy's registry name, or ``module.Class`` for one outside the registry."""
    if policy is None:
        return scenario.policies[0]
    if isinstance(policy, str):
        return policy
    for name, cls in REGISTRY.items():
        if cls is policy:
            return name
    return f"{policy.__module__}.{policy.__qualname__}"


def reproduction(
    scenario: Scenario,
    *,
    policy: str | type[Policy] | None = None,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    """A scenario YAML that replays one run, headed by comments saying how.

    The whole text is valid YAML (the instructions are comments): save it as
    ``counterexample.yaml`` and run ``capsim run counterexample.yaml``. The
    seed and parameter overrides are written into the scenario, and so is the
    policy when it is registered; a policy outside the registry (a test's
    deliberately broken one) is named in a comment, with the Python call that
    runs it.
    """
    label = policy_label(policy, scenario)
    changes: dict[str, Any] = {}
    if seed is not None:
        changes["seed"] = int(seed)
    registered = label in REGISTRY
    if registered:
        changes["policy"] = label
        if params:
            changes["params"] = {**scenario.params, label: {**scenario.params.get(label, {}),
                                                            **params}}
    sc = scenario.replace(**changes) if changes else scenario
    head = [
        _BEGIN + ": save this text as " + REPRO_FILE + " and replay it with",
        f"#   capsim run {REPRO_FILE} --no-write",
    ]
    if not registered:
        head += [
            f"# under the unregistered policy {label} (policy: below is a stand-in):",
            f"#   simulate(load_scenario({REPRO_FILE!r}), policy={label.rsplit('.', 1)[-1]}"
            + (f", params={params!r}" if params else "")
            + ")",
        ]
    head.append(f"# policy: {label}, seed: {sc.seed}")
    return "\n".join(head) + "\n" + sc.to_yaml() + _END + "\n"


def note_reproduction(
    scenario: Scenario,
    *,
    policy: str | type[Policy] | None = None,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    """Attach :func:`reproduction` to the current hypothesis example (no-op outside one).

    Hypothesis prints notes only for the final, shrunk failing example (or
    when verbose), so the YAML is only written then.
    """
    if currently_in_test_context() and should_note():
        note(reproduction(scenario, policy=policy, seed=seed, params=params))


def run(
    scenario: Scenario,
    *,
    policy: str | type[Policy] | None = None,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    **kwargs: Any,
) -> RunResult:
    """:func:`capsim.simulate`, after noting how to replay the run if the example fails."""
    from capsim.sim import simulate

    note_reproduction(scenario, policy=policy, seed=seed, params=params)
    return simulate(scenario, policy=policy, seed=seed, params=params, **kwargs)


def extract_reproduction(text: str) -> str:
    """The last scenario YAML inside a failure report (hypothesis' notes, pytest's output).

    It runs from the ``# capsim counterexample`` line to the ``# end of
    counterexample`` line. Raises ``ValueError`` when there is none.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(_BEGIN)]
    if not starts:
        raise ValueError(f"no {_BEGIN!r} block in this text")
    out: list[str] = []
    for line in lines[starts[-1]:]:
        out.append(line)
        if line.startswith(_END):
            return "\n".join(out) + "\n"
    raise ValueError(f"the counterexample block has no {_END!r} line (cut off?)")


__all__ = [
    "REPRO_FILE",
    "extract_reproduction",
    "note_reproduction",
    "policy_label",
    "reproduction",
    "run",
    "strategies",
]

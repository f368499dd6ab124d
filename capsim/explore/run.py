"""The front door of the explorer: ``explore(scenario, policy, ...) -> ExploreResult``."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim.check.explain import show_value
from capsim.errors import CapsimError
from capsim.explore.model import Action, Model, State
from capsim.explore.properties import Checker, Violation, parse_properties, values
from capsim.explore.reduce import bfs_sleep
from capsim.explore.search import Found, Outcome, Progress, bfs
from capsim.explore.story import schedule_step, step_label
from capsim.i18n import t
from capsim.policies import get_policy
from capsim.policies.base import Policy
from capsim.scenario import Scenario, load_scenario
from capsim.sim.schedule import SCHEDULE_VERSION, replay
from capsim.sim.simulate import check_supported

if TYPE_CHECKING:
    from capsim.result import RunResult

#: Which requests ``available`` says must be answered ok, per policy.
AVAILABILITY_SCOPE: dict[str, str] = {"ap": "live"}
DEFAULT_SCOPE = "majority"


@dataclass
class Counterexample:
    """The shortest schedule that breaks a property, in data and in words."""

    property: str
    actions: list[Action]
    labels: list[str]
    schedule: dict[str, Any]
    explanation: str
    after_states: int
    run: RunResult
    explore_json: dict[str, Any]

    @builtins.property  # (the field above is named ``property``)
    def steps(self) -> int:
        return len(self.actions)


@dataclass
class PropertyResult:
    """One property's verdict: True (every schedule), False (a counterexample), or None."""

    property: str
    holds: bool | None
    counterexample: Counterexample | None = None


@dataclass
class ExploreResult:
    scenario: Scenario
    policy: str
    properties: dict[str, PropertyResult]
    states: int
    transitions: int
    depth: int
    seconds: float
    complete: bool
    stopped: str | None
    drops: int
    fingerprints: bool = False
    schedules: int | None = None
    """Complete schedules explored (when countable: every step one level deeper)."""

    @property
    def collision_probability(self) -> float | None:
        """With fingerprints: the chance two states shared one (as TLC estimates it)."""
        if not self.fingerprints:
            return None
        return self.states * self.transitions / 2.0**64

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name, "policy": self.policy, "states": self.states,
            "transitions": self.transitions, "depth": self.depth,
            "seconds": round(self.seconds, 3), "complete": self.complete,
            "stopped": self.stopped, "drops": self.drops, "schedules": self.schedules,
            "properties": {
                p: {"holds": r.holds,
                    "steps": None if r.counterexample is None else r.counterexample.steps,
                    "explanation": None if r.counterexample is None
                    else r.counterexample.explanation}
                for p, r in self.properties.items()},
        }


def default_drops(scenario: Scenario) -> int:
    """Drops to explore when none are asked for: 1 on a lossy network, else 0."""
    lossy = scenario.network.loss > 0 or any(
        link.loss is not None and link.loss > 0 for link in scenario.network.links)
    return 1 if lossy else 0


def build_model(scenario: Scenario, policy: str | type[Policy], *, drops: int | None = None,
                properties: Sequence[str] = ("linearizable",),
                any_faults: int | None = None) -> Model:
    policy_cls = get_policy(policy) if isinstance(policy, str) else policy
    name = policy_cls.name or policy_cls.__name__
    try:
        params = policy_cls.Params.model_validate(scenario.params.get(name, {}))
    except Exception as exc:
        raise CapsimError(f"bad parameters for policy {name!r}: {exc}") from None
    check_supported(scenario, policy_cls, name)
    scope = AVAILABILITY_SCOPE.get(name, DEFAULT_SCOPE) if "available" in properties else None
    return Model(scenario, policy_cls, params,
                 drops=default_drops(scenario) if drops is None else drops,
                 availability=scope, stale="stale-free" in properties,
                 any_faults=any_faults)


def explore(
    scenario: Scenario | str | Path,
    policy: str | type[Policy],
    *,
    properties: Sequence[str] = ("linearizable",),
    drops: int | None = None,
    any_faults: int | None = None,
    max_states: int | None = None,
    max_depth: int | None = None,
    time_limit: float | None = None,
    fingerprints: bool = False,
    reduce: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    lang: str | None = None,
) -> ExploreResult:
    """Check ``properties`` in every schedule of ``scenario`` under ``policy``.

    Each property comes back as holding in every schedule (``holds=True``),
    broken (``False``, with the shortest counterexample, replayed in the
    simulator as a normal run), or undecided (``None``) when a budget or
    Ctrl-C ended the search first. ``drops`` bounds the messages a schedule
    may lose (default: 1 if the scenario's network is lossy, else 0).
    ``any_faults=K`` replaces the scenario's faults by up to K arbitrary ones
    (a split of the replicas into two sides, or a crash) at any step; heals
    and recoveries are free.
    ``reduce`` skips transitions with sleep sets (:mod:`capsim.explore.reduce`):
    the same states and answers with fewer transitions, but it explores the
    whole space even after every property is broken.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    props = parse_properties(properties)
    if any_faults is not None and any_faults < 0:
        raise CapsimError(f"any_faults must be 0 or more (got {any_faults})")
    model = build_model(scenario, policy, drops=drops, properties=props, any_faults=any_faults)
    name = model.policy_cls.name or model.policy_cls.__name__
    search = bfs_sleep if reduce else bfs
    out = search(model, Checker(props), max_states=max_states, max_depth=max_depth,
              time_limit=time_limit, fingerprints=fingerprints, on_progress=on_progress,
              lang=lang)
    return _result(model, name, props, out, lang)


def _result(model: Model, name: str, props: list[str], out: Outcome,
            lang: str | None) -> ExploreResult:
    results: dict[str, PropertyResult] = {}
    for p in props:
        found = out.found.get(p)
        if found is not None:
            results[p] = PropertyResult(p, False, counterexample(model, name, found, lang))
        else:
            results[p] = PropertyResult(p, True if out.complete else None)
    pr = out.progress
    return ExploreResult(model.scenario, name, results, pr.states, pr.transitions, pr.depth,
                         pr.seconds, out.complete, out.stopped, model.default_drops,
                         out.fingerprints, out.schedules)


def minimise(model: Model, path: list[Action], prop: str) -> list[Action]:
    """Drop steps one at a time (last first) while the schedule still breaks ``prop``.

    A breadth-first path is already as short as any; this keeps that true
    when the search was cut short or ran on fingerprints.
    """
    checker = Checker([prop])
    i = len(path) - 2
    while i >= 0:
        n = _breaks(model, checker, path[:i] + path[i + 1:], prop)
        if n is not None:
            path = (path[:i] + path[i + 1:])[:n]
        i = min(i, len(path)) - 1
    return path


def _breaks(model: Model, checker: Checker, path: Sequence[Action], prop: str) -> int | None:
    """How many steps of ``path`` it takes to break ``prop`` (None: it is not broken)."""
    s = model.initial()
    for j, a in enumerate(path):
        if a not in model.actions(s):
            return None
        r = model.step(s, a)
        if any(v.property == prop for v in checker.on_step(model, s, a, r)):
            return j + 1
        s = r.state
    return len(path) if any(v.property == prop for v in checker.on_state(model, s)) else None


def counterexample(model: Model, name: str, found: Found, lang: str | None) -> Counterexample:
    path = minimise(model, list(found.path), found.violation.property)
    full = path + list(found.violation.extra)
    s = model.initial()
    labels: list[str] = []
    states: list[State] = [s]
    steps = []
    for a in full:
        r = model.step(s, a, record=True)
        label = step_label(model, a, r, lang)
        labels.append(label)
        steps.append(schedule_step(model, a, label))
        s = r.state
        states.append(s)
    schedule = {"capsim_schedule": SCHEDULE_VERSION, "scenario": model.scenario.name,
                "policy": name, "property": found.violation.property,
                "drops": model.default_drops, "steps": steps}
    if model.any_faults is not None:
        schedule["faults"] = f"any:{model.any_faults}"
    run = replay(model.scenario, schedule, policy=model.policy_cls)
    text = explain(model, found.violation, run, lang)
    return Counterexample(found.violation.property, full, labels, schedule, text,
                          found.after_states, run,
                          export(model, name, found.violation.property, full, labels, states,
                                 lang))


def explain(model: Model, v: Violation, run: RunResult, lang: str | None) -> str:
    d = v.detail
    if v.property == "linearizable":
        lin = run.checks.get("linearizable") or {}
        return str(lin.get("explanation") or t("The history is not linearizable.", lang))
    if v.property == "available":
        return t("{client}'s {f} at {node} was answered {type}, though {node} was up and "
                 "could reach a majority of the replicas: {error}", lang, **d) \
            if model.availability == "majority" else \
            t("{client}'s {f} at {node} was answered {type}, though {node} was up: {error}",
              lang, **d)
    if v.property == "stale-free":
        return t("{client} read {value} from {node}, a value already overwritten before the "
                 "read began: a stale read.", lang, client=d["client"],
                 value=show_value(d["value"]), node=d["node"])
    held = ", ".join(f"{n} holds {val}" for n, val in d["values"].items())
    return t("After the last fault and {rounds} rounds of every timer with every message "
             "delivered, the replicas still disagree on {key}: {held}.", lang,
             rounds=3, key=d["key"], held=held)


def _state_id(i: int) -> str:
    return f"s{i}"


def export(model: Model, name: str, prop: str, path: Sequence[Action], labels: Sequence[str],
           states: Sequence[State], lang: str | None) -> dict[str, Any]:
    """``explore.json``: the path's states and each one's immediate successors."""
    ids: dict[State, str] = {}

    def sid(s: State) -> str:
        if s not in ids:
            ids[s] = _state_id(len(ids))
        return ids[s]

    for s in states:
        sid(s)
    out_states: dict[str, Any] = {}
    for s in states:
        enabled = []
        for a in model.actions(s):
            r = model.step(s, a, record=True)
            nxt = r.state
            enabled.append({"label": step_label(model, a, r, lang),
                            "next": sid(nxt) if nxt in ids or len(ids) < 2000 else None})
        out_states[sid(s)] = describe_state(model, s, enabled)
    # Successors named above get a description too (their own successors are not expanded).
    for s, i in list(ids.items()):
        if i not in out_states:
            out_states[i] = describe_state(model, s, [])
    return {
        "policy": name, "property": prop, "initial": sid(states[0]),
        "steps": [{"label": lab, "state": sid(s)} for lab, s in zip(labels, states[1:],
                                                                    strict=True)],
        "states": out_states,
    }


def describe_state(model: Model, s: State, enabled: list[dict[str, Any]]) -> dict[str, Any]:
    from capsim.explore.story import msg_text, op_text

    clients = {}
    for c, (pos, busy, _) in enumerate(s.clients):
        name = model.client_names[c]
        total = len(model.client_ops[c])
        if busy >= 0:
            clients[name] = f"waiting: {op_text(model, busy)}"
        elif pos < total:
            clients[name] = f"next: {op_text(model, model.client_ops[c][pos])}"
        else:
            clients[name] = "done"
    faults = []
    if model.blocked[s.faults]:
        faults.append("cut: " + ", ".join(f"{a}→{b}" for a, b in sorted(model.blocked[s.faults])))
    faults.extend(f"{n} down" for n in sorted(model.down[s.faults]))
    return {
        "replicas": values(model, s),
        "in_flight": [{"src": m[0], "dst": m[1], "kind": m[2], "summary": msg_text(m)
                       + " " + m[3]} for m in s.flight],
        "clients": clients,
        "faults": faults,
        "enabled": enabled,
    }

"""The CAP claims as plain functions: run one scenario, assert one claim.

Each ``check_*`` runs a scenario under a policy (a registry name or a Policy
class, so the deliberately broken policies of ``broken.py`` go through the
very same code) and raises ``AssertionError`` with a sentence a student can
read when the claim does not hold. The ``test_*`` modules wrap them in
``@given``; ``test_broken_policies.py`` shows each one can fail.

Every run goes through :func:`capsim.testing.run`, which notes the scenario
as replayable YAML, so hypothesis prints it with the shrunk counterexample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from capsim import parse_scenario
from capsim.check import run_checks
from capsim.check.linearizable import check_linearizable
from capsim.history import Event, History, Operation
from capsim.policies import REGISTRY, Policy
from capsim.result import Fault, RunResult
from capsim.scenario import Scenario
from capsim.sim import simulate
from capsim.testing import run
from capsim.testing import strategies as cst

PolicyArg = str | type[Policy]
EPS = 1e-6
"""Slack for events at the same simulated instant (times are rounded to 1e-9)."""


def policy_class(policy: PolicyArg) -> type[Policy]:
    return REGISTRY[policy] if isinstance(policy, str) else policy


def policy_params(scenario: Scenario, policy: PolicyArg) -> Any:
    """The tunables a run of ``policy`` uses: its defaults, overridden by the scenario."""
    cls = policy_class(policy)
    return cls.Params.model_validate(scenario.params.get(cls.name or cls.__name__, {}))


def describe(op: Operation) -> str:
    what = f"read {op.value!r}" if op.f == "read" and op.type == "ok" else (
        op.f if op.f == "read" else f"{op.f} of {op.invoke.value!r}")
    end = "no answer" if op.complete is None else f"{op.type} at t={op.complete.time:g}"
    why = f" ({op.complete.error})" if op.complete is not None and op.complete.error else ""
    return f"{op.process}'s {what} on {op.node} (sent t={op.start:g}, {end}){why}"


def node_down(faults: Sequence[Fault], node: str | None, t: float) -> bool:
    return any(f.kind == "crash" and f.groups[0][0] == node and f.start <= t < f.end
               for f in faults)


def linearizable(result: RunResult) -> tuple[Any, str]:
    """The run's verdict and explanation, exact (no budget)."""
    wired = result.checks.get("linearizable")
    if isinstance(wired, Mapping) and wired.get("linearizable") in (True, False):
        return wired["linearizable"], str(wired.get("explanation", ""))
    verdict = check_linearizable(result.history, initial=result.scenario.initial)
    return verdict.linearizable, verdict.explanation


def _upper(latency: Any) -> float:
    # A PBS preset (a name) mixes in exponential and Pareto tails: unbounded.
    return math.inf if isinstance(latency, str) else float(latency.upper_bound())


def _lower(latency: Any) -> float:
    return 0.0 if isinstance(latency, str) else float(latency.lower_bound())


def upper_latency(scenario: Scenario) -> float:
    """The largest delay any message can have (``inf`` for unbounded distributions)."""
    bounds = [_upper(scenario.network.latency)]
    bounds += [_upper(link.latency) for link in scenario.network.links if link.latency]
    return max(bounds)


def lower_latency(scenario: Scenario, a: str, b: str) -> float:
    """The smallest delay a message between ``a`` and ``b`` can have."""
    for link in scenario.network.links:
        if set(link.between) == {a, b} and link.latency is not None:
            return _lower(link.latency)
    return _lower(scenario.network.latency)


# --- CAP ------------------------------------------------------------------------


def check_cp_consistent(scenario: Scenario, policy: PolicyArg = "cp") -> None:
    """Under ``policy`` the history is linearizable."""
    result = run(scenario, policy=policy)
    verdict, why = linearizable(result)
    assert verdict is True, f"the history is not linearizable: {why}"


def check_ap_available(scenario: Scenario, policy: PolicyArg = "ap") -> None:
    """Every request to a live replica is answered ok within the client timeout."""
    result = run(scenario, policy=policy)
    for op in result.history.operations():
        if node_down(result.faults, op.node, op.start):
            continue
        assert op.type == "ok" and op.end - op.start <= scenario.timeout + EPS, (
            f"{op.node} was up, yet {describe(op)} was not answered ok within "
            f"the {scenario.timeout:g} s timeout"
        )


def minority_spans(result: RunResult, node: str | None) -> list[Fault]:
    """Partitions during which ``node`` sits in a group smaller than a majority."""
    n = len(result.scenario.nodes)
    majority = n // 2 + 1
    out = []
    for f in result.faults:
        if f.kind != "partition":
            continue
        group = next((g for g in f.groups if node in g), None)
        if group is not None and len(group) < majority:
            out.append(f)
    return out


def check_cp_unavailable_in_minority(scenario: Scenario, policy: PolicyArg = "cp") -> None:
    """No request started in a minority during a partition, and answered before it ended, is ok."""
    result = run(scenario, policy=policy)
    for op in result.history.operations():
        for f in minority_spans(result, op.node):
            if f.start <= op.start and op.end < f.end:
                assert op.type != "ok", (
                    f"{op.node} was in a minority ({f.label}) from t={f.start:g} to "
                    f"t={f.end:g}, yet {describe(op)}: a majority-quorum system "
                    "cannot have reached a majority"
                )


# --- the impossibility ------------------------------------------------------------


def replicas_for(policy: PolicyArg) -> int:
    """How many replicas a policy's default parameters ask for (``n``/``N``), else 2."""
    cls = policy_class(policy)
    try:
        params = cls.Params()
    except Exception as exc:  # a required field without a default
        raise AssertionError(
            f"policy {cls.__name__}'s Params need defaults for every field, so properties "
            f"(and `capsim run` without params) can run it: {exc}"
        ) from None
    for field in ("n", "N", "replicas"):
        value = getattr(params, field, None)
        if isinstance(value, int) and value >= 2:
            return value
    return 2


def impossibility_scenario(
    n: int,
    *,
    latency: Mapping[str, Any],
    partition_at: float,
    write_delay: float,
    read_delay: float,
    timeout: float,
    seed: int,
) -> Scenario:
    """Gilbert & Lynch's run: G1 | the rest; alice writes v1 at G1; then bob reads at G2.

    bob's read starts after alice's write has certainly completed (the
    client gives up after ``timeout``), and the partition lasts until after
    bob's read has certainly completed too.
    """
    nodes = [f"G{i}" for i in range(1, n + 1)]
    write_at = round(partition_at + write_delay, 6)
    read_at = round(write_at + timeout + read_delay, 6)
    heal_at = round(read_at + timeout + 0.05, 6)
    return parse_scenario({
        "name": "gilbert-lynch",
        "description": "G1 is cut off; alice writes v1 to G1; bob then reads x from G2.",
        "seed": seed,
        "duration": round(heal_at + 1.0, 6),
        "nodes": nodes,
        "initial": {"x": "v0"},
        "network": {"latency": dict(latency)},
        "timeout": timeout,
        "nemesis": [{"at": partition_at, "partition": [["G1"], nodes[1:]]},
                    {"at": heal_at, "heal": True}],
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "operations": [{"at": write_at, "client": "alice", "write": {"x": "v1"}},
                       {"at": read_at, "client": "bob", "read": "x"}],
    }, source="<impossibility>")


def check_impossibility(scenario: Scenario, policy: PolicyArg) -> None:
    """In Gilbert & Lynch's run the policy fails a request or reads stale, never both."""
    result = run(scenario, policy=policy)
    ops = {op.process: op for op in result.history.operations()}
    write, read = ops["alice"], ops["bob"]
    assert write.end <= read.start or write.type != "ok", "the scenario must read after the write"
    both_ok = write.type == "ok" and read.type == "ok"
    assert not (both_ok and read.value == "v1"), (
        f"during the partition {describe(write)} and then {describe(read)}: available and "
        "consistent at once, which no message could have made possible. The policy "
        "must be sharing state outside the simulated network"
    )


# --- convergence -------------------------------------------------------------------


def settle_time(scenario: Scenario, policy: PolicyArg) -> float:
    """How long after the last fault and the last write ``ap`` needs to agree again.

    Every ``sync_interval`` a live replica pushes what its peers have not
    acknowledged to ``sync_fanout`` of them in turn, so within
    ``ceil(peers / sync_fanout)`` intervals every peer has been offered it, and
    the push arrives within the largest message delay; after that every
    replica holds the highest version of every key.
    """
    params = policy_params(scenario, policy)
    peers = len(scenario.nodes) - 1
    rounds = max(1, -(-peers // int(getattr(params, "sync_fanout", peers or 1))))
    return rounds * float(params.sync_interval) + upper_latency(scenario)


def state_at(result: RunResult, t: float) -> dict[tuple[str, str], Any]:
    state: dict[tuple[str, str], Any] = {}
    for e in sorted(result.trace, key=lambda e: e.time):
        if e.time > t:
            break
        state[(e.node, e.key)] = e.value
    return state


def check_ap_converges(scenario: Scenario, policy: PolicyArg = "ap") -> None:
    """Live replicas agree once the settle time has passed after the last fault and write."""
    assert scenario.network.loss == 0 and math.isfinite(upper_latency(scenario)), (
        "convergence has a time bound only without message loss and with bounded latency"
    )
    result = run(scenario, policy=policy)
    quiet = max(
        [ev.at for ev in scenario.nemesis]
        + [op.start for op in result.history.operations()
           if op.f in ("write", "cas") and op.type == "ok"],
        default=0.0,
    )
    deadline = quiet + settle_time(scenario, policy) + EPS
    assume(deadline < scenario.duration)  # queued requests can push writes late
    live = [n for n in scenario.nodes if not node_down(result.faults, n, scenario.duration)]
    state = state_at(result, deadline)
    for key in scenario.keys:
        held = {n: state.get((n, key)) for n in live}
        assert len(set(map(repr, held.values()))) <= 1, (
            f"at t={deadline:g}, {settle_time(scenario, policy):g} s after the last fault "
            f"or write (t={quiet:g}), the live replicas still disagree on {key}: {held}"
        )
    conv = result.checks.get("convergence", {})
    assert conv.get("converged") is True and conv["at"] <= deadline, (
        f"the convergence check says {conv}, but the replicas agree from t={deadline:g}"
    )


# --- PACELC --------------------------------------------------------------------------


def majority_round_trip(scenario: Scenario, home: str) -> float:
    """The least time a coordinator at ``home`` needs to hear from a majority (itself included)."""
    peers = [p for p in scenario.nodes if p != home]
    need = len(scenario.nodes) // 2 + 1 - 1  # answers from others
    if need <= 0:
        return 0.0
    trips = sorted(lower_latency(scenario, home, p) + lower_latency(scenario, p, home)
                   for p in peers)
    return trips[need - 1]


def check_cp_pays_latency(scenario: Scenario, policy: PolicyArg = "cp") -> None:
    """Without partitions a cp read takes at least one round trip to a majority (a write two)."""
    result = run(scenario, policy=policy)
    for op in result.history.operations():
        if op.type != "ok":
            continue
        trip = majority_round_trip(scenario, str(op.node))
        floor = trip if op.f == "read" else 2 * trip
        assert op.end - op.start >= floor - EPS, (
            f"{describe(op)} took {op.end - op.start:g} s, less than the "
            f"{floor:g} s a majority quorum needs from {op.node}"
        )


def check_ap_reads_local(scenario: Scenario, policy: PolicyArg = "ap") -> None:
    """Without partitions an ap read (and write) is answered at once, from the local copy."""
    result = run(scenario, policy=policy)
    for op in result.history.operations():
        if op.f in ("read", "write") and not node_down(result.faults, op.node, op.start):
            assert op.type == "ok" and op.end - op.start <= EPS, (
                f"{describe(op)}: an ap replica answers from its own copy, at once"
            )


def check_ap_stale_only_in_window(scenario: Scenario, policy: PolicyArg = "ap") -> None:
    """Without partitions or loss, a read that starts more than the replication window after
    the latest write returns that write's value (so stale reads happen only inside the window).
    """
    window = upper_latency(scenario)
    assert math.isfinite(window) and scenario.network.loss == 0
    result = run(scenario, policy=policy)
    ops = result.history.operations()
    for r in ops:
        if r.f != "read" or r.type != "ok":
            continue
        done = [w for w in ops if w.key == r.key and w.f in ("write", "cas") and w.type == "ok"
                and w.end <= r.start]
        if done:
            latest = max(done, key=lambda w: (w.end, w.start))
            since, expect = latest.end, (latest.invoke.value if latest.f == "write"
                                         else latest.invoke.value[1])
        else:
            since, expect = 0.0, scenario.initial.get(r.key)
        if r.start - since > window + EPS:
            assert r.value == expect, (
                f"{describe(r)} came {r.start - since:g} s after "
                f"{'the latest write' if done else 'the start'} ({expect!r}), more than the "
                f"{window:g} s replication window, yet it is stale"
            )


# --- determinism and pure checkers --------------------------------------------------------


def check_deterministic(scenario: Scenario, policy: PolicyArg | None = None) -> None:
    """The same scenario and seed give the same history, byte for byte, and the same verdicts."""
    first = run(scenario, policy=policy)
    second = simulate(scenario, policy=policy)
    assert first.history.to_jsonl() == second.history.to_jsonl(), (
        "two runs of the same scenario and seed wrote different histories"
    )
    assert first.to_json() == second.to_json(), (
        "two runs of the same scenario and seed gave different traces, faults or checks"
    )


Checker = Callable[[History, Mapping[str, Any]], Any]


def real_checker(history: History, initial: Mapping[str, Any]) -> Any:
    """Every verdict capsim gives about a history, as comparable data."""
    return {
        "checks": run_checks(history, initial=initial),
        "linearizable": check_linearizable(history, initial=initial).to_dict(),
    }


def check_checkers_pure(
    history: History, other: History, initial: Mapping[str, Any],
    checker: Checker = real_checker,
) -> None:
    """Checking a history gives one verdict whatever came before, and leaves it unchanged."""
    before = history.to_jsonl()
    alone = checker(history, initial)
    checker(other, initial)
    again = checker(history, initial)
    assert history.to_jsonl() == before, "the checker changed the history it was given"
    assert alone == again, (
        "the same history got a different verdict after another history was checked"
    )


def linearizable_verdict(
    history: History, initial: Mapping[str, Any], checker: Checker | None = None
) -> Any:
    if checker is None:
        return check_linearizable(history, initial=initial).linearizable
    return checker(history, initial)


def check_sequential_is_linearizable(
    history: History, initial: Mapping[str, Any], checker: Checker | None = None
) -> None:
    """A history of non-overlapping operations that act as a register's is linearizable."""
    verdict = linearizable_verdict(history, initial, checker)
    assert verdict is True, f"a sequential register history was judged {verdict!r}"


def check_never_written_is_not_linearizable(
    history: History, initial: Mapping[str, Any], checker: Checker | None = None
) -> None:
    """A history with an ok read of a value nobody wrote is not linearizable."""
    verdict = linearizable_verdict(history, initial, checker)
    assert verdict is False, (
        f"a history with a read of a value nobody wrote was judged {verdict!r}"
    )


# --- finding counterexamples -----------------------------------------------------------

BUDGET = 300
"""Examples each search may use: the broken policies fail within a few dozen."""


def counterexample(
    strategy: st.SearchStrategy[Any], check: Callable[[Any], None], *, shrink: bool = False
) -> AssertionError:
    """The AssertionError hypothesis ends with when it falsifies ``check`` (fails if it cannot)."""

    @settings(
        max_examples=BUDGET,
        derandomize=True,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def prop(case: Any) -> None:
        check(case)

    with pytest.raises(AssertionError) as info:
        prop()
    return info.value


# --- the scenarios each claim is made over ----------------------------------------------
# One strategy per claim, shared by the property test and by the test that
# shows a broken policy fails it.

ANY_FAULTS = cst.scenarios(policy="cp", cuts=True, crashes=None, loss=None, workload=None,
                            final_reads=True)
"""cp under anything: partitions, one-way cuts, crashes, loss, bursts of concurrent requests."""

AP_ANY_FAULTS = cst.scenarios(policy="ap", cuts=True, crashes=None, loss=None, workload=None,
                              final_reads=True)

CP_PARTITIONED = cst.scenarios(policy="cp", partitioned=True, crashes=None, loss=None,
                               workload=None)

AP_SYNC = st.fixed_dictionaries({"sync_interval": st.sampled_from([0.5, 0.25, 1.0])})

AP_HEALED = cst.scenarios(
    policy="ap", params=AP_SYNC, cuts=True, crashes=None, loss=False, workload=None,
    heal=True, bounded_latency=True, settle=1.0 + 0.2,
)
"""ap with every fault ended, no loss and bounded latency, and room to settle after."""

CP_NO_PARTITION = cst.scenarios(policy="cp", partitioned=False, crashes=False, loss=None,
                                workload=None)
AP_NO_PARTITION = cst.scenarios(policy="ap", partitioned=False, crashes=False, loss=None,
                                workload=None)
AP_SPACED_WRITES = cst.scenarios(
    policy="ap", partitioned=False, crashes=False, loss=False, workload=False,
    bounded_latency=True, max_latency=0.2, min_write_gap=0.25, keys=2, max_ops=10,
)
"""ap without faults, with writes to a key further apart than any message delay."""

ANY_POLICY = cst.scenarios(policy=None, cuts=True, crashes=None, loss=None, workload=None,
                           final_reads=True)
"""Any registered policy under anything (new policies are drawn automatically)."""


@st.composite
def impossibility_scenarios(draw: st.DrawFn, policy: PolicyArg) -> Scenario:
    """Gilbert & Lynch's run for ``policy``, with drawn latency, timing, cluster size and seed."""
    n = replicas_for(policy)
    if n == 2:
        n = draw(st.integers(min_value=2, max_value=4))
    latency = draw(cst.latencies()).model_dump(mode="json")
    return impossibility_scenario(
        n,
        latency=latency,
        partition_at=cst.at(draw(st.integers(min_value=0, max_value=20))),
        write_delay=cst.at(draw(st.integers(min_value=0, max_value=20))),
        read_delay=cst.at(draw(st.integers(min_value=0, max_value=20))),
        timeout=draw(st.sampled_from([1.0, 0.5, 2.0])),
        seed=draw(cst.seeds()),
    )


NEVER = "nobody-wrote-this"


@st.composite
def with_a_never_written_read(draw: st.DrawFn) -> tuple[History, dict[str, Any], int]:
    """A sequential history with one ok read changed (or added) to return :data:`NEVER`.

    Returns the history, its initial values and the index of the bad read's invoke.
    """
    history, initial = draw(cst.sequential_histories(keys=2))
    events = list(history)
    reads = [i for i, e in enumerate(events) if e.f == "read" and e.type == "ok"]
    if len(reads) > 0 and draw(st.booleans()):
        i = draw(st.sampled_from(reads))
        e = events[i]
        events[i] = Event(e.index, e.time, e.process, e.node, e.type, e.f, e.key, NEVER)
        invoke = max(j for j in range(i)
                     if events[j].process == e.process and events[j].type == "invoke")
    else:
        t = (events[-1].time if events else 0.0) + cst.TICK
        key = draw(st.sampled_from(sorted(initial)))
        invoke = len(events)
        events.append(Event(invoke, round(t, 6), "reader", None, "invoke", "read", key, None))
        events.append(Event(invoke + 1, round(t + cst.TICK, 6), "reader", None, "ok", "read",
                            key, NEVER))
    return History(events), initial, events[invoke].index

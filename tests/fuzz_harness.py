"""Shared by the fuzz tests: hostile inputs, a time/memory bound, and the invariants.

Every input goes in-process through the same functions the CLI uses
(:func:`capsim.scenario.parse_scenario_text` and :func:`capsim.simulate` for
scenarios; :func:`capsim.formats.detect_format`, :func:`parse_history` and
:func:`check_linearizable` for histories). Each must end in a clean rejection
(a ``CapsimError``: exit code 2 in the CLI) or a result whose invariants hold,
within :data:`SECONDS` and without growing the process by :data:`MEMORY_MB`.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import resource
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = {p.name: p.read_text(encoding="utf-8")
           for p in sorted((ROOT / "scenarios").glob("*.yaml"))}

#: Wall-clock bound per input (generous: the machine may be loaded; a hang is minutes).
SECONDS = 30.0
#: Peak-memory growth allowed per input.
MEMORY_MB = 1024

#: Counts of what happened, for the closing figures (printed with -s, or written to
#: the file CAPSIM_FUZZ_STATS names).
STATS: Counter[str] = Counter()


def thorough() -> bool:
    """Is the long profile on (``--hypothesis-profile=thorough``)?"""
    return settings.get_current_profile_name() == "thorough"


class Hang(Exception):
    """The input ran past :data:`SECONDS`."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"no answer within {SECONDS:g} s")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Fail the example if it runs longer than SECONDS or grows the peak RSS by MEMORY_MB."""
    before = _peak_mb()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    grown = _peak_mb() - before
    assert grown < MEMORY_MB, f"peak memory grew by {grown:.0f} MB"


def write_stats() -> None:
    path = os.environ.get("CAPSIM_FUZZ_STATS")
    if path:
        Path(path).write_text(
            "\n".join(f"{k} {v}" for k, v in sorted(STATS.items())) + "\n", encoding="utf-8"
        )


# --- hostile values --------------------------------------------------------------------

HOSTILE: list[Any] = [
    0, -1, 1, 2, 0.0, -0.0, 1e-300, 1e-6, 1e30, 1e300, float("nan"), float("inf"), -1e9,
    10**40, "", "x" * 5000, "G9", "故事", "../..", "cp", "ap", "quorum", "lock", "cq",
    True, False, None, [], {}, [[]], {"dist": "pareto", "xm": 0.01, "alpha": 1e-300},
    {"dist": "lognormal", "mu": 1000, "sigma": 1}, {"dist": "nope"}, "LNKD-SSD",
    {"x": True}, {"x": [1, 2]}, ["G1", "G1"], [["G1"], ["G1"]], {"from": ["G1"], "to": []},
]
KEYS = [
    "name", "description", "seed", "duration", "nodes", "initial", "network", "latency",
    "loss", "links", "between", "policy", "params", "cp", "ap", "quorum", "lock", "n", "r",
    "w", "give_up", "give_upp", "sync_interval", "clock", "retry", "read_repair", "timeout",
    "nemesis", "at", "partition", "heal", "crash", "recover", "cut", "from", "to",
    "clients", "node", "operations", "client", "read", "write", "cas", "workload", "rate",
    "reads", "keys", "start", "end", "limits", "events",
]

#: Small limits injected into every fuzzed scenario so one run stays short; the limit
#: machinery itself is then part of what is fuzzed (a refusal is a clean rejection).
FUZZ_LIMITS = {"events": 40_000, "operations": 4_000, "nodes": 12, "clients": 40, "keys": 50}

values = st.recursive(
    st.sampled_from(HOSTILE) | st.integers(-5, 50) | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


@st.composite
def mutated_scenario(draw: Any) -> str:
    """A shipped scenario with a few structural mutations, as YAML text."""
    name = draw(st.sampled_from(sorted(SHIPPED)))
    data = yaml.safe_load(SHIPPED[name])
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["set", "delete", "add", "rename", "duplicate"]))
        if not path:
            continue
        parent, last = _get(data, path[:-1]), path[-1]
        if kind == "set":
            parent[last] = copy.deepcopy(draw(values))  # HOSTILE's dicts stay untouched
        elif kind == "delete":
            del parent[last]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = copy.deepcopy(draw(values))
        elif kind == "rename" and isinstance(parent, dict):
            parent[str(last) + draw(st.sampled_from(["p", "s", "_", ""]))] = parent.pop(last)
        elif kind == "duplicate" and isinstance(parent, list):
            parent.insert(int(last), parent[last])
    if isinstance(data, dict):
        data["limits"] = FUZZ_LIMITS
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, RecursionError):
        return SHIPPED[name]


@st.composite
def generated_scenario(draw: Any) -> str:
    """A dict built from the scenario vocabulary and hostile values."""
    data = copy.deepcopy(
        draw(st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=10)))
    base = {"name": "fuzz", "duration": 5.0, "nodes": ["G1", "G2", "G3"]}
    if draw(st.booleans()):
        data = {**base, **data}
    data["limits"] = FUZZ_LIMITS
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


TEXT_ATTACKS = [
    "name: " + "[" * 400 + "]" * 400,
    "a: &a [*a]\n",
    "".join(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9 if i else ["x"] * 9) + "]\n"
            for i in range(9)),
    "name: x\nduration: 5\nnodes: [A]\ndescription: !!python/object/apply:os.system [ls]\n",
    "name: x\nduration: 5\nnodes: [A]\ndescription: !!binary aGk=\n",
    "name: x\nname: y\nduration: 5\nnodes: [A]\n",
    "name: x\nduration: 5\nnodes: [A]\n---\nname: y\n",
    "{[a]: b}\n",
    "name: x\nduration: 2001-12-14\nnodes: [A]\n",
    "\x00\x01\x02",
]
#: Odd but valid: a 100,000-character value runs (and is never echoed whole).
TEXT_ODD = ["name: x\nduration: 5\nnodes: [A]\ninitial: {x: " + "y" * 100_000 + "}\n"]


@st.composite
def text_mutation(draw: Any) -> str:
    """Raw text damage: cut, splice, attack strings."""
    if draw(st.booleans()):
        return draw(st.sampled_from(TEXT_ATTACKS + TEXT_ODD))
    text = SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))]
    i = draw(st.integers(0, len(text)))
    j = draw(st.integers(i, min(len(text), i + 40)))
    junk = draw(st.sampled_from(["", ":", "- ", "[", "{", "&a ", "*a", "!!str ", "\t", "\n  ",
                                 "'", '"', "#", "%", "@", "|", ">"]))
    return text[:i] + junk + text[j:]


scenario_texts = mutated_scenario() | generated_scenario() | text_mutation()


def check_scenario_text(text: str) -> str:
    """Run one input; return what happened (``rejected``, ``ran``) or fail an assertion."""
    from capsim import simulate
    from capsim.errors import CapsimError
    from capsim.scenario import parse_scenario_text

    with bounded():
        try:
            sc = parse_scenario_text(text, "fuzz.yaml")
        except CapsimError as exc:
            _clean_message(str(exc))
            STATS["scenario.rejected"] += 1
            return "rejected"
        ran = 0
        for policy in sc.policies:
            try:
                result = simulate(sc, policy=policy)
            except CapsimError as exc:
                _clean_message(str(exc))
                STATS["scenario.run_refused"] += 1
                continue
            check_invariants(result)
            ran += 1
        STATS["scenario.runs"] += ran
        STATS["scenario.ran"] += 1
        return "ran"


def _clean_message(msg: str) -> None:
    """A rejection is one short paragraph with a location, never a traceback."""
    assert "Traceback" not in msg
    assert len(msg) <= 4000, f"message of {len(msg)} characters"
    first = msg.splitlines()[0]
    assert first.startswith(("fuzz.yaml", "scenario ", "simulate(")) or "problems:" in first, msg


def check_invariants(result: Any) -> None:
    """What holds for every run: availability a fraction, time forward, one completion per
    invoke, cp and lock linearizable."""
    h = result.history
    ops = h.operations()
    invokes = sum(1 for e in h if e.type == "invoke")
    assert len(ops) == invokes == result.checks["ops"]["total"]
    assert sum(1 for o in ops if o.complete is not None) == len(ops)  # the run closes them all
    for o in ops:
        assert o.complete is None or o.complete.time >= o.invoke.time
    av = result.checks["availability"]
    for k in ("overall", "during_partition", "outside_partition"):
        v = av.get(k)
        assert v is None or 0.0 <= v <= 1.0, (k, v)
    for d in result.checks["latency"].values():
        assert all(d[q] is None or (d[q] >= 0 and math.isfinite(d[q]))
                   for q in ("p50", "p95", "p99", "max"))
    if result.policy in ("cp", "lock"):
        lin = result.checks["linearizable"]["linearizable"]
        assert lin is True, result.checks["linearizable"]["explanation"]


# --- histories -------------------------------------------------------------------------


def _seed_histories() -> list[str]:
    from capsim import simulate
    from capsim.formats.edn import to_edn
    from capsim.scenario import load_scenario

    out = []
    for name in ("partition.yaml", "flaky-network.yaml"):
        sc = load_scenario(ROOT / "scenarios" / name)
        for policy in ("cp", "ap"):
            h = simulate(sc, policy=policy).history
            lines = h.to_jsonl().splitlines()[:60]
            out.append("\n".join(lines) + "\n")
            out.append(to_edn(type(h)(list(h)[:60])))
    out.append("0\t:invoke\t:write\t1\n0\t:ok\t:write\t1\n1\t:invoke\t:read\tnil\n"
               "1\t:ok\t:read\t1\n")
    return out


HISTORY_FIELDS = ["index", "time", "process", "node", "type", "f", "key", "value", "error"]
HISTORY_VALUES: list[Any] = [
    None, 0, -1, 1e999, float("nan"), 1.5, True, "", "x" * 3000, [], {}, [1, 2, 3],
    {"a": 1}, "invoke", "ok", "fail", "info", "read", "write", "cas", "x", 10**30,
]


@st.composite
def history_text(draw: Any, seeds: list[str]) -> str:
    import json

    text = draw(st.sampled_from(seeds))
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        how = draw(st.sampled_from(["field", "cut", "swap", "drop", "dup", "junk"]))
        if how == "field" and line.startswith("{\""):
            try:
                d = json.loads(line)
                d[draw(st.sampled_from(HISTORY_FIELDS))] = draw(st.sampled_from(HISTORY_VALUES))
                lines[i] = json.dumps(d)
            except ValueError:
                pass
        elif how == "cut":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        elif how == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif how == "drop":
            del lines[i]
        elif how == "dup":
            lines.insert(i, line)
        else:
            k = draw(st.integers(0, len(line)))
            junk = draw(st.sampled_from(["NaN", "1e999", "##NaN", "##Inf", ":", "{", "}",
                                         "[", "]", "\t", "#{", "nil", "\"", "\\", "\x00"]))
            lines[i] = line[:k] + junk + line[k:]
    return "\n".join(lines) + "\n"


def check_history_text(text: str, name: str) -> str:
    from capsim.check.linearizable import check_linearizable
    from capsim.errors import CapsimError
    from capsim.formats import detect_format, parse_history

    with bounded():
        try:
            kind = detect_format(text, name)
            h = parse_history(text, kind, name)
        except CapsimError as exc:
            assert "Traceback" not in str(exc) and len(str(exc)) <= 4000
            STATS["history.rejected"] += 1
            return "rejected"
        # what the readers accept is well-formed: finite times, whole indices,
        # one completion per invoke at most
        assert all(math.isfinite(e.time) for e in h), "a non-finite time was accepted"
        assert all(isinstance(e.index, int) and not isinstance(e.index, bool) for e in h)
        h.operations()
        res = check_linearizable(h, budget_steps=200_000)
        assert res.linearizable in (True, False, "unknown")
        assert isinstance(res.explanation, str) and res.explanation
        STATS["history.checked"] += 1
        return "checked"

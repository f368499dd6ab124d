"""Real runs for the plot tests: the seed story, a generated workload, a crash.

Simulating is cheap and results are immutable, so each case is made once
per test process.
"""

from __future__ import annotations

import functools
from typing import Any

import capsim
from capsim.result import RunResult

WORKLOAD: dict[str, Any] = {
    "name": "workload",
    "description": "Three replicas, G3 cut off from t=2 to t=4, three generated clients.",
    "seed": 5,
    "duration": 6.0,
    "nodes": ["G1", "G2", "G3"],
    "initial": {"x": "v0"},
    "policy": ["cp", "ap"],
    "params": {"ap": {"sync_interval": 0.5}},
    "nemesis": [{"at": 2.0, "partition": [["G3"]]}, {"at": 4.0, "heal": True}],
    "workload": {"rate": 20, "clients": 3},
}

CRASH: dict[str, Any] = {
    "name": "crash",
    "duration": 8.0,
    "nodes": ["G1", "G2", "G3"],
    "initial": {"x": "v0"},
    "nemesis": [{"at": 2.0, "crash": "G3"}, {"at": 5.0, "recover": "G3"}],
    "clients": [{"name": "alice", "node": "G1"}, {"name": "carol", "node": "G3"}],
    "operations": [
        {"at": 1.0, "client": "alice", "write": {"x": "v1"}},
        {"at": 3.0, "client": "carol", "read": "x"},
        {"at": 6.5, "client": "carol", "read": "x"},
    ],
}


@functools.cache
def seed(policy: str) -> RunResult:
    return capsim.simulate(capsim.seed_scenario(), policy=policy)


@functools.cache
def workload(policy: str, keys: int = 1) -> RunResult:
    spec = dict(WORKLOAD, workload={"rate": 20, "clients": 3, "keys": keys})
    return capsim.simulate(capsim.parse_scenario(spec), policy=policy)


@functools.cache
def crash(policy: str) -> RunResult:
    return capsim.simulate(capsim.parse_scenario(CRASH), policy=policy)


def gids(fig_or_ax: Any, prefix: str) -> list[Any]:
    """Every artist whose gid starts with ``prefix``, in drawing order."""
    root = fig_or_ax
    found = root.findobj(lambda a: (a.get_gid() or "").startswith(prefix))
    return list(found)


def texts(fig_or_ax: Any) -> list[str]:
    """Every piece of text drawn (titles, labels, legend entries, tick labels)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig_or_ax.findobj(Text) if t.get_text()]

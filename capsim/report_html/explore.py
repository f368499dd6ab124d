"""Reading ``explore.json``: the explorer's counterexample and the states around it.

``capsim explore`` writes, next to a counterexample's run folder files, a
bounded export of the state graph it searched::

    {"policy": "ap", "property": "linearizable", "initial": "s0",
     "steps": [{"label": "alice writes v1 to G1", "state": "s1"}, ...],
     "states": {"s0": {"replicas": {"G1": {"x": "v0"}}, "in_flight": [...],
                       "clients": {"alice": "idle"}, "faults": ["G1 | G2"],
                       "enabled": [{"label": "...", "next": "s1"}]}, ...}}

The report page walks it without any server, so it is checked here first: a
page that silently showed half a graph would teach the wrong thing. Errors
name the file and the field, as every capsim input error does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from capsim.errors import CapsimError

FILE_NAME = "explore.json"


class ExploreFileError(CapsimError):
    """explore.json is not the shape the report needs."""


def _need(cond: bool, where: str, field: str, what: str) -> None:
    if not cond:
        raise ExploreFileError(f"{where}: field {field}: {what}")


def _check_state(sid: str, st: Any, ids: set[str], where: str) -> None:
    base = f"states.{sid}"
    _need(isinstance(st, dict), where, base, "must be an object")
    reps = st.get("replicas")
    _need(isinstance(reps, dict) and all(isinstance(v, dict) for v in reps.values()),
          where, f"{base}.replicas", "must map each node to {key: value}")
    msgs = st.get("in_flight", [])
    _need(isinstance(msgs, list), where, f"{base}.in_flight", "must be a list")
    for i, m in enumerate(msgs):
        _need(isinstance(m, dict) and all(k in m for k in ("src", "dst", "kind")),
              where, f"{base}.in_flight[{i}]", "needs src, dst and kind")
    clients = st.get("clients", {})
    _need(isinstance(clients, dict), where, f"{base}.clients", "must map client to text")
    faults = st.get("faults", [])
    _need(isinstance(faults, list) and all(isinstance(f, str) for f in faults),
          where, f"{base}.faults", "must be a list of strings")
    enabled = st.get("enabled", [])
    _need(isinstance(enabled, list), where, f"{base}.enabled", "must be a list")
    for i, e in enumerate(enabled):
        f = f"{base}.enabled[{i}]"
        _need(isinstance(e, dict) and isinstance(e.get("label"), str), where, f,
              "needs a label (text)")
        nxt = e.get("next")
        _need(nxt is None or (isinstance(nxt, str) and nxt in ids), where, f"{f}.next",
              f"names state {nxt!r}, which is not in states (use null for an unexported one)")


def check_explore(data: Any, where: str = FILE_NAME) -> dict[str, Any]:
    """Validate an explore export; returns it unchanged or raises ExploreFileError."""
    _need(isinstance(data, dict), where, "(top)", "must be a JSON object")
    for k in ("policy", "property"):
        _need(isinstance(data.get(k), str), where, k, "must be text")
    states = data.get("states")
    _need(isinstance(states, dict) and bool(states), where, "states",
          "must be a non-empty object of state id -> state")
    ids = {str(k) for k in states}
    _need(data.get("initial") in ids, where, "initial", "must name a state in states")
    steps = data.get("steps")
    _need(isinstance(steps, list), where, "steps", "must be a list")
    for i, s in enumerate(steps):
        _need(isinstance(s, dict) and isinstance(s.get("label"), str)
              and s.get("state") in ids, where, f"steps[{i}]",
              "needs a label and a state that is in states")
    for sid, st in states.items():
        _check_state(str(sid), st, ids, where)
    return data


def load_explore(folder: str | Path) -> dict[str, Any] | None:
    """``folder/explore.json`` checked, or None when the folder has none."""
    p = Path(folder) / FILE_NAME
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ExploreFileError(f"{p}:{exc.lineno}: not JSON: {exc.msg}") from None
    return check_explore(data, str(p))

"""Breadth-first search over a model's states, checking properties on every step.

Breadth-first, with an exact visited set (or 64-bit fingerprints, as TLC
offers, for runs too big to keep every state), so the first violation of a
property found is one with the fewest steps. Every property is checked on
every transition, each keeps its first (shortest) counterexample, and the
search goes on until every property has one or no state is left.

Budgets (states, depth, seconds) and Ctrl-C end a search early; the result
then says how far it got ("no violation in N states, up to depth D") rather
than claiming the property holds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from capsim.explore.model import Action, Model, State
from capsim.explore.properties import Checker, Violation
from capsim.history import Event, History
from capsim.i18n import t

CTRL_C = "Ctrl-C"


@dataclass
class Progress:
    """How far a search has got (passed to the progress callback, and kept at the end)."""

    states: int = 0
    transitions: int = 0
    depth: int = 0
    frontier: int = 0
    seconds: float = 0.0


@dataclass
class Found:
    """A property's first violation: the path to it, as actions from the initial state."""

    violation: Violation
    path: list[Action]
    after_states: int


@dataclass
class Outcome:
    progress: Progress
    complete: bool
    stopped: str | None  # why the search ended early (None: every state was explored)
    found: dict[str, Found] = field(default_factory=dict)
    fingerprints: bool = False
    states: list[State] | None = None  # every state visited, when asked (tests)
    schedules: int | None = None  # complete schedules, when the state graph is layered


def bfs(
    model: Model,
    checker: Checker,
    *,
    max_states: int | None = None,
    max_depth: int | None = None,
    time_limit: float | None = None,
    fingerprints: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every: float = 1.0,
    keep_states: bool = False,
    lang: str | None = None,
) -> Outcome:
    """Explore every state reachable in ``model`` (within the budgets)."""
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    init = model.initial()
    key: Callable[[State], Any] = (lambda s: hash(s)) if fingerprints else (lambda s: s)
    # visited: key -> (parent key, action); the initial state's parent is None.
    visited: dict[Any, tuple[Any, Action | None]] = {key(init): (None, None)}
    prog = Progress(states=1)
    out = Outcome(prog, False, None, fingerprints=fingerprints)
    for v in checker.on_state(model, init):
        out.found.setdefault(v.property, Found(v, [], 1))
    queue: deque[tuple[State, int]] = deque([(init, 0)])
    kept: list[State] | None = [init] if keep_states else None
    out.states = kept
    # Schedules (paths from the initial state to a state with no step left) are
    # counted along the way while every step leads one level deeper.
    paths: dict[Any, int] | None = {key(init): 1}
    depth_of: dict[Any, int] = {key(init): 0}
    ends = 0
    next_report = t0 + progress_every
    wanted = set(checker.properties)
    try:
        while queue:
            if wanted and wanted <= set(out.found):
                break
            s, depth = queue.popleft()
            prog.depth = max(prog.depth, depth)
            if max_depth is not None and depth >= max_depth:
                if model.actions(s):
                    out.stopped = t("the depth limit ({n} steps)", lang, n=max_depth)
                continue
            ks = key(s)
            acts = model.actions(s)
            if paths is not None and not acts:
                ends += paths[ks]
            for a in acts:
                r = model.step(s, a)
                prog.transitions += 1
                for v in checker.on_step(model, s, a, r):
                    if v.property not in out.found:
                        out.found[v.property] = Found(v, [*_path(visited, ks), a], prog.states)
                k2 = key(r.state)
                if paths is not None:
                    if depth_of.get(k2, depth + 1) != depth + 1:
                        paths = None  # a cycle or a shortcut: not a layered graph
                    else:
                        paths[k2] = paths.get(k2, 0) + paths[ks]
                entry = (ks, a)
                if visited.setdefault(k2, entry) is not entry:
                    continue
                depth_of[k2] = depth + 1
                prog.states += 1
                if kept is not None:
                    kept.append(r.state)
                for v in checker.on_state(model, r.state):
                    if v.property not in out.found:
                        out.found[v.property] = Found(v, _path(visited, k2), prog.states)
                queue.append((r.state, depth + 1))
            if max_states is not None and prog.states >= max_states and queue:
                out.stopped = t("the state limit ({n} states)", lang, n=f"{max_states:,}")
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline and queue:
                out.stopped = t("the time limit ({n} s)", lang, n=f"{time_limit:g}")
                break
            if on_progress is not None and now >= next_report:
                prog.frontier, prog.seconds = len(queue), now - t0
                on_progress(prog)
                next_report = now + progress_every
    except KeyboardInterrupt:
        out.stopped = CTRL_C
    prog.frontier = len(queue)
    prog.seconds = time.monotonic() - t0
    out.complete = out.stopped is None
    if out.complete and paths is not None and not queue:
        out.schedules = ends
    return out


def _path(visited: dict[Any, tuple[Any, Action | None]], k: Any) -> list[Action]:
    path: list[Action] = []
    while True:
        parent, a = visited[k]
        if a is None:
            break
        path.append(a)
        k = parent
    path.reverse()
    return path


def replay_path(model: Model, path: Sequence[Action]) -> list[Any]:
    """Walk ``path`` from the initial state, recording each step (for histories and labels)."""
    s = model.initial()
    out = []
    for a in path:
        r = model.step(s, a, record=True)
        out.append((s, a, r))
        s = r.state
    return out


def path_history(model: Model, path: Sequence[Action]) -> History:
    """The history a path produces, as the explorer sees it (step k at time k)."""
    events: list[Event] = []

    def add(gid: int, t: float, type_: str, value: Any, error: str | None = None) -> None:
        op = model.ops[gid]
        events.append(Event(len(events), t, op.process, op.node, type_,  # type: ignore[arg-type]
                            op.f, op.key, value, error))  # type: ignore[arg-type]

    s = model.initial()
    k = 0
    for k, a in enumerate(path, 1):
        r = model.step(s, a, record=True)
        for tag, x in r.record or []:
            if tag == "invoke":
                op = model.ops[x]
                add(x, float(k), "invoke", op.value if op.f != "read" else None)
            elif tag == "complete":
                add(x.op, float(k), x.type, x.value, x.error)
        s = r.state
    for _, busy, _ in s.clients:
        if busy >= 0:
            op = model.ops[busy]
            add(busy, float(k), "info", op.value if op.f != "read" else None,
                "the schedule ended before an answer came")
    return History(events)

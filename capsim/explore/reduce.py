"""Sleep sets: skip the second order of two deliveries that commute.

Two enabled steps are *independent* when taking them in either order gives
the same state and neither disables the other. In this model that holds for

* two deliveries to different replicas (each changes only its own replica,
  adds messages and timers to multisets, and answers only clients of that
  replica — and answers to different requests commute in the linearizability
  frontier: each keeps the configurations where its own operation happened);
* a loss (``lost``/``drop``) and any message step on a different message,
  except two drops (they share the drop budget).

Everything else — client steps, faults, timers, timeouts — is treated as
dependent on everything. After exploring ``a`` from a state, a later sibling
``b`` independent of ``a`` carries ``a`` in its *sleep set*: from ``s·b`` the
step ``a`` is not taken, since ``s·a·b`` is the same state and is reached
anyway (Godefroid's sleep sets). Sleep sets never skip a state, only
transitions: the number of distinct states, every verdict and every
shortest counterexample stay the same — the tests compare them with and
without the reduction. With state caching, a state met again with a smaller
sleep set gets the missing steps explored then (with an empty sleep set).

The search is breadth-first by depth (a heap), and with the reduction it
does not stop at the first violation: it explores every state and keeps,
per property, the shortest violating path it met.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any

from capsim.explore.model import Action, Model, State
from capsim.explore.properties import Checker
from capsim.explore.search import CTRL_C, Found, Outcome, Progress, _path
from capsim.i18n import t

_MSG = ("deliver", "drop", "lost")


def independent(a: Action, b: Action) -> bool:
    """Whether steps ``a`` and ``b`` (both enabled in one state) commute."""
    ka, kb = a[0], b[0]
    if ka not in _MSG or kb not in _MSG or a[1] == b[1]:
        return False
    if ka == "deliver" and kb == "deliver":
        return bool(a[1][1] != b[1][1])
    return not (ka == "drop" and kb == "drop")


def bfs_sleep(
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
    """:func:`capsim.explore.search.bfs` with sleep sets (same arguments, same result)."""
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    init = model.initial()
    key: Callable[[State], Any] = (lambda s: hash(s)) if fingerprints else (lambda s: s)
    visited: dict[Any, tuple[Any, Action | None]] = {key(init): (None, None)}
    depth_of: dict[Any, int] = {key(init): 0}
    sleep: dict[Any, frozenset[Action]] = {key(init): frozenset()}
    expanded: set[Any] = set()
    prog = Progress(states=1)
    out = Outcome(prog, False, None, fingerprints=fingerprints)
    kept: list[State] | None = [init] if keep_states else None
    out.states = kept
    best: dict[str, int] = {}

    def note(v: Any, path: list[Action]) -> None:
        if v.property not in best or len(path) < best[v.property]:
            best[v.property] = len(path)
            out.found[v.property] = Found(v, path, prog.states)

    for v in checker.on_state(model, init):
        note(v, [])
    seq = itertools.count()
    # (depth, order, state, steps to take or None for all)
    heap: list[tuple[int, int, State, frozenset[Action] | None]] = [(0, next(seq), init, None)]
    next_report = t0 + progress_every
    try:
        while heap:
            depth, _, s, only = heapq.heappop(heap)
            ks = key(s)
            prog.depth = max(prog.depth, depth)
            if only is None:
                if ks in expanded:
                    continue
                expanded.add(ks)
                zs = sleep[ks]
                acts = [a for a in model.actions(s) if a not in zs]
            else:
                zs = frozenset()
                acts = [a for a in model.actions(s) if a in only]
            if max_depth is not None and depth >= max_depth:
                if acts:
                    out.stopped = t("the depth limit ({n} steps)", lang, n=max_depth)
                continue
            done: list[Action] = []
            for a in acts:
                r = model.step(s, a)
                prog.transitions += 1
                for v in checker.on_step(model, s, a, r):
                    if best.get(v.property, depth + 2) > depth + 1:
                        note(v, [*_path(visited, ks), a])
                z2 = frozenset(b for b in itertools.chain(zs, done) if independent(a, b))
                done.append(a)
                k2 = key(r.state)
                if k2 not in visited:
                    visited[k2] = (ks, a)
                    depth_of[k2] = depth + 1
                    sleep[k2] = z2
                    prog.states += 1
                    if kept is not None:
                        kept.append(r.state)
                    for v in checker.on_state(model, r.state):
                        note(v, _path(visited, k2))
                    heapq.heappush(heap, (depth + 1, next(seq), r.state, None))
                    continue
                old = sleep[k2]
                if old <= z2:
                    continue
                sleep[k2] = old & z2
                if k2 in expanded:  # it skipped steps this path does not excuse: take them now
                    heapq.heappush(heap, (depth_of[k2], next(seq), r.state, old - z2))
            if max_states is not None and prog.states >= max_states and heap:
                out.stopped = t("the state limit ({n} states)", lang, n=f"{max_states:,}")
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline and heap:
                out.stopped = t("the time limit ({n} s)", lang, n=f"{time_limit:g}")
                break
            if on_progress is not None and now >= next_report:
                prog.frontier, prog.seconds = len(heap), now - t0
                on_progress(prog)
                next_report = now + progress_every
    except KeyboardInterrupt:
        out.stopped = CTRL_C
    prog.frontier = len(heap)
    prog.seconds = time.monotonic() - t0
    out.complete = out.stopped is None
    return out

"""Brute-force oracles for the consistency ladder, written apart from capsim/check.

Each oracle enumerates every total order it is allowed to (histories of at
most ~8 operations), straight from the textbook definitions:

* sequential consistency (Lamport): one order of all ops, each client's order kept;
* causal memory, CM (Ahamad et al.; Bouajjani et al. POPL 2017): co =
  (po ∪ read-from)⁺ acyclic, and per client p one order of p's ops and the
  writes causally before them that extends co, legal for p's reads;
* PRAM (Lipton & Sandberg): per client p, one order of all writes and p's ops
  keeping every client's order, legal for p's reads;
* session guarantees (Brzezinski et al. PDP 2004): per client p, one order of
  all writes and p's reads keeping the guarantee's edges, legal for p's reads.

Jepsen outcomes as capsim documents them: fail ops and unanswered reads
vanish; an unanswered write may be left out, or placed after its client's
earlier ops (later ops of its client need not follow it).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capsim.history import History


@dataclass(frozen=True)
class O:  # noqa: E742 (one letter, as in the papers' notation)
    i: int
    p: str
    key: str
    w: Any  # value written, or None
    r: Any  # value read (cas: expected), or None
    ok: bool


MISSING = ("missing",)


def ops_of(h: History) -> list[O]:
    out: list[O] = []
    raw = sorted(h.operations(), key=lambda o: (o.invoke.time, o.invoke.index))
    for op in raw:
        if op.type == "fail":
            continue
        if op.f == "read":
            if op.type == "ok":
                out.append(O(len(out), op.process, op.key, None, op.value, True))
        elif op.f == "write":
            out.append(O(len(out), op.process, op.key, op.invoke.value, None, op.type == "ok"))
        else:
            e, n = op.invoke.value
            out.append(O(len(out), op.process, op.key, n, e, op.type == "ok"))
    return out


def _po(ops: list[O]) -> set[tuple[int, int]]:
    """Program order as capsim reads it: ok ops in order; info ops after earlier ok ops."""
    edges = set()
    for a in ops:
        for b in ops:
            if a.p == b.p and a.i < b.i and a.ok:
                edges.add((a.i, b.i))
    return edges


def _legal(order: list[O], initial: Mapping[str, Any], judged: set[int]) -> bool:
    cur = dict(initial)
    for o in order:
        if o.r is not None and o.i in judged and cur.get(o.key) != o.r:
            return False
        if o.w is not None:
            cur[o.key] = o.w
    return True


def _orders(items: list[O], before: set[tuple[int, int]]):
    """Every total order of ``items`` that keeps the pairs in ``before``."""
    ids = {o.i for o in items}
    preds = {o.i: {a for a, b in before if b == o.i and a in ids} for o in items}

    def go(placed: list[O], left: list[O]):
        if not left:
            yield list(placed)
            return
        done = {o.i for o in placed}
        for k, o in enumerate(left):
            if preds[o.i] <= done:
                placed.append(o)
                yield from go(placed, left[:k] + left[k + 1:])
                placed.pop()

    yield from go([], list(items))


def _info_choices(ops: list[O]):
    """Every way to keep or drop the unanswered ops."""
    opt = [o for o in ops if not o.ok]
    for keep in itertools.product([False, True], repeat=len(opt)):
        gone = {o.i for o, k in zip(opt, keep, strict=True) if not k}
        yield [o for o in ops if o.i not in gone]


def sequential(h: History, initial: Mapping[str, Any]) -> bool:
    ops = ops_of(h)
    for kept in _info_choices(ops):
        po = _po(kept)
        for order in _orders(kept, po):
            if _legal(order, initial, {o.i for o in kept}):
                return True
    return False


def _reads_from(ops: list[O], initial: Mapping[str, Any]) -> dict[int, int | None] | None:
    """Each read's write (None: the initial value); None if some value came from nowhere."""
    out: dict[int, int | None] = {}
    for o in ops:
        if o.r is None or not o.ok:
            continue
        ws = [w for w in ops if w.w is not None and w.key == o.key and w.w == o.r and w is not o]
        if ws:
            out[o.i] = ws[0].i
        elif initial.get(o.key) == o.r:
            out[o.i] = None
        else:
            return None
    return out


def _closure(edges: set[tuple[int, int]], n: int) -> set[tuple[int, int]]:
    reach = {(a, b) for a, b in edges}
    for k in range(n):
        for a in range(n):
            if (a, k) in reach:
                for b in range(n):
                    if (k, b) in reach:
                        reach.add((a, b))
    return reach


def _kept_variants(ops: list[O], initial: Mapping[str, Any]):
    """Unanswered writes are kept exactly when someone read their value (values are unique)."""
    read_vals = {(o.key, o.r) for o in ops if o.r is not None and o.ok}
    kept = [o for o in ops if o.ok or (o.key, o.w) in read_vals]
    # re-number
    return [O(k, o.p, o.key, o.w, o.r, o.ok) for k, o in enumerate(kept)]


def causal_memory(h: History, initial: Mapping[str, Any]) -> bool:
    ops = _kept_variants(ops_of(h), initial)
    rf = _reads_from(ops, initial)
    if rf is None:
        return False
    wr = {(w, r) for r, w in rf.items() if w is not None}
    co = _closure(_po(ops) | wr, len(ops))
    if any(a == b for a, b in co):
        return False
    for p in sorted({o.p for o in ops}):
        mine = [o for o in ops if o.p == p]
        past = {a for a, b in co for m in mine if b == m.i}
        items = mine + [o for o in ops if o.w is not None and o.i in past and o.p != p]
        judged = {o.i for o in mine if o.ok}
        if not any(_legal(order, initial, judged) for order in _orders(items, co)):
            return False
    return True


def _view_ok(ops: list[O], p: str, initial: Mapping[str, Any], edges: set[tuple[int, int]],
             with_own_writes_reads: bool = True) -> bool:
    items = [o for o in ops if o.w is not None or o.p == p]
    judged = {o.i for o in ops if o.p == p and o.ok}
    rf = _reads_from(ops, initial) or {}
    src_edges = {(rf[r], r) for r in judged if r in rf and rf[r] is not None}
    return any(_legal(order, initial, judged) for order in _orders(items, edges | src_edges))


def pram(h: History, initial: Mapping[str, Any]) -> bool:
    ops = _kept_variants(ops_of(h), initial)
    if _reads_from(ops, initial) is None:
        return False
    po = _po(ops)
    for p in sorted({o.p for o in ops}):
        edges = {(a, b) for a, b in po
                 if (ops[a].w is not None or ops[a].p == p)
                 and (ops[b].w is not None or ops[b].p == p)
                 and (ops[a].p == p or (ops[a].w is not None and ops[b].w is not None))}
        if not _view_ok(ops, p, initial, edges):
            return False
    return True


def session(h: History, initial: Mapping[str, Any], which: str) -> bool:
    ops = _kept_variants(ops_of(h), initial)
    rf = _reads_from(ops, initial)
    if rf is None:
        return False
    for p in sorted({o.p for o in ops}):
        edges: set[tuple[int, int]] = set()
        for a in ops:
            for b in ops:
                if a.p != b.p or a.i >= b.i or not a.ok:
                    continue
                if which == "ryw" and a.p == p and a.w is not None and b.r is not None and b.ok:
                    edges.add((a.i, b.i))
                if (which == "mr" and a.p == p and a.r is not None and b.r is not None
                        and b.ok and rf.get(a.i) is not None):
                    edges.add((rf[a.i], b.i))  # type: ignore[arg-type]
                if which == "mw" and a.w is not None and b.w is not None:
                    edges.add((a.i, b.i))
                if (which == "wfr" and a.r is not None and b.w is not None
                        and rf.get(a.i) is not None):
                    edges.add((rf[a.i], b.i))  # type: ignore[arg-type]
            if which == "wfr" and a.r is not None and a.w is not None and rf.get(a.i) is not None:
                edges.add((rf[a.i], a.i))  # type: ignore[arg-type]
        if which in ("wfr", "mw"):
            mine = [o for o in ops if o.p == p and o.r is not None and o.ok]
            for r1 in mine:
                s1 = rf.get(r1.i)
                for r2 in mine:
                    if r2.i > r1.i and s1 is not None:
                        edges |= {(a, r2.i) for a, b in list(edges) if b == s1}
        if not _view_ok(ops, p, initial, edges):
            return False
    return True


ORACLES = {
    "sequential": sequential,
    "causal": causal_memory,
    "pram": pram,
    "ryw": lambda h, i: session(h, i, "ryw"),
    "mr": lambda h, i: session(h, i, "mr"),
    "mw": lambda h, i: session(h, i, "mw"),
    "wfr": lambda h, i: session(h, i, "wfr"),
}

"""Per-client views: the engine behind the causal, PRAM and session-guarantee checks.

Every model below sequential consistency can be said the same way
(Brzezinski, Sobaniec & Wawrzyniak, "From session causality to causal
consistency", PDP 2004; Ahamad et al., "Causal memory", Distributed
Computing 1995): *for each client p there is one order of all the writes
and p's own operations that respects a set of "must come before" edges and
in which each of p's reads returns the last value written before it to its
key*. The models differ only in the edges:

===========  ================================================================
edge set     "must come before", in every client's view
===========  ================================================================
``ryw``      p's own earlier writes before each of p's reads
``mr``       what p read earlier (the write it read from) before p's later reads
``mw``       each client's writes in the order that client made them; and once
             p has read a write, its author's earlier writes come before
             p's later reads
``wfr``      what a client read before that client's later writes; and once p
             has read a write, what its author had read before writing it
             comes before p's later reads (Terry et al.: a session that
             observes w2 then observes what w2 followed)
``po``       p's own operations in p's order
===========  ================================================================

PRAM is ``po + ryw + mr + mw``; causal memory is all five in one view
(Brzezinski et al. show that causal consistency is the four session
guarantees holding together, in a common serialization per client). The
brute-force oracle in the tests checks the engine against Bouajjani et
al.'s definition of CM directly, and every edge set against a brute-force
search over all orders.

Deciding such a view is easy when every written value is unique (each read
then names the one write it read from): two rules are *forced* — if a write
w' to x must come before a read r that read x from w, then w' must come
before w; and if w must come before w', r must come before w'. The checker
adds these edges until nothing changes (with bitset reachability), and a
cycle proves the model broken. Otherwise it builds the order greedily (a
read goes as soon as it sees its value; a write goes when it hides no value
a waiting read still needs), which is a certificate for ``yes``. If the
greedy build gets stuck (possible only when one client reads several keys),
a bounded exact search decides, or the verdict is ``unknown``.

Jepsen outcomes: ``fail`` operations never happened and are dropped, as are
reads without an answer. A write without an answer (``info``) may have
happened at any time after its call, or never: it is kept only if some read
returned its value, and it is ordered after its client's earlier operations
but not before its later ones.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from capsim.check.model_result import ModelResult
from capsim.history import History, Operation

#: Effort for the exact search used when the greedy build gets stuck.
SEARCH_STEPS = 200_000


def hashable(v: Any) -> Any:
    """Values as dictionary keys (JSON lists become tuples; ``True`` is not ``1``)."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (list, tuple)):
        return ("seq", *(hashable(x) for x in v))
    if isinstance(v, dict):
        return ("map", frozenset((str(k), hashable(x)) for k, x in v.items()))
    return v


@dataclass(slots=True)
class VOp:
    """An operation as the view checks see it.

    ``writes``/``reads`` are the (hashable) values it writes and observes
    (``None`` when it does not); a cas does both. ``ok`` is False for a write
    without an answer (it may or may not have happened).
    """

    i: int
    op: Operation
    process: str
    key: str
    writes: Any
    reads: Any
    ok: bool
    src: int | None = None  # the op it read from; -1 = the initial value

    @property
    def is_write(self) -> bool:
        return self.writes is not None

    @property
    def is_read(self) -> bool:
        return self.reads is not None


_NONE = ("none",)


class Prepared:
    """A history cut down to what the view checks need, with reads-from resolved.

    ``problem`` is set (and the verdict must be ``unknown``) when a written
    value repeats; ``thin_air`` lists reads of a value nobody wrote.
    """

    def __init__(self, ops: Sequence[Operation], initial: Mapping[str, Any]) -> None:
        self.initial = dict(initial)
        self.problem: str | None = None
        kept: list[VOp] = []
        for op in ops:
            t = op.type
            if t == "fail":
                continue
            if op.f == "read":
                if t != "ok":
                    continue
                kept.append(VOp(0, op, op.process, op.key, None, _hv(op.value), True))
            elif op.f == "write":
                kept.append(VOp(0, op, op.process, op.key, _hv(op.invoke.value), None, t == "ok"))
            else:
                exp, new = _cas_pair(op)
                kept.append(VOp(0, op, op.process, op.key, _hv(new), _hv(exp), t == "ok"))
        writer: dict[tuple[str, Any], VOp] = {}
        for v in kept:
            if v.is_write:
                k = (v.key, v.writes)
                init = _hv(self.initial.get(v.key))
                if k in writer or v.writes == init:
                    shown = v.op.invoke.value if v.op.f == "write" else v.op.invoke.value[1]
                    self.problem = (
                        f"the value {shown!r} "
                        f"is written to {v.key} more than once (or is its initial value); "
                        "these checks need every written value to be unique"
                    )
                writer.setdefault(k, v)
        observed = {(v.key, v.reads) for v in kept if v.is_read and (v.ok or not v.is_write)}
        # Unanswered writes nobody read can always "never have happened".
        kept = [v for v in kept if v.ok or (v.key, v.writes) in observed]
        for i, v in enumerate(kept):
            v.i = i
        self.ops: list[VOp] = kept
        self.thin_air: list[VOp] = []
        alive = {id(v) for v in kept}
        for v in kept:
            if not v.is_read:
                continue
            w = writer.get((v.key, v.reads))
            if w is not None and id(w) in alive and w is not v:
                v.src = w.i
            elif v.reads == _hv(self.initial.get(v.key)):
                v.src = -1
            else:
                v.src = None
                if v.ok:
                    self.thin_air.append(v)
        self.by_process: dict[str, list[VOp]] = {}
        for v in kept:
            self.by_process.setdefault(v.process, []).append(v)
        self.keys = sorted({v.key for v in kept})

    @classmethod
    def of(cls, history: History | Sequence[Operation], initial: Mapping[str, Any]) -> Prepared:
        ops = history.operations() if isinstance(history, History) else list(history)
        ops.sort(key=lambda o: (o.invoke.time, o.invoke.index))
        return cls(ops, initial)

    def restrict(self, keep: Iterable[int]) -> Prepared:
        """The same history with only the ops ``keep`` (indices into ``ops``)."""
        wanted = sorted(set(keep))
        return Prepared([self.ops[i].op for i in wanted], self.initial)


def _hv(v: Any) -> Any:
    return _NONE if v is None else hashable(v)


def _cas_pair(op: Operation) -> tuple[Any, Any]:
    v = op.invoke.value
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"event {op.invoke.index}: a cas value must be [expected, new], got {v!r}")
    return v[0], v[1]


# --------------------------------------------------------------------------
# One client's view
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ViewOutcome:
    """The verdict of one client's view.

    ``status`` is ``ok`` (an order exists; ``order`` lists op indices),
    ``cycle`` (forced edges form a cycle; ``ops`` are the ops involved) or
    ``unknown`` (the exact search ran out of effort).
    """

    status: str
    ops: tuple[int, ...] = ()
    order: tuple[int, ...] = ()
    steps: int = 0
    forced: int = 0  # forced edges behind the cycle
    init: bool = False  # the cycle passes through a key's initial value


class _Graph:
    """Nodes: one initial-value node per key, every op, and p's chain markers."""

    def __init__(self) -> None:
        self.preds: list[set[int]] = []
        self.owner: list[int | None] = []  # the VOp index a node stands for, if any
        self.bit: list[int] = []  # reachability bit (0 for marker nodes)
        self.reason: dict[tuple[int, int], tuple[int, int, int]] = {}
        self.age: dict[tuple[int, int], int] = {}  # saturation round that forced an edge

    def add(self, owner: int | None, tracked: bool) -> int:
        n = len(self.preds)
        self.preds.append(set())
        self.owner.append(owner)
        self.bit.append(1 << n if tracked else 0)
        return n

    def edge(self, a: int, b: int) -> None:
        if a != b:
            self.preds[b].add(a)


def _bits(m: int) -> Iterator[int]:
    while m:
        low = m & -m
        yield low.bit_length() - 1
        m ^= low


def build_view(prep: Prepared, p: str, flags: frozenset[str]) -> tuple[_Graph, dict[int, int],
                                                                      list[int], dict[str, int]]:
    """The "must come before" graph of client ``p``'s view under ``flags``."""
    g = _Graph()
    init = {k: g.add(None, True) for k in prep.keys}
    node: dict[int, int] = {}  # VOp index -> node
    mine = prep.by_process.get(p, [])
    mine_ids = {v.i for v in mine}
    for v in prep.ops:
        if v.is_write or v.i in mine_ids:
            node[v.i] = g.add(v.i, True)
    readers: list[int] = []  # nodes of p's ops whose read must be legal
    for v in prep.ops:
        if v.is_write:
            g.edge(init[v.key], node[v.i])
    for v in mine:
        if v.is_read and v.ok and v.src is not None:
            s = init[v.key] if v.src == -1 else node[v.src]
            g.edge(s, node[v.i])
            readers.append(node[v.i])

    def src_node(v: VOp) -> int | None:
        if v.src is None:
            return None
        return init[v.key] if v.src == -1 else node.get(v.src)

    # Every client's own order of writes (mw) and "read before write" (wfr),
    # through one marker chain per client so the graph stays sparse.
    author: dict[int, set[int]] = {n: set() for n in node.values()}
    if "mw" in flags or "wfr" in flags:
        for _q, qops in prep.by_process.items():
            last_w: int | None = None
            marker: int | None = None
            for v in qops:
                if v.is_write:
                    n = node[v.i]
                    if "mw" in flags and last_w is not None:
                        g.edge(last_w, n)
                        author[n].add(last_w)
                    if "wfr" in flags:
                        if marker is not None:
                            g.edge(marker, n)
                            author[n].add(marker)
                        cs = src_node(v) if v.ok else None
                        if cs is not None:
                            g.edge(cs, n)  # a cas reads before it writes
                            author[n].add(cs)
                    if v.ok:
                        last_w = n
                if "wfr" in flags and v.is_read and v.ok:
                    rs = src_node(v)
                    if rs is not None:
                        m = g.add(v.i, False)
                        if marker is not None:
                            g.edge(marker, m)
                        g.edge(rs, m)
                        marker = m
    # p's own view: program order, own writes before own reads, monotonic reads,
    # and (mw, wfr) what came before a write p read, in its author's session,
    # comes before p's later reads (Terry et al.'s guarantees as a session sees them).
    marker_w: int | None = None  # after p's earlier acknowledged writes
    marker_r: int | None = None  # after what p's earlier reads read from
    marker_f: int | None = None  # after what came before those writes (mw / wfr)
    prev: int | None = None
    for v in mine:
        n = node[v.i]
        if "po" in flags and prev is not None:
            g.edge(prev, n)
        if v.is_read and v.ok:
            if "ryw" in flags and marker_w is not None:
                g.edge(marker_w, n)
            if "mr" in flags and marker_r is not None:
                g.edge(marker_r, n)
            observe = "wfr" in flags or "mw" in flags
            if observe and marker_f is not None:
                g.edge(marker_f, n)
            s_f = src_node(v)
            if observe and s_f is not None and v.src != -1:
                m = g.add(v.i, False)
                if marker_f is not None:
                    g.edge(marker_f, m)
                for u in author.get(s_f, ()):
                    g.edge(u, m)
                marker_f = m
        if v.ok:
            prev = n
            if v.is_write and "ryw" in flags:
                m = g.add(v.i, False)
                if marker_w is not None:
                    g.edge(marker_w, m)
                g.edge(n, m)
                marker_w = m
            if v.is_read and "mr" in flags:
                ms = src_node(v)
                if ms is not None:
                    m = g.add(v.i, False)
                    if marker_r is not None:
                        g.edge(marker_r, m)
                    g.edge(ms, m)
                    marker_r = m
    return g, node, readers, init


def _topo(g: _Graph) -> tuple[list[int], set[int]]:
    """Kahn's order; the second item is the nodes left on or behind a cycle."""
    n = len(g.preds)
    indeg = [len(ps) for ps in g.preds]
    succ: list[list[int]] = [[] for _ in range(n)]
    for b, ps in enumerate(g.preds):
        for a in ps:
            succ[a].append(b)
    queue = deque(i for i in range(n) if indeg[i] == 0)
    order: list[int] = []
    while queue:
        a = queue.popleft()
        order.append(a)
        for b in succ[a]:
            indeg[b] -= 1
            if indeg[b] == 0:
                queue.append(b)
    return order, set(range(n)) - set(order)


def _find_cycle(g: _Graph, left: set[int]) -> list[int]:
    """A cycle among ``left`` (every node there has a predecessor there)."""
    start = next(iter(sorted(left)))
    seen: dict[int, int] = {}
    path: list[int] = []
    v = start
    while v not in seen:
        seen[v] = len(path)
        path.append(v)
        v = min(u for u in g.preds[v] if u in left)
    return path[seen[v]:]


def _path(g: _Graph, a: int, b: int, before: int) -> list[int]:
    """Nodes of a shortest "must come before" path from ``a`` to ``b`` (inclusive),
    using only edges known before saturation round ``before``.
    """
    back: dict[int, int | None] = {b: None}
    queue = deque([b])
    while queue:
        v = queue.popleft()
        if v == a:
            break
        for u in sorted(g.preds[v]):
            if u not in back and g.age.get((u, v), 0) < before:
                back[u] = v
                queue.append(u)
    if a not in back:
        return [a, b]
    out: list[int] = []
    cur: int | None = a
    while cur is not None:
        out.append(cur)
        cur = back[cur]
    return out


def _saturate(g: _Graph, prep: Prepared, node: dict[int, int], readers: list[int],
              init: dict[str, int]) -> set[int] | None:
    """Add the forced edges until none is new; the nodes of a cycle if one appears."""
    key_of: dict[int, str] = {n: k for k, n in init.items()}
    for vi, n in node.items():
        key_of[n] = prep.ops[vi].key
    wmask: dict[str, int] = {k: g.bit[n] for k, n in init.items()}
    for vi, n in node.items():
        if prep.ops[vi].is_write:
            wmask[prep.ops[vi].key] |= g.bit[n]
    src: dict[int, int] = {}
    for r in readers:
        v = prep.ops[g.owner[r]]  # type: ignore[index]
        src[r] = init[v.key] if v.src == -1 else node[v.src]  # type: ignore[index]
    size = len(g.preds)
    rnd = 0
    while True:
        rnd += 1
        order, left = _topo(g)
        if left:
            return left
        anc = [0] * size
        for b in order:
            m = 0
            for a in g.preds[b]:
                m |= anc[a] | g.bit[a]
            anc[b] = m
        desc = [0] * size
        succ: list[list[int]] = [[] for _ in range(size)]
        for b, ps in enumerate(g.preds):
            for a in ps:
                succ[a].append(b)
        for a in reversed(order):
            m = 0
            for b in succ[a]:
                m |= desc[b] | g.bit[b]
            desc[a] = m
        added = False
        for r in readers:
            s = src[r]
            wm = wmask[key_of[r]] & ~g.bit[r] & ~g.bit[s]
            # Only the last writes before r need an edge to s, and only the first
            # writes after s an edge from r: the rest follow by transitivity.
            # (Bit i is node i. Nodes are numbered in call order, so the highest
            # bit is most likely a last write; an earlier pick is only redundant.)
            before = anc[r] & wm & ~anc[s]
            while before:
                w = before.bit_length() - 1
                before &= ~(anc[w] | g.bit[w])
                g.edge(w, s)
                g.reason[(w, s)] = (1, r, s)
                g.age[(w, s)] = rnd
                added = True
            after = desc[s] & wm & ~desc[r]
            while after:
                low = after & -after
                w = low.bit_length() - 1
                after &= ~(desc[w] | low)
                g.edge(r, w)
                g.reason[(r, w)] = (2, r, s)
                g.age[(r, w)] = rnd
                added = True
        if not added:
            return None


def _greedy(g: _Graph, prep: Prepared, readers: list[int], init: dict[str, int],
            node: dict[int, int]) -> list[int] | None:
    """Build the view's order, or None when stuck (see the module docstring)."""
    size = len(g.preds)
    succ: list[list[int]] = [[] for _ in range(size)]
    for b, ps in enumerate(g.preds):
        for a in ps:
            succ[a].append(b)
    missing = [len(ps) for ps in g.preds]
    is_reader = set(readers)
    src: dict[int, int] = {}
    key_of: dict[int, str] = {n: k for k, n in init.items()}
    writes: set[int] = set(init.values())
    for vi, n in node.items():
        v = prep.ops[vi]
        key_of[n] = v.key
        if v.is_write:
            writes.add(n)
        if n in is_reader:
            src[n] = init[v.key] if v.src == -1 else node[v.src]  # type: ignore[index]
    waiting: dict[int, set[int]] = {}  # source node -> readers not yet placed
    for r, s in src.items():
        waiting.setdefault(s, set()).add(r)
    when: dict[int, float] = {n: -math.inf for n in init.values()}
    for vi, n in node.items():
        when[n] = prep.ops[vi].op.end
    current: dict[str, int] = {}
    order: list[int] = []
    go: list[int] = []  # readers whose value is current
    parked: dict[int, list[int]] = {}  # source -> ready readers waiting for it
    free: list[int] = []  # markers
    heap: list[tuple[float, int]] = []  # ready writes, earliest answer first

    def ready(n: int) -> None:
        if n in is_reader:
            if current.get(key_of[n]) == src[n]:
                go.append(n)
            else:
                parked.setdefault(src[n], []).append(n)
        elif n in writes:
            heapq.heappush(heap, (when[n], n))
        else:
            free.append(n)

    def place(n: int) -> None:
        order.append(n)
        if n in is_reader:
            waiting[src[n]].discard(n)
            for r in parked.pop(src[n], []) if len(waiting[src[n]]) == 1 else []:
                go.append(r)  # a cas that waited for the other reads of its value
        if n in writes:
            current[key_of[n]] = n
            go.extend(parked.pop(n, []))
        for b in succ[n]:
            missing[b] -= 1
            if missing[b] == 0:
                ready(b)

    for i in range(size):
        if missing[i] == 0:
            ready(i)
    while go or free or heap:
        if go:
            n = go.pop()
            if current.get(key_of[n]) != src[n]:
                parked.setdefault(src[n], []).append(n)
                continue
            if n in writes and waiting[src[n]] - {n}:
                parked.setdefault(src[n], []).append(n)  # a cas would hide a needed value
                if not (free or heap or go):
                    return None
                continue
            place(n)
            continue
        if free:
            place(free.pop())
            continue
        deferred: list[tuple[float, int]] = []
        pick = None
        while heap:
            item = heapq.heappop(heap)
            cur = current.get(key_of[item[1]])
            if cur is not None and waiting.get(cur):
                deferred.append(item)
                continue
            pick = item[1]
            break
        for item in deferred:
            heapq.heappush(heap, item)
        if pick is None:
            return None
        place(pick)
    return order if len(order) == size else None


def _exact(g: _Graph, prep: Prepared, readers: list[int], init: dict[str, int],
           node: dict[int, int], budget: int) -> tuple[str, int]:
    """Exact search over orders of the view (exponential; bounded by ``budget``)."""
    size = len(g.preds)
    pred_mask = [0] * size
    for b, ps in enumerate(g.preds):
        for a in ps:
            pred_mask[b] |= 1 << a
    key_of: dict[int, str] = {n: k for k, n in init.items()}
    is_write = set(init.values())
    src: dict[int, int] = {}
    for vi, n in node.items():
        v = prep.ops[vi]
        key_of[n] = v.key
        if v.is_write:
            is_write.add(n)
    for r in readers:
        v = prep.ops[g.owner[r]]  # type: ignore[index]
        src[r] = init[v.key] if v.src == -1 else node[v.src]  # type: ignore[index]
    keys = sorted(init)
    kidx = {k: i for i, k in enumerate(keys)}
    full = (1 << size) - 1
    seen: set[tuple[int, tuple[int, ...]]] = set()
    steps = 0
    stack: list[tuple[int, tuple[int, ...]]] = [(0, tuple(-1 for _ in keys))]
    while stack:
        placed, cur = stack.pop()
        if placed == full:
            return "ok", steps
        if (placed, cur) in seen:
            continue
        seen.add((placed, cur))
        steps += 1
        if steps > budget:
            return "unknown", steps
        for n in range(size):
            if placed >> n & 1 or pred_mask[n] & ~placed:
                continue
            if n in src and cur[kidx[key_of[n]]] != src[n]:
                continue
            nxt = cur
            if n in is_write:
                ki = kidx[key_of[n]]
                nxt = (*cur[:ki], n, *cur[ki + 1:])
            stack.append((placed | 1 << n, nxt))
    return "cycle", steps


def check_view(prep: Prepared, p: str, flags: frozenset[str],
               budget: int = SEARCH_STEPS) -> ViewOutcome:
    """Decide whether client ``p``'s view has an order under the edge set ``flags``."""
    g, node, readers, init = build_view(prep, p, flags)
    quick = _greedy(g, prep, readers, init, node)  # often enough, and cheap
    if quick is not None:
        return ViewOutcome("ok", order=tuple(g.owner[n] for n in quick  # type: ignore[misc]
                                            if g.owner[n] is not None and g.bit[n]))
    left = _saturate(g, prep, node, readers, init)
    if left is not None:
        cycle = _find_cycle(g, left)
        ops, forced = _explain_nodes(g, cycle)
        return ViewOutcome("cycle", ops, forced=forced,
                           init=any(g.owner[n] is None and g.bit[n] for n in cycle))
    order = _greedy(g, prep, readers, init, node)
    if order is not None:
        return ViewOutcome("ok", order=tuple(g.owner[n] for n in order  # type: ignore[misc]
                                            if g.owner[n] is not None and g.bit[n]))
    status, steps = _exact(g, prep, readers, init, node, budget)
    if status == "ok":
        return ViewOutcome("ok", steps=steps)
    if status == "unknown":
        return ViewOutcome("unknown", steps=steps)
    return ViewOutcome("cycle", tuple(sorted(g.owner[n] for n in range(len(g.preds))  # type: ignore[misc]
                                              if g.owner[n] is not None)), steps=steps)


def _explain_nodes(g: _Graph, cycle: list[int]) -> tuple[tuple[int, ...], int]:
    """The ops behind a cycle: its nodes, and the reads and paths that forced its edges."""
    nodes: set[int] = set(cycle)
    todo = [(cycle[i - 1], cycle[i]) for i in range(len(cycle))]
    done: set[tuple[int, int]] = set()
    forced = 0
    while todo and len(done) < 64:
        a, b = todo.pop()
        if (a, b) in done:
            continue
        done.add((a, b))
        why = g.reason.get((a, b))
        if why is None:
            continue
        rule, r, s = why
        forced += 1
        nodes.update((r, s))
        rnd = g.age[(a, b)]
        path = _path(g, a, r, rnd) if rule == 1 else _path(g, s, b, rnd)
        nodes.update(path)
        todo.extend(itertools.pairwise(path))
    owners = {o for o in (g.owner[n] for n in nodes) if o is not None}
    return tuple(sorted(owners)), forced


def with_sources(prep: Prepared, ids: Iterable[int]) -> set[int]:
    """``ids`` plus the write each of them read from."""
    out = set(ids)
    for i in list(out):
        s = prep.ops[i].src
        if s is not None and s >= 0:
            out.add(s)
    return out


# --------------------------------------------------------------------------
# The fast path: one order for everybody
# --------------------------------------------------------------------------


def global_order(prep: Prepared) -> tuple[bool, list[str]]:
    """Try to build one order of every operation that keeps each client's order and
    in which every read (and cas) is legal: a sequential-consistency certificate,
    which settles every model of this module at once (each view is its restriction).

    Greedy, linear-ish time: a read goes as soon as its value is current; a write
    goes (earliest answer first) only when no read still needs the value it would
    hide. Returns ``(True, [])`` on success, else ``(False, clients)`` with the
    clients whose next operation was blocked, so the full check can start there.
    """
    seqs: dict[str, list[VOp]] = {}
    floats: dict[str, list[tuple[int, VOp]]] = {}
    for p, ops in prep.by_process.items():
        seq = [v for v in ops if v.ok]
        seqs[p] = seq
        done = 0
        for v in ops:
            if v.ok:
                done += 1
            else:
                floats.setdefault(p, []).append((done, v))
    cur = {k: _hv(prep.initial.get(k)) for k in prep.keys}
    remaining: dict[tuple[str, Any], int] = {}
    for v in prep.ops:
        if v.is_read and v.ok:
            remaining[(v.key, v.reads)] = remaining.get((v.key, v.reads), 0) + 1
    pos = dict.fromkeys(seqs, 0)
    waiting: dict[tuple[str, Any], list[str]] = {}
    heap: list[tuple[float, int, str, int]] = []  # (answer time, op, client, float slot or -1)
    blocked: dict[tuple[str, Any], list[str]] = {}  # cas waiting for other reads

    # An unanswered write took effect, if at all, before the first read of its value ended.
    seen_by: dict[tuple[str, Any], float] = {}
    for v in prep.ops:
        if v.is_read and v.ok:
            k = (v.key, v.reads)
            seen_by[k] = min(seen_by.get(k, math.inf), v.op.end)

    def release_floats(p: str) -> None:
        for slot, (need, v) in enumerate(floats.get(p, [])):
            if need == pos[p]:
                due = seen_by.get((v.key, v.writes), math.inf)
                heapq.heappush(heap, (due, v.i, p, slot))

    def advance(p: str) -> None:
        seq = seqs[p]
        while pos[p] < len(seq):
            v = seq[pos[p]]
            if v.is_read:
                k = (v.key, v.reads)
                if cur[v.key] != v.reads:
                    waiting.setdefault(k, []).append(p)
                    return
                if v.is_write and remaining[k] > 1:
                    # a cas may go only when nobody else still needs the old value
                    blocked.setdefault(k, []).append(p)
                    return
                remaining[k] -= 1
                if remaining[k] == 1 and k in blocked:
                    todo.extend(blocked.pop(k))
                if v.is_write:
                    place_write(v)
                pos[p] += 1
                release_floats(p)
                continue
            heapq.heappush(heap, (v.op.end, v.i, p, -1))
            return

    gone: set[tuple[str, Any]] = set()  # values written over: they never come back

    def place_write(v: VOp) -> None:
        gone.add((v.key, cur[v.key]))
        cur[v.key] = v.writes
        for q in waiting.pop((v.key, v.writes), []):
            todo.append(q)

    todo: list[str] = sorted(seqs)
    for p in sorted(seqs):
        release_floats(p)
    while True:
        while todo:
            advance(todo.pop())
        if all(pos[p] == len(seqs[p]) for p in seqs):
            return True, []
        deferred = []
        placed = False
        while heap:
            item = heapq.heappop(heap)
            _, i, p, slot = item
            v = prep.ops[i]
            if remaining.get((v.key, cur[v.key]), 0) > 0:
                deferred.append(item)
                continue
            place_write(v)
            if slot < 0:
                pos[p] += 1
                release_floats(p)
                todo.append(p)
            placed = True
            break
        for item in deferred:
            heapq.heappush(heap, item)
        if not placed:
            # Clients waiting for a value already written over are the likeliest culprits.
            dead = sorted({p for k, ps in waiting.items() if k in gone for p in ps})
            stuck = {p for ps in [*waiting.values(), *blocked.values()] for p in ps}
            return False, [*dead, *sorted(stuck - set(dead))]


# --------------------------------------------------------------------------
# A model over the whole history: every client's view
# --------------------------------------------------------------------------

#: The edge sets of each model (see the table in the module docstring).
FLAGS: dict[str, frozenset[str]] = {
    "causal": frozenset({"po", "ryw", "mr", "mw", "wfr"}),
    "pram": frozenset({"po", "ryw", "mr", "mw"}),
    "ryw": frozenset({"ryw"}),
    "mr": frozenset({"mr"}),
    "mw": frozenset({"mw"}),
    "wfr": frozenset({"wfr"}),
}

#: Witnesses larger than this are reported as found, without shrinking.
SHRINK_LIMIT = 200


def _cycles(prep: Prepared, p: str, model: str) -> bool:
    return check_view(prep, p, FLAGS[model], budget=20_000).status == "cycle"


def _shrink(prep: Prepared, ids: set[int], p: str, model: str) -> list[int]:
    """Delete ops while ``p``'s view still breaks (keeping the writes kept reads read)."""
    current = sorted(with_sources(prep, ids))
    if not _cycles(prep.restrict(current), p, model):
        current = list(range(len(prep.ops)))
    if len(current) > SHRINK_LIMIT:
        return current
    changed = True
    while changed:
        changed = False
        for i in sorted(current, reverse=True):
            rest = [j for j in current if j != i]
            needed = {prep.ops[j].src for j in rest}
            if i in needed:
                continue
            if _cycles(prep.restrict(rest), p, model):
                current = rest
                changed = True
    return current


def decide(model: str, history: History | Sequence[Operation], initial: Mapping[str, Any],
           lang: str | None = None, budget: int = SEARCH_STEPS) -> ModelResult:
    """The verdict of ``model`` (causal, pram, ryw, mr, mw or wfr) on a history."""
    from capsim.check.model_words import no_verdict, thin_air, view_no, witness_ops, yes

    prep = Prepared.of(history, initial)
    if prep.problem is not None:
        return ModelResult(model, "unknown", no_verdict("reason", lang, reason=prep.problem),
                           reason="values")
    if prep.thin_air:
        wops = witness_ops([prep.thin_air[0].op])
        return ModelResult(model, "no", thin_air(wops[0], initial, lang), (wops[0].index,), wops,
                           process=prep.thin_air[0].process, pattern="ThinAirRead")
    ok, first = global_order(prep)
    if not ok and isinstance(history, History):
        # Second fast path: a linearizable history keeps every model (the search is
        # near-linear on real histories; bounded so a hard one costs little).
        from capsim.check.linearizable import check_linearizable

        budget = 100 * len(prep.ops) + 1000
        lin = check_linearizable(history, initial=initial, budget_steps=budget)
        ok = lin.linearizable is True
        # The clients in a linearizability witness are the likeliest to break too.
        first = [*(o.process for o in lin.op_details), *first]
        first = list(dict.fromkeys(q for q in first if q in prep.by_process))
    if ok:
        return ModelResult(model, "yes", yes(lang))
    unknown: str | None = None
    steps = 0
    for p in [*first, *sorted(set(prep.by_process) - set(first))]:
        out = check_view(prep, p, FLAGS[model], budget)
        steps += out.steps
        if out.status == "unknown":
            unknown = unknown or p
            continue
        if out.status == "cycle":
            guilty = _shrink(prep, set(out.ops), p, model)
            wops = witness_ops([prep.ops[i].op for i in guilty])
            pattern = None
            if model == "causal":
                pattern = _pattern(out)
            return ModelResult(model, "no", view_no(model, p, wops, lang),
                               tuple(o.index for o in wops), wops, process=p, pattern=pattern,
                               steps=steps)
    if unknown is not None:
        return ModelResult(model, "unknown", no_verdict("search", lang, process=unknown),
                           process=unknown, reason="budget", steps=steps)
    return ModelResult(model, "yes", yes(lang), steps=steps)


def _pattern(out: ViewOutcome) -> str:
    """Bouajjani et al.'s name for the shape of a causal-memory violation."""
    if out.forced == 0:
        return "CyclicCO"
    if out.init:
        return "WriteCOInitRead" if out.forced == 1 else "WriteHBInitRead"
    return "WriteCORead" if out.forced == 1 else "CyclicHB"


__all__ = ["FLAGS", "Prepared", "VOp", "ViewOutcome", "check_view", "decide", "hashable",
           "with_sources"]

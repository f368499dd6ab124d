"""Sequential consistency (Lamport 1979): one order of all operations that keeps
each client's own order and explains every value read.

Unlike linearizability, the order need not respect real time: a read may be
placed before a write that finished long before it began. That is why the
seed story under ``ap`` (bob reads the old ``v0`` after alice's write of
``v1`` was acknowledged) is sequentially consistent but not linearizable.

Deciding it is NP-complete in general (Gibbons & Korach 1997), so this is a
search, with a step budget (verdict ``unknown`` when it runs out):

* **Decomposition, only where it is valid.** Sequential consistency is *not*
  compositional across keys: each key on its own can be fine while the
  whole is not (the store-buffer history ``alice: w(x,1) r(y)=0``,
  ``bob: w(y,1) r(x)=0``). So keys are grouped into components: two keys
  are in one component when some client used both. Different components
  share no client, so their orders can be interleaved freely, and the
  history is sequentially consistent exactly when every component is. Each
  component is searched as a whole.
* **Search with memoisation.** A state is (how far each client has got,
  which unanswered writes took effect, the value of each key); states
  already shown to be dead ends are not explored again. A read of the
  current value is applied at once without trying alternatives (it can
  always go first: it changes nothing).
* **Jepsen outcomes.** ``fail`` ops and unanswered reads are dropped. An
  unanswered (``info``) write may take effect after its client's earlier
  operations, or never; later operations of its client need not follow it
  (exactly as for linearizability, so linearizable ⇒ sequential holds).

For ``no`` the witness is shrunk by deleting operations one at a time while
the rest still cannot be ordered (keeping every write of a value some kept
read returned), so it is minimal: no single operation can be taken out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from capsim.check.model_result import ModelResult
from capsim.check.model_words import no_verdict, sequential_no, witness_ops, yes
from capsim.check.views import hashable
from capsim.history import History, Operation

#: Search steps allowed by default (over all components).
DEFAULT_STEPS = 2_000_000
#: Search steps allowed for each attempt while shrinking a witness.
SHRINK_STEPS = 20_000

_R, _W, _C = 0, 1, 2
_NONE = ("none",)


class _SOp(NamedTuple):
    kind: int
    key: int
    a: Any  # read: value read; write: value; cas: expected
    b: Any  # cas: new value
    op: Operation


def _hv(v: Any) -> Any:
    return _NONE if v is None else hashable(v)


def _sop(op: Operation, kidx: Mapping[str, int]) -> _SOp:
    k = kidx[op.key]
    if op.f == "read":
        return _SOp(_R, k, _hv(op.value), None, op)
    if op.f == "write":
        return _SOp(_W, k, _hv(op.invoke.value), None, op)
    v = op.invoke.value
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"event {op.invoke.index}: a cas value must be [expected, new], got {v!r}")
    return _SOp(_C, k, _hv(v[0]), _hv(v[1]), op)


def _relevant(ops: Sequence[Operation]) -> list[Operation]:
    return [o for o in ops if o.type != "fail" and not (o.f == "read" and o.type != "ok")]


def search(ops: Sequence[Operation], initial: Mapping[str, Any],
           budget: int | None) -> tuple[str, int]:
    """``("ok"|"fail"|"unknown", steps)`` for one set of operations (any keys)."""
    ops = sorted(_relevant(ops), key=lambda o: (o.invoke.time, o.invoke.index))
    keys = sorted({o.key for o in ops})
    kidx = {k: i for i, k in enumerate(keys)}
    procs: dict[str, list[_SOp]] = {}
    floats: list[tuple[int, int, _SOp]] = []  # (process slot, ok ops before it, op)
    names = sorted({o.process for o in ops})
    pslot = {p: i for i, p in enumerate(names)}
    for o in ops:
        s = _sop(o, kidx)
        seq = procs.setdefault(o.process, [])
        if o.type == "ok":
            seq.append(s)
        else:
            floats.append((pslot[o.process], len(seq), s))
    # An unanswered write whose value nobody observed can always "never happen".
    observed = {(s.key, s.a) for seq in procs.values() for s in seq if s.kind != _W}
    observed |= {(s.key, s.a) for _, _, s in floats if s.kind == _C}
    floats = [f for f in floats if (f[2].key, f[2].a if f[2].kind == _W else f[2].b) in observed]
    seqs = [procs.get(p, []) for p in names]
    ends = tuple(len(s) for s in seqs)
    start_vals = tuple(_hv(initial.get(k)) for k in keys)
    nf = len(floats)
    dead: set[tuple[tuple[int, ...], int, tuple[Any, ...]]] = set()
    steps = 0
    limit = -1 if budget is None else budget

    def legal(s: _SOp, vals: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if s.kind == _R:
            return vals if vals[s.key] == s.a else None
        if s.kind == _C and vals[s.key] != s.a:
            return None
        new = s.a if s.kind == _W else s.b
        return (*vals[:s.key], new, *vals[s.key + 1:])

    stack: list[tuple[tuple[int, ...], int, tuple[Any, ...]]] = [((0,) * len(seqs), 0, start_vals)]
    while stack:
        pos, fmask, vals = stack.pop()
        # Apply safe reads at once.
        changed = True
        while changed:
            changed = False
            for i, seq in enumerate(seqs):
                j = pos[i]
                if j < len(seq) and seq[j].kind == _R and vals[seq[j].key] == seq[j].a:
                    pos = (*pos[:i], j + 1, *pos[i + 1:])
                    changed = True
        if pos == ends:
            return "ok", steps
        state = (pos, fmask, vals)
        if state in dead:
            continue
        dead.add(state)
        steps += 1
        if steps > limit >= 0:
            return "unknown", steps
        for i, seq in enumerate(seqs):
            j = pos[i]
            if j < len(seq):
                nv = legal(seq[j], vals)
                if nv is not None:
                    stack.append(((*pos[:i], j + 1, *pos[i + 1:]), fmask, nv))
        for f in range(nf):
            if fmask >> f & 1:
                continue
            slot, before, s = floats[f]
            if pos[slot] < before:
                continue
            nv = legal(s, vals)
            if nv is not None:
                stack.append((pos, fmask | 1 << f, nv))
    return "fail", steps


def components(ops: Sequence[Operation]) -> list[list[Operation]]:
    """Group operations so that no client spans two groups (keys linked by clients)."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[str, str] = {}
    for o in ops:
        find(o.key)
        if o.process in first:
            a, b = find(first[o.process]), find(o.key)
            if a != b:
                parent[max(a, b)] = min(a, b)
        else:
            first[o.process] = o.key
    groups: dict[str, list[Operation]] = {}
    for o in ops:
        groups.setdefault(find(o.key), []).append(o)
    return [groups[k] for k in sorted(groups)]


def _writers_closure(keep: list[Operation], pool: Sequence[Operation]) -> list[Operation]:
    """``keep`` plus every write of a value some kept read (or cas) observed."""
    want = {(o.key, _hv(o.value if o.f == "read" else o.invoke.value[0]))
            for o in keep if o.f != "write"}
    ids = {id(o) for o in keep}
    out = list(keep)
    for o in pool:
        if id(o) in ids or o.f == "read":
            continue
        new = o.invoke.value if o.f == "write" else o.invoke.value[1]
        if (o.key, _hv(new)) in want:
            out.append(o)
    return out


def shrink(ops: list[Operation], initial: Mapping[str, Any]) -> list[Operation]:
    """Delete operations, in halving chunks down to one at a time, while the rest
    still cannot be ordered; the result has no single removable operation.
    """
    current = sorted(ops, key=lambda x: x.invoke.index)
    chunk = max(1, len(current) // 2)
    while True:
        changed = False
        i = len(current)
        while i > 0:
            lo = max(0, i - chunk)
            gone = {id(x) for x in current[lo:i]}
            rest = _writers_closure([x for x in current if id(x) not in gone], current)
            if len(rest) < len(current) and search(rest, initial, SHRINK_STEPS)[0] == "fail":
                current = sorted(rest, key=lambda x: x.invoke.index)
                changed = True
                i = min(i, len(current))
            i = lo
        if chunk > 1:
            chunk //= 2
        elif not changed:
            return current


def check_sequential(history: History | Sequence[Any], *, initial: Mapping[str, Any] | None = None,
                     budget_steps: int | None = DEFAULT_STEPS,
                     lang: str | None = None) -> ModelResult:
    """Is ``history`` sequentially consistent? See the module docstring."""
    if not isinstance(history, History):
        history = History(history)
    initial = dict(initial or {})
    ops = _relevant(history.operations())
    total = 0
    left = budget_steps
    for comp in components(ops):
        status, steps = search(comp, initial, left)
        total += steps
        if left is not None:
            left = max(1, left - steps)
        if status == "unknown":
            return ModelResult("sequential", "unknown", no_verdict(
                "budget", lang, steps=budget_steps), reason="budget", steps=total)
        if status == "fail":
            # Try each key alone first: a smaller start for the shrinking.
            start = comp
            for key in sorted({o.key for o in comp}):
                sub = [o for o in comp if o.key == key]
                if len(sub) < len(comp) and search(sub, initial, SHRINK_STEPS)[0] == "fail":
                    start = sub
                    break
            guilty = shrink(start, initial)
            wops = witness_ops(guilty)
            return ModelResult("sequential", "no", sequential_no(wops, initial, lang),
                               tuple(o.index for o in wops), wops, steps=total)
    return ModelResult("sequential", "yes", yes(lang), steps=total)


__all__ = ["check_sequential", "components", "search", "shrink"]

"""Is a register history linearizable? Yes, no (and why), or unknown.

Linearizable means: every operation can be given a single instant between
its call and its answer, such that doing the operations one at a time in
that order explains every result. capsim decides it the way Knossos and
Porcupine do:

* **One key at a time.** Registers on different keys are independent, and a
  history is linearizable exactly when each key's sub-history is
  (P-compositionality), so each key is searched on its own.
* **Wing & Gong search with Lowe's memo.** Calls and answers are laid out in
  time order as a doubly linked list. The search repeatedly takes the first
  call it can apply to the register, removes it (and its answer) from the
  list and starts again from the head; meeting an answer whose call was not
  applied yet means the current order is wrong, so it undoes the last choice.
  A set of (operations applied, register value) pairs already explored cuts
  the search from exponential to, in practice, linear time. Shortcuts that
  never change the verdict: a read of the current value is applied at once
  with no alternatives tried (it can always go first); an ``info`` write
  whose value nobody read is dropped (it can always "never happen"); having
  applied more ``info`` ops is never better (the memo prunes by dominance);
  and a value some op still to be placed must observe is never overwritten
  when nothing left can write it again (a look-ahead, see :func:`_search`).
* **Jepsen's outcomes.** ``ok`` operations happened between call and answer;
  ``fail`` operations did not happen and are dropped; ``info`` (and
  never-answered) operations may take effect at any time after their call, or
  never; an ``info`` read tells nothing and is dropped.

When the search fails, the checker looks for a small set of operations that
on its own cannot be ordered, and which still proves the whole history
wrong (see :func:`_shrink`), and hands it to :mod:`capsim.check.explain`.

Events are ordered by ``time``; events with equal times keep their order in
the history (a history file lists them in the order they happened).
"""

from __future__ import annotations

import gc
import itertools
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeAlias

from capsim.check.explain import (
    OpFacts,
    explain_ok,
    explain_past_cap,
    explain_unknown,
    explain_violation,
)
from capsim.history import History, Operation
from capsim.i18n import t

Verdict: TypeAlias = bool | Literal["unknown"]

#: Effort spent looking for a small set of guilty operations once a key is
#: known to be non-linearizable (search steps over all attempts, and attempts).
SHRINK_STEPS = 2_000_000
SHRINK_ATTEMPTS = 400

#: Seconds that everything after a NO (shrinking the witness, making it
#: 1-minimal, the sentence) may take in one call, over all keys together,
#: unless the caller passes ``explain_seconds``; ``budget_seconds`` caps it too.
#: Without it a long non-linearizable history could take minutes to explain
#: after a search of a fraction of a second.
EXPLAIN_SECONDS = 0.5

#: Unless the caller passes ``explain_seconds``, one key's explanation also
#: takes at most this many times the key's own search, or
#: :data:`EXPLAIN_MIN_SECONDS` if that is more: explaining a NO should not cost
#: much more than finding it. Each step of the shrink is a search of a subset,
#: so a key whose search took 15 ms gets about four such searches; a small
#: history (the usual witness of a few operations) is done long before.
EXPLAIN_FACTOR = 4.0
EXPLAIN_MIN_SECONDS = 0.05

#: Most operations an explanation lists. A larger witness gets the shorter
#: sentence: how far the longest order the search found got, and where it broke.
WITNESS_CAP = 40

_READ, _WRITE, _CAS = 0, 1, 2
_KINDS = {"read": _READ, "write": _WRITE, "cas": _CAS}


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


def _json_time(t: float | None) -> float | None:
    return None if t is None or not math.isfinite(t) else t


def _json_value(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return v


@dataclass(frozen=True, slots=True)
class OpSummary:
    """One operation of a counterexample, for plots and machine readers."""

    index: int
    process: str
    node: str | None
    f: str
    type: str
    value: Any
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "process": self.process,
            "node": self.node,
            "f": self.f,
            "type": self.type,
            "value": _json_value(self.value),
            "start": self.start,
            "end": _json_time(self.end),
        }


@dataclass(frozen=True, slots=True)
class KeyResult:
    """The verdict for one key.

    ``ops`` are the invoke indices of the operations that cannot be ordered
    (empty unless the verdict is ``False``). ``prefix_ops`` is the longest
    run of operations the search managed to put in order (in that order);
    ``break_time`` is when the first operation that could not follow them was
    answered: where a plot should mark the break. ``minimal`` is True when
    ``ops`` is proven 1-minimal (leaving out any single one of them no longer
    proves the violation), False when the checker's budget (or the explanation
    budget, or ``explain=False``) left it unproven, None for a key that is not
    broken. Past :data:`WITNESS_CAP` operations ``explanation`` is the shorter
    sentence (how far the search got, where it broke); ``ops`` still lists them all.
    """

    key: str
    linearizable: Verdict
    explanation: str
    operations: int
    ops_checked: int
    steps: int
    reason: str | None = None
    ops: tuple[int, ...] = ()
    op_details: tuple[OpSummary, ...] = ()
    prefix_ops: tuple[int, ...] = ()
    break_op: int | None = None
    break_time: float | None = None
    minimal: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "minimal": self.minimal,
            "linearizable": self.linearizable,
            "reason": self.reason,
            "explanation": self.explanation,
            "operations": self.operations,
            "ops_checked": self.ops_checked,
            "steps": self.steps,
            "ops": list(self.ops),
            "op_details": [o.to_dict() for o in self.op_details],
            "prefix_ops": list(self.prefix_ops),
            "break_op": self.break_op,
            "break_time": _json_time(self.break_time),
        }


@dataclass(frozen=True, slots=True)
class LinearizabilityResult:
    """The verdict for a whole history, with the first broken key's details.

    ``linearizable`` is ``True``, ``False`` or ``"unknown"``; ``unknown`` only
    when a budget ran out before a verdict (``reason`` says which). For
    ``False``, ``key``, ``ops``, ``prefix_ops`` and ``break_time`` describe the
    key whose violation is answered earliest; ``keys`` has every key.
    """

    linearizable: Verdict
    explanation: str
    keys: tuple[KeyResult, ...]
    reason: str | None = None
    key: str | None = None
    ops: tuple[int, ...] = ()
    op_details: tuple[OpSummary, ...] = ()
    prefix_ops: tuple[int, ...] = ()
    break_op: int | None = None
    break_time: float | None = None
    steps: int = 0

    def key_result(self, key: str) -> KeyResult:
        for k in self.keys:
            if k.key == key:
                return k
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "linearizable": self.linearizable,
            "reason": self.reason,
            "explanation": self.explanation,
            "key": self.key,
            "ops": list(self.ops),
            "op_details": [o.to_dict() for o in self.op_details],
            "prefix_ops": list(self.prefix_ops),
            "break_op": self.break_op,
            "break_time": _json_time(self.break_time),
            "steps": self.steps,
            "keys": {k.key: k.to_dict() for k in self.keys},
        }


# --------------------------------------------------------------------------
# Preparing a key's operations
# --------------------------------------------------------------------------


def _freeze(v: Any) -> Any:
    """Make a hashable stand-in with equality as in JSON (``True`` is not ``1``)."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (list, tuple)):
        return ("seq", *(_freeze(x) for x in v))
    if isinstance(v, dict):
        return ("map", frozenset((str(k), _freeze(x)) for k, x in v.items()))
    if isinstance(v, (set, frozenset)):
        return ("set", frozenset(_freeze(x) for x in v))
    return v


class _Interner:
    """Register values as small integers, so the search compares ints."""

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}

    def __call__(self, v: Any) -> int:
        t = type(v)
        key = v if (t is str or t is int or v is None) else _freeze(v)
        ids = self._ids
        found = ids.get(key)
        if found is None:
            found = ids[key] = len(ids)
        return found


class _Op(NamedTuple):
    """One operation of a key, ready for the search.

    ``call``/``ret`` are ranks in the checked event order; ``ret`` is -1 when
    the op may take effect any time after its call, or never (info, pending).
    ``a`` is the value read / written / expected, ``b`` the cas's new value.
    """

    call: int
    ret: int
    kind: int
    a: int
    b: int
    operation: Operation

    @property
    def required(self) -> bool:
        return self.ret >= 0

    @property
    def produces(self) -> int:
        return self.a if self.kind == _WRITE else self.b if self.kind == _CAS else -1

    @property
    def observes(self) -> int:
        return -1 if self.kind == _WRITE else self.a


def _cas_pair(op: Operation) -> tuple[Any, Any]:
    v = op.invoke.value
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"event {op.invoke.index}: a cas value must be [expected, new], got {v!r}")
    return v[0], v[1]


def _prepare(ops: Iterable[Operation], rank: Mapping[int, int], intern: _Interner) -> list[_Op]:
    """Drop what cannot matter; give the rest ranks and interned values.

    Reads the events' fields directly (not :class:`Operation`'s properties):
    this runs once per operation, and on 50,000 operations the properties
    cost about as much as the search.
    """
    out: list[_Op] = []
    append = out.append
    kinds = _KINDS
    for op in ops:
        inv, done = op.invoke, op.complete
        kind = kinds[inv.f]
        t = "info" if done is None else done.type
        if t == "fail" or (kind == _READ and t != "ok"):
            continue
        call = rank[id(inv)]
        ret = rank[id(done)] if t == "ok" and done is not None else -1
        if kind == _READ:
            append(_Op(call, ret, kind, intern(done.value if done is not None else None), -1, op))
        elif kind == _WRITE:
            append(_Op(call, ret, kind, intern(inv.value), -1, op))
        else:
            exp, new = _cas_pair(op)
            append(_Op(call, ret, kind, intern(exp), intern(new), op))
    out.sort(key=lambda o: o.call)
    return _drop_unobserved_optional(out)


def _drop_unobserved_optional(ops: list[_Op]) -> list[_Op]:
    """Drop info writes/cas whose value nobody read: they cannot matter.

    In any order that explains the history, such an op can be taken out: no
    later op needs the value it leaves behind. Taking them out keeps the
    search from trying each of them at every step.
    """
    while True:
        observed = {o.observes for o in ops}
        kept = [o for o in ops if o.required or o.produces in observed]
        if len(kept) == len(ops):
            return kept
        ops = kept


# --------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Search:
    status: Literal["ok", "fail", "steps", "seconds"]
    steps: int
    prefix: tuple[int, ...] = ()  # positions in the ops list, in linearized order
    break_at: int | None = None  # position of the op whose answer could not be passed
    pruned: int = 0  # moves not tried because they overwrote a needed value for good
    blocker: int = -1  # the latest-called op whose need refused a move (-1: none)


def _search(
    ops: Sequence[_Op],
    init: int,
    max_steps: int | None,
    deadline: float | None,
    ignore: frozenset[int] = frozenset(),
    stop_at: int = -1,
) -> _Search:
    """Wing & Gong / Lowe search over one key, as in Porcupine's checkSingle.

    ``ops`` must be sorted by call. The applied operations are kept in two
    parts. The answered ones as (``base``, ``rest``): every answered op below
    ``base`` (in call order) is applied, and ``rest`` is a bitset of those
    from ``base`` on; it is canonical, so it can key the memo, and it stays a
    small integer however long the history is. The unanswered ones (``info``,
    pending) as the bitset ``fired`` of those applied so far.

    The memo prunes by dominance, not only equality: of two configurations
    with the same answered ops applied and the same register value, the one
    that has fired *more* unanswered ops can do nothing the other cannot (an
    unanswered op may always be left for later or never; no answer waits for
    it), so once the one with fewer fired failed, the other fails too. This
    keeps a history with a dozen timed-out writes from exploring every subset
    of them.

    It also refuses any move that overwrites a value some answered op left
    still has to observe (read, or cas expecting it) when no op left can
    write it again: that op could never be applied. This look-ahead keeps the
    search from trying, at every step, the orders of concurrent writes that a
    later read already rules out. It never changes the verdict, but it proves
    a NO early, where a needed value is lost; ``blocker`` names the
    latest-called op whose need refused a move, and ``ignore`` (positions in
    ``ops``) leaves such ops out of the look-ahead (see :func:`_how_far`).
    ``stop_at`` (a position in ``ops``): give up, as a NO, the first time an
    order is stuck at that op's answer: every op answered before it is then
    placed, which is all :func:`_how_far` wants to know (searching on for a
    slightly longer order cost a 50k-op history a million steps).
    """
    events: list[tuple[int, int, bool]] = []
    for i, op in enumerate(ops):
        events.append((op.call, i, True))
        if op.ret >= 0:
            events.append((op.ret, i, False))
    events.sort()
    size = len(events) + 1  # entry 0 is the head
    nxt = list(range(1, size + 1))
    nxt[-1] = -1
    prv = list(range(-1, size - 1))
    is_call = [False] * size
    match = [-1] * size
    kind = [0] * size
    va = [0] * size
    vb = [0] * size
    # bit[j]: for an answered op its index among answered ops (>= 0); for an
    # unanswered one ~index among unanswered ops (< 0).
    bit = [0] * size
    who = [-1] * size  # entry -> position in ops
    call_entry = [0] * len(ops)
    index = [0] * len(ops)
    n_req = n_opt = 0
    for i, op in enumerate(ops):
        if op.ret >= 0:
            index[i] = n_req
            n_req += 1
        else:
            index[i] = ~n_opt
            n_opt += 1
    for j, (_, i, c) in enumerate(events, start=1):
        who[j] = i
        if c:
            op = ops[i]
            is_call[j] = True
            call_entry[i] = j
            kind[j] = op.kind
            va[j] = op.a
            vb[j] = op.b
            bit[j] = index[i]
        else:
            match[call_entry[i]] = j

    # Identical unanswered ops (same kind and values, no answer) are
    # interchangeable: if an order applies one while an identical one called
    # earlier is still pending, swapping the two gives an order as valid (the
    # earlier one was called before, and neither must happen by any time). So
    # only the earliest pending one of each such group is ever tried, which
    # keeps the search from exploring every subset of, say, twenty timed-out
    # writes of the same value. twin[j]: the unanswered index of that earlier one.
    twin = [-1] * size
    last_of: dict[tuple[int, int, int], int] = {}
    for i, op in enumerate(ops):
        if op.ret < 0:
            sig = (op.kind, op.a, op.b)
            twin[call_entry[i]] = last_of.get(sig, -1)
            last_of[sig] = ~index[i]
    # A value some answered op still has to observe (read, or cas expecting
    # it) must not be overwritten while no op left can write it again: that op
    # could then never be applied. need[v] counts such observers left, make[v]
    # the ops left that write v; a move that breaks this is not tried.
    n_values = 1 + max([init, *(op.a for op in ops), *(op.b for op in ops)])
    need = [0] * n_values
    make = [0] * n_values
    obs = [-1] * size
    pro = [-1] * size
    observers: list[list[int]] = [[] for _ in range(n_values)]  # entries, in call order
    for i, op in enumerate(ops):
        j = call_entry[i]
        if op.ret >= 0 and op.kind != _WRITE and i not in ignore:
            obs[j] = op.a
            need[op.a] += 1
            observers[op.a].append(j)
        if op.kind != _READ:
            pro[j] = op.produces
            make[op.produces] += 1
    remaining = n_req
    state = init
    base = 0
    rest = 0
    fired = 0
    seen: set[tuple[int, int, int]] = set()  # without unanswered ops
    fired_seen: dict[tuple[int, int, int], list[int]] = {}  # with: the fired sets seen
    stack: list[tuple[int, int, int, int, int, bool]] = []
    order: list[int] = []
    best: list[int] = []
    best_depth = -1
    low = 0  # best[:low] == order[:low]
    break_at: int | None = None
    steps = pruned = 0
    # The latest-called op whose need refused a move: the likeliest culprit
    # (a stale read is called after the reads that saw its value honestly).
    culprit = 0
    applied = [False] * size
    limit = -1 if max_steps is None else max_steps
    e = nxt[0]
    fresh = True  # at a configuration not seen before: look for a safe read first
    scan = 0  # where that look starts (an entry still in the list)
    while remaining:
        steps += 1
        if steps > limit >= 0:
            return _Search("steps", steps, tuple(best), break_at, pruned, who[culprit])
        if deadline is not None and not steps & 1023 and time.monotonic() > deadline:
            return _Search("seconds", steps, tuple(best), break_at, pruned, who[culprit])
        forced = False
        if fresh:
            # A read of the current value among the calls that may go next can
            # always go first (it changes nothing, and anything that had to
            # precede it is applied), so it is taken without trying others.
            fresh = False
            f = nxt[scan]
            while f > 0 and is_call[f] and (kind[f] != _READ or va[f] != state):
                f = nxt[f]
            if f > 0 and is_call[f]:
                e = f
                forced = True
        if e > 0 and is_call[e]:
            k = kind[e]
            if k == _WRITE:
                ns = va[e]
            elif state != va[e]:
                e = nxt[e]
                continue
            else:
                ns = vb[e] if k == _CAS else state
            if ns != state and not make[state] and need[state] > (obs[e] == state):
                # It would overwrite, for good, a value an answered op left
                # still has to observe: that op could never be applied.
                pruned += 1
                for j in reversed(observers[state]):
                    if not applied[j]:
                        if j > culprit:
                            culprit = j
                        break
                e = nxt[e]
                continue
            x = bit[e]
            if x >= 0:
                nr = rest | (1 << (x - base))
                nb = base
                if nr & 1:
                    t = (~nr & (nr + 1)).bit_length() - 1
                    nr >>= t
                    nb += t
                nf = fired
            else:
                tw = twin[e]
                if tw >= 0 and not (fired >> tw) & 1:
                    e = nxt[e]  # an identical, earlier pending op goes first
                    continue
                nr, nb, nf = rest, base, fired | (1 << ~x)
            memo = (nb, nr, ns)
            if n_opt:
                known = fired_seen.get(memo)
                if known is None:
                    fired_seen[memo] = [nf]
                    new = True
                else:
                    new = True
                    for m in known:
                        if not m & ~nf:
                            new = False
                            break
                    if new:
                        known.append(nf)
            else:
                new = memo not in seen
                if new:
                    seen.add(memo)
            if new:
                stack.append((e, state, base, rest, fired, forced))
                order.append(who[e])
                state, base, rest, fired = ns, nb, nr, nf
                applied[e] = True
                if obs[e] >= 0:
                    need[obs[e]] -= 1
                if pro[e] >= 0:
                    make[pro[e]] -= 1
                # lift the call and its answer out of the list
                p, n = prv[e], nxt[e]
                nxt[p] = n
                if n != -1:
                    prv[n] = p
                # After a safe read nothing before it changed (calls that do
                # not read the value, which it did not change): look on from there.
                scan = p if forced else 0
                r = match[e]
                if r != -1:
                    p, n = prv[r], nxt[r]
                    nxt[p] = n
                    if n != -1:
                        prv[n] = p
                    remaining -= 1
                e = nxt[0]
                fresh = True
                continue
            if not forced:
                e = nxt[e]
                continue
            # The safe read leads where we have been: this configuration fails.
        elif len(stack) > best_depth:
            # An answer whose call is not applied yet (or, defensively, the end):
            # this order is wrong. Remember how far it got (copying only what
            # changed since the last time: a full copy each time was quadratic).
            best_depth = len(stack)
            del best[low:]
            best.extend(order[low:])
            low = best_depth
            break_at = who[e] if e > 0 else None
            if break_at == stop_at >= 0:
                return _Search("fail", steps, tuple(best), break_at, pruned, who[culprit])
        # Undo the last choice; a safe read was no choice, so undo past it too.
        while True:
            if not stack:
                return _Search("fail", steps, tuple(best), break_at, pruned, who[culprit])
            top, state, base, rest, fired, was_forced = stack.pop()
            order.pop()
            if len(order) < low:
                low = len(order)
            applied[top] = False
            if obs[top] >= 0:
                need[obs[top]] += 1
            if pro[top] >= 0:
                make[pro[top]] += 1
            r = match[top]
            if r != -1:
                p, n = prv[r], nxt[r]
                nxt[p] = r
                if n != -1:
                    prv[n] = r
                remaining += 1
            p, n = prv[top], nxt[top]
            nxt[p] = top
            if n != -1:
                prv[n] = top
            if not was_forced:
                e = nxt[top]
                break
    return _Search("ok", steps, tuple(order), None, pruned)


def _how_far(
    ops: Sequence[_Op], init: int, found: _Search, deadline: float | None
) -> tuple[tuple[int, ...], int | None]:
    """The longest order to report after a NO, and the op where it breaks.

    The search's look-ahead proves a NO early, where a value a later op needs
    is lost, which is rarely where a reader sees the history break (the seed
    story: the write fits, the stale read breaks). So the search runs again
    with that later op left out of the look-ahead, which lets the order go on
    until that op itself cannot be placed (then it stops), a few times at
    most, and the deepest order is reported. Bounded in steps, not time, so
    ``explain=False`` reports the same break.
    """
    best = found
    ignore: frozenset[int] = frozenset()
    budget = max(PREFIX_STEPS_PER_OP * len(ops) + 1_000, 4 * found.steps)
    tries = PREFIX_TRIES
    last = found
    while last.blocker >= 0 and last.blocker not in ignore and tries and budget > 0:
        tries -= 1
        culprit = last.blocker
        ignore = ignore | {culprit}
        last = _search(ops, init, budget, deadline, ignore, stop_at=culprit)
        budget -= last.steps
        if last.status != "ok" and len(last.prefix) > len(best.prefix):
            best = last
        if last.break_at == culprit:
            break  # the order now breaks at that op itself: the break a reader sees
    return best.prefix, best.break_at


#: How many times :func:`_how_far` searches again, at most.
PREFIX_TRIES = 4

#: Search steps per operation for the searches of :func:`_how_far`.
PREFIX_STEPS_PER_OP = 20


# --------------------------------------------------------------------------
# Shrinking a counterexample
# --------------------------------------------------------------------------


class _Effort:
    def __init__(self, deadline: float | None) -> None:
        self.steps = SHRINK_STEPS
        self.attempts = SHRINK_ATTEMPTS
        self.deadline = deadline

    def fails(self, ops: Sequence[_Op], init: int) -> bool:
        """Is this subset (certainly) not linearizable? No when effort is spent."""
        if self.steps <= 0 or self.attempts <= 0:
            return False
        if _expired(self.deadline):
            return False
        self.attempts -= 1
        r = _search(ops, init, self.steps, self.deadline)
        self.steps -= r.steps
        return r.status == "fail"


def _closure(seed: Iterable[_Op], ops: Sequence[_Op]) -> list[_Op]:
    """``seed`` plus every op that writes a value some kept op reads or expects.

    Dropping an op is only safe when nobody kept needs the value it writes;
    this adds back every writer such a value could have come from.
    """
    producers: dict[int, list[_Op]] = {}
    for o in ops:
        if o.kind != _READ:
            producers.setdefault(o.produces, []).append(o)
    kept = {id(o): o for o in seed}
    todo = [o.observes for o in kept.values() if o.kind != _WRITE]
    done: set[int] = set()
    while todo:
        v = todo.pop()
        if v in done:
            continue
        done.add(v)
        for w in producers.get(v, ()):
            if id(w) not in kept:
                kept[id(w)] = w
                if w.kind == _CAS:
                    todo.append(w.a)
    return sorted(kept.values(), key=lambda o: o.call)


class _Needs:
    """How many kept ops read (or expect) each value: the safe-drop rule in O(dropped).

    Checking the rule against the whole kept set for every try made the
    shrink quadratic in the witness; counting by value makes each check
    proportional to what is dropped.
    """

    def __init__(self, kept: Iterable[_Op]) -> None:
        self.count: dict[int, int] = {}
        for o in kept:
            if o.kind != _WRITE:
                self.count[o.a] = self.count.get(o.a, 0) + 1

    def can_drop(self, removed: Sequence[_Op]) -> bool:
        gone: dict[int, int] = {}
        for o in removed:
            if o.kind != _WRITE:
                gone[o.a] = gone.get(o.a, 0) + 1
        return all(
            self.count.get(o.produces, 0) - gone.get(o.produces, 0) <= 0
            for o in removed
            if o.kind != _READ
        )

    def drop(self, removed: Sequence[_Op]) -> None:
        for o in removed:
            if o.kind != _WRITE:
                self.count[o.a] -= 1


def _expired(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _shrink(ops: Sequence[_Op], init: int, anchor: int | None, deadline: float | None) -> list[_Op]:
    """Find a small subset that cannot be ordered and still proves the history wrong.

    Soundness: a subset ``K`` of a linearizable history is itself linearizable
    whenever no dropped op writes a value that an op of ``K`` reads or expects
    (in a valid order of the whole history, each op of ``K`` that looks at the
    register sees a value last written by an op of ``K``; so the same order,
    restricted to ``K``, is valid). So a non-linearizable ``K`` that respects
    this rule is a true witness for the whole history. Reads may always go.

    Steps, each bounded in effort (:data:`SHRINK_STEPS`, :data:`SHRINK_ATTEMPTS`):
    a growing window of the ops called before the answer where the search
    broke (plus the writers it depends on), then greedy deletion of chunks,
    halving the chunk size down to single ops, from the latest op backwards.
    """
    effort = _Effort(deadline)
    full = list(ops)
    current = full
    if anchor is not None:
        stop = ops[anchor].ret
        before = [o for o in ops if o.call < stop and o is not ops[anchor]]
        w = 4
        while w < len(before):
            cand = _closure([*before[-w:], ops[anchor]], ops)
            if len(cand) >= len(full):
                break
            if effort.fails(cand, init):
                current = cand
                break
            w *= 4
    needs = _Needs(current)
    chunk = max(1, len(current) // 2)
    while True:
        changed = False
        i = len(current)
        while i > 0:
            if _expired(deadline) or effort.attempts <= 0 or effort.steps <= 0:
                return current
            lo = max(0, i - chunk)
            removed = current[lo:i]
            if (lo > 0 or i < len(current)) and needs.can_drop(removed):
                cand = current[:lo] + current[i:]
                if effort.fails(cand, init):
                    current = cand
                    needs.drop(removed)
                    changed = True
            i = lo
        if chunk > 1:
            chunk //= 2
        elif not changed:
            return current


#: Search steps for the final 1-minimality pass, over all its tries together
#: (the sets it works on are already small, so each try is cheap).
MINIMAL_STEPS = 20_000_000


def _one_minimal(
    current: list[_Op], init: int, deadline: float | None
) -> tuple[list[_Op], bool]:
    """Make the witness 1-minimal: no single op can go and leave a valid witness.

    The shrink above shares one effort budget across the whole history, so on a
    long history it may stop early. This last pass tries every single op again
    with an exact search (all tries together bounded by :data:`MINIMAL_STEPS`
    and by the caller's deadline). Returns the set and whether 1-minimality is
    proven (False only when that budget ran out first).
    """
    left = MINIMAL_STEPS
    proven = False
    needs = _Needs(current)
    while not proven:
        proven = True
        for op in sorted(current, key=lambda o: -o.call):
            if len(current) < 2 or not needs.can_drop([op]):
                continue
            if left <= 0 or _expired(deadline):
                return current, False
            cand = [o for o in current if o is not op]
            r = _search(cand, init, left, deadline)
            left -= r.steps
            if r.status == "fail":
                current = cand
                needs.drop([op])
                proven = False
                break
            if r.status != "ok":
                return current, False
    return current, True


# --------------------------------------------------------------------------
# The front door
# --------------------------------------------------------------------------


def _facts(op: _Op) -> OpFacts:
    o = op.operation
    value = _cas_pair(o) if op.kind == _CAS else o.value
    return OpFacts(
        index=o.invoke.index,
        process=o.process,
        node=o.node,
        f=o.f,
        type=o.type,
        value=value,
        start=o.start,
        end=o.end if op.ret >= 0 else math.inf,
        call=op.call,
        ret=op.ret if op.ret >= 0 else None,
    )


def _summary(op: _Op) -> OpSummary:
    f = _facts(op)
    return OpSummary(f.index, f.process, f.node, f.f, f.type, f.value, f.start, f.end)


def _never_written(ops: Sequence[_Op], init: int) -> _Op | None:
    """Find a read (or a successful cas) of a value nobody wrote: the plainest violation."""
    produced = {o.produces for o in ops if o.kind != _READ}
    produced.add(init)
    for o in ops:
        if o.required and o.kind != _WRITE and o.a not in produced:
            return o
    return None


def _budget_reason(
    status: str, key: str, budget_steps: int | None, budget_seconds: float | None
) -> str:
    if status == "steps":
        return t("the step budget ({steps} steps) ran out while checking key {key}", "en",
                 steps=f"{budget_steps:,}", key=key)
    return t("the time budget ({seconds} s) ran out while checking key {key}", "en",
             seconds=f"{budget_seconds:g}", key=key)


def check_linearizable(
    history: History | Sequence[Any],
    *,
    initial: Mapping[str, Any] | None = None,
    budget_steps: int | None = None,
    budget_seconds: float | None = None,
    explain: bool = True,
    explain_seconds: float | None = None,
) -> LinearizabilityResult:
    """Decide whether ``history`` is linearizable, key by key.

    ``initial`` gives each key's value before the history starts (a key not
    in it starts as ``None``). ``budget_steps`` caps the search steps over all
    keys together and ``budget_seconds`` the time; when either runs out
    before a verdict, the verdict is ``"unknown"`` and ``reason`` says which.
    A key found non-linearizable makes the whole verdict ``False``, even if
    the budget ran out on another key. Without budgets the answer is exact.

    After a NO, shrinking the witness and wording it takes at most
    ``explain_seconds`` (default :data:`EXPLAIN_SECONDS`, and for each key at
    most :data:`EXPLAIN_FACTOR` times its search or :data:`EXPLAIN_MIN_SECONDS`)
    over all keys, and
    never runs past ``budget_seconds``; a witness still larger than
    :data:`WITNESS_CAP` operations, or one whose shrink ran out of time, gets
    the shorter sentence (how far the search got and where it broke) and
    ``minimal=False`` when 1-minimality was not proven. ``explain=False``
    skips the shrink for bulk checking: the verdicts are the same, a broken key
    gets the shorter sentence and no ``ops`` (unless one read alone proves it).
    Raises ``ValueError`` when invokes and completions do not pair up (see
    :meth:`History.operations`) or a cas value is not ``[expected, new]``.
    """
    # The search allocates hundreds of thousands of small tuples (memo keys)
    # and no reference cycles; the cyclic garbage collector would walk the
    # whole heap (the history included) again and again for nothing, which
    # cost 20-30 % of a 50,000-op check. It is paused here and restored after.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _check(history, initial, budget_steps, budget_seconds, explain, explain_seconds)
    finally:
        if paused:
            gc.enable()


def _check(
    history: History | Sequence[Any],
    initial: Mapping[str, Any] | None,
    budget_steps: int | None,
    budget_seconds: float | None,
    explain: bool,
    explain_seconds: float | None,
) -> LinearizabilityResult:
    if not isinstance(history, History):
        history = History(history)
    initial = dict(initial or {})
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    explain_for = EXPLAIN_SECONDS if explain_seconds is None else explain_seconds
    explain_until: float | None = None  # set at the first NO, shared by all keys
    events = list(history)
    if all(a.time <= b.time for a, b in itertools.pairwise(events)):
        rank = {id(e): i for i, e in enumerate(events)}
    else:
        order = sorted(range(len(events)), key=lambda i: (events[i].time, i))
        rank = {id(events[i]): r for r, i in enumerate(order)}

    by_key: dict[str, list[Operation]] = {}
    for op in history.operations():
        by_key.setdefault(op.key, []).append(op)
    multi = len(by_key) > 1

    results: list[KeyResult] = []
    steps_left = budget_steps
    stopped: str | None = None
    for key, kops in by_key.items():
        if stopped is not None:
            results.append(
                KeyResult(key, "unknown", explain_unknown(stopped), len(kops), 0, 0, stopped)
            )
            continue
        intern = _Interner()
        init = intern(initial.get(key))
        ops = _prepare(kops, rank, intern)
        searched_at = time.monotonic()
        search = _search(ops, init, steps_left, deadline)
        search_seconds = time.monotonic() - searched_at
        if steps_left is not None:
            steps_left = max(0, steps_left - search.steps)
        witness = _never_written(ops, init)
        if search.status == "ok":
            results.append(
                KeyResult(key, True, explain_ok(len(kops), 1), len(kops), len(ops), search.steps)
            )
            continue
        if search.status in ("steps", "seconds") and witness is None:
            stopped = _budget_reason(search.status, key, budget_steps, budget_seconds)
            results.append(
                KeyResult(
                    key,
                    "unknown",
                    explain_unknown(stopped),
                    len(kops),
                    len(ops),
                    search.steps,
                    stopped,
                )
            )
            continue
        if search.status != "fail":
            stopped = _budget_reason(search.status, key, budget_steps, budget_seconds)
            prefix: tuple[int, ...] = ()
            break_at = None
        else:
            prefix, break_at = _how_far(ops, init, search, deadline)
        minimal: bool | None = True
        if witness is not None:
            guilty = [witness]
        elif not explain:
            guilty, minimal = [], False
        else:
            now = time.monotonic()
            if explain_until is None:
                explain_until = now + explain_for
                if deadline is not None:
                    explain_until = min(explain_until, deadline)
            key_until = explain_until
            if explain_seconds is None:
                key_until = min(
                    key_until, now + max(EXPLAIN_MIN_SECONDS, EXPLAIN_FACTOR * search_seconds)
                )
            guilty, minimal = _one_minimal(
                _shrink(ops, init, break_at, key_until), init, key_until
            )
        facts = [_facts(o) for o in guilty]
        broke = ops[break_at] if break_at is not None else None
        if facts and len(facts) <= WITNESS_CAP:
            text = explain_violation(facts, key=key, initial=initial.get(key), name_key=multi)
        else:
            text = explain_past_cap(
                key=key,
                kept=len(facts),
                cap=WITNESS_CAP,
                fitted=len(prefix),
                last=_facts(ops[prefix[-1]]) if prefix else None,
                broke=None if broke is None else _facts(broke),
                name_key=multi,
            )
        results.append(
            KeyResult(
                key,
                False,
                text,
                len(kops),
                len(ops),
                search.steps,
                None,
                tuple(f.index for f in facts),
                tuple(_summary(o) for o in guilty),
                tuple(ops[i].operation.invoke.index for i in prefix),
                None if broke is None else broke.operation.invoke.index,
                None if broke is None else broke.operation.end,
                minimal,
            )
        )
    return _combine(results, stopped)


def _combine(results: list[KeyResult], stopped: str | None) -> LinearizabilityResult:
    keys = tuple(results)
    steps = sum(k.steps for k in keys)
    failed = [k for k in keys if k.linearizable is False]
    if failed:
        first = min(
            failed,
            key=lambda k: (
                math.inf if k.break_time is None else k.break_time,
                keys.index(k),
            ),
        )
        return LinearizabilityResult(
            False,
            first.explanation,
            keys,
            None,
            first.key,
            first.ops,
            first.op_details,
            first.prefix_ops,
            first.break_op,
            first.break_time,
            steps,
        )
    if any(k.linearizable == "unknown" for k in keys):
        reason = stopped or next(k.reason for k in keys if k.reason)
        return LinearizabilityResult("unknown", explain_unknown(reason), keys, reason, steps=steps)
    n_ops = sum(k.operations for k in keys)
    return LinearizabilityResult(True, explain_ok(n_ops, len(keys)), keys, steps=steps)


__all__ = ["KeyResult", "LinearizabilityResult", "OpSummary", "Verdict", "check_linearizable"]

"""Words for a linearizability violation, kept apart from the search.

The checker hands over the few operations that cannot be put in one order
(see :mod:`capsim.check.linearizable`); this module turns them into one or
two plain English sentences a student can check against the timeline. The
common shapes get a tailored sentence (a read of a value nobody wrote, a
stale read, a read that goes back in time after another read saw the newer
value); everything else gets a plain list of the operations involved.

Every sentence relies on one property of the set it is given: any write of
a value that one of the operations read is in the set. (The checker only
drops operations whose written value nobody in the set read.) That is what
lets "the only write of v0" or "nobody ever wrote v7" be true statements
about the whole history, not just about the set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from capsim.i18n import t

_NO_INITIAL = object()


@dataclass(frozen=True, slots=True)
class OpFacts:
    """What the explanation needs to know about one operation.

    ``call`` and ``ret`` are the ranks of the invoke and the completion in
    the checked order of events (``ret`` is ``None`` when the operation got no
    answer and may take effect at any time after its call, or never).
    ``value`` is the value read (read), written (write) or the pair
    ``(expected, new)`` (cas).
    """

    index: int
    process: str
    node: str | None
    f: str
    type: str
    value: Any
    start: float
    end: float
    call: int
    ret: int | None

    @property
    def acknowledged(self) -> bool:
        return self.ret is not None

    @property
    def observed(self) -> Any:
        """The value this operation found in the register (read, cas), or ``_NO_INITIAL``."""
        if self.f == "read":
            return self.value
        if self.f == "cas":
            return self.value[0]
        return _NO_INITIAL

    @property
    def produces(self) -> Any:
        """The value this operation leaves in the register, or ``_NO_INITIAL``."""
        if self.f == "write":
            return self.value
        if self.f == "cas":
            return self.value[1]
        return _NO_INITIAL


def who(process: str) -> str:
    """Jepsen processes are numbers: say ``process 3``; capsim's are names."""
    if process.lstrip("-").isdigit():
        return t("process {process}", "en", process=process)
    return process


def possessive(process: str) -> str:
    name = who(process)
    return t("{who}'", "en", who=name) if name.endswith("s") else t("{who}'s", "en", who=name)


def show_value(v: Any) -> str:
    """Strings as they are (``v1``); anything else the way JSON writes it."""
    if isinstance(v, str):
        return v
    if v is None:
        return "None"
    if isinstance(v, tuple):
        v = list(v)
    try:
        return json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(v)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _Clock:
    """Formats times with as few decimals as keep the sentence's times apart."""

    def __init__(self, times: Sequence[float]) -> None:
        finite = sorted({t for t in times if math.isfinite(t)})
        self.decimals = 2
        while self.decimals < 6 and len({f"{t:.{self.decimals}f}" for t in finite}) < len(finite):
            self.decimals += 1

    def __call__(self, t: float) -> str:
        return f"t={t:.{self.decimals}f} s"


def _on(node: str | None, prep: str) -> str:
    """`` from G2`` / `` to G1`` / `` on G1``: the optional ``{where_opt}`` clause."""
    if not node:
        return ""
    if prep == "from":
        return t(" from {node}", "en", node=node)
    if prep == "to":
        return t(" to {node}", "en", node=node)
    return t(" on {node}", "en", node=node)


def describe(op: OpFacts, clock: _Clock) -> str:
    """One operation as a clause: who did what, where, and when."""
    span = (
        t("from {start} to {end}", "en", start=clock(op.start), end=clock(op.end)[2:])
        if op.acknowledged
        else t("started at {start}, no answer", "en", start=clock(op.start))
    )
    v = show_value(op.value)
    if op.f == "read":
        return t("{who} read {value}{where_opt} ({span})", "en",
                 who=who(op.process), value=v, where_opt=_on(op.node, "from"), span=span)
    if op.f == "write":
        if op.acknowledged:
            return t("{who} wrote {value}{where_opt} ({span})", "en",
                     who=who(op.process), value=v, where_opt=_on(op.node, "to"), span=span)
        return t("{whose} write of {value}{where_opt} ({span})", "en",
                 whose=possessive(op.process), value=v, where_opt=_on(op.node, "to"), span=span)
    exp, new = op.value
    fields = {"who": who(op.process), "expected": show_value(exp), "new": show_value(new),
              "where_opt": _on(op.node, "on"), "span": span}
    if op.acknowledged:
        return t("{who} changed {expected} to {new} with compare-and-set{where_opt} ({span})",
                 "en", **fields)
    return t("{who} tried to change {expected} to {new} with compare-and-set{where_opt} ({span})",
             "en", **fields)


def _write_phrase(op: OpFacts) -> str:
    """``alice's write of v1 to G1`` / ``alice's compare-and-set from v0 to v1 on G1``."""
    if op.f == "write":
        return t("{whose} write of {value}{where_opt}", "en", whose=possessive(op.process),
                 value=show_value(op.value), where_opt=_on(op.node, "to"))
    exp, new = op.value
    return t("{whose} compare-and-set from {expected} to {new}{where_opt}", "en",
             whose=possessive(op.process), expected=show_value(exp), new=show_value(new),
             where_opt=_on(op.node, "on"))


def _start_phrase(key: str, initial: Any) -> str:
    return (
        t("{key} started with no value", "en", key=key)
        if initial is None
        else t("{key} started as {value}", "en", key=key, value=show_value(initial))
    )


def _never_written(op: OpFacts, key: str, initial: Any, clock: _Clock) -> str | None:
    if op.f == "read":
        return t("{who} read {value}{where_opt} at {time}, but no operation ever wrote "
                 "{value} ({initial})."
                 , "en", who=who(op.process), value=show_value(op.value),
                 where_opt=_on(op.node, "from"), time=clock(op.end),
                 initial=_start_phrase(key, initial))
    if op.f == "cas":
        exp, new = op.value
        return t("{whose} compare-and-set from {expected} to {new}{where_opt} succeeded at "
                 "{time}, but {key} never held {expected}: no operation wrote it ({initial}).",
                 "en", whose=possessive(op.process), expected=show_value(exp),
                 new=show_value(new), where_opt=_on(op.node, "on"), time=clock(op.end),
                 key=key, initial=_start_phrase(key, initial))
    return None


def _producers(ops: Sequence[OpFacts], v: Any) -> list[OpFacts]:
    return [o for o in ops if o.f != "read" and _same(o.produces, v)]


def _all_finished_before(writers: Sequence[OpFacts], rank: int) -> bool:
    return all(w.ret is not None and w.ret < rank for w in writers)


def _earlier_writes(writers: Sequence[OpFacts], v: Any, clock: _Clock) -> str:
    """Say that the writes of ``v`` were over before the overwriting write began."""
    if not writers:
        return ""
    if len(writers) == 1:
        w = writers[0]
        return t(" The only write of {value} ({whose}, acknowledged at {time}) had finished "
                 "before that write began.", "en", value=show_value(v),
                 whose=possessive(w.process), time=clock(w.end))
    last = max(writers, key=lambda w: w.end)
    if len(writers) == 2:
        return t(" Both writes of {value} (the last acknowledged at {time}) had finished "
                 "before that write began.", "en", value=show_value(v), time=clock(last.end))
    return t(" All {n} writes of {value} (the last acknowledged at {time}) had finished "
             "before that write began.", "en", n=len(writers), value=show_value(v),
             time=clock(last.end))


def _saw_from_start(op: OpFacts, clock: _Clock) -> str:
    """The op with the time it *began*, for arguments that rest on its start.

    ``bob read v0 from G2 at t=3.00 s`` when it began and ended at once, else
    ``bob started a read on G2 at t=3.00 s and got v0``.
    """
    if clock(op.start) == clock(op.end):
        return _saw(op, clock)
    if op.f == "read":
        return t("{who} started a read{where_opt} at {time} and got {value}", "en",
                 who=who(op.process), where_opt=_on(op.node, "on"), time=clock(op.start),
                 value=show_value(op.value))
    exp, new = op.value
    return t("{whose} compare-and-set from {expected} to {new}{where_opt}, started at {time}, "
             "succeeded", "en", whose=possessive(op.process), expected=show_value(exp),
             new=show_value(new), where_opt=_on(op.node, "on"), time=clock(op.start))


def _saw(op: OpFacts, clock: _Clock) -> str:
    """``bob read v0 from G2 at t=3.05 s`` / ``bob's compare-and-set … succeeded at …``."""
    if op.f == "read":
        return t("{who} read {value}{where_opt} at {time}", "en", who=who(op.process),
                 value=show_value(op.value), where_opt=_on(op.node, "from"), time=clock(op.end))
    exp, new = op.value
    return t("{whose} compare-and-set from {expected} to {new}{where_opt} succeeded at {time}",
             "en", whose=possessive(op.process), expected=show_value(exp), new=show_value(new),
             where_opt=_on(op.node, "on"), time=clock(op.end))


def _observers(ops: Sequence[OpFacts]) -> list[OpFacts]:
    """Acknowledged ops whose result depends on the value they found."""
    return [o for o in ops if o.ret is not None and o.f in ("read", "cas")]


def _ids(ops: Sequence[OpFacts]) -> set[int]:
    return {id(o) for o in ops}


def _stale_read(ops: Sequence[OpFacts], key: str, initial: Any, clock: _Clock) -> str | None:
    """One op saw a value that an acknowledged write had replaced before it began."""
    for r in sorted(_observers(ops), key=lambda o: -o.call):
        v = r.observed
        sources = [s for s in _producers(ops, v) if s is not r]
        if not sources and not _same(initial, v):
            continue
        if len(ops) != len(sources) + 2:
            continue  # the sentence covers exactly r, one write and the writes of v
        candidates = [
            w
            for w in ops
            if w is not r
            and w.f != "read"
            and w.ret is not None
            and w.ret < r.call
            and not _same(w.produces, v)
            and _all_finished_before(sources, w.call)
        ]
        for w in sorted(candidates, key=lambda o: -(o.ret or 0)):
            if _ids(ops) != _ids([r, w, *sources]):
                continue
            return t("{saw}, but {write} had already been acknowledged at {time}.{earlier_opt}",
                     "en", saw=_saw_from_start(r, clock), write=_write_phrase(w),
                     time=clock(w.end), earlier_opt=_earlier_writes(sources, v, clock))
    return None


def _from_the_future(ops: Sequence[OpFacts], key: str, initial: Any, clock: _Clock) -> str | None:
    """One op saw a value whose every write began only after it had finished."""
    for r in _observers(ops):
        v = r.observed
        sources = [s for s in _producers(ops, v) if s is not r]
        if not sources or _same(initial, v) or len(ops) != len(sources) + 1:
            continue
        if _ids(ops) != _ids([r, *sources]):
            continue
        done = r.ret if r.ret is not None else math.inf
        if all(s.call > done for s in sources):
            first = min(sources, key=lambda s: s.start)
            which = (
                t("the only write of {value} ({whose}{where_opt})", "en", value=show_value(v),
                  whose=possessive(first.process), where_opt=_on(first.node, "to"))
                if len(sources) == 1
                else t("every write of {value}", "en", value=show_value(v))
            )
            return t("{saw}, but {which} started only later, at {time}.", "en",
                     saw=_saw(r, clock), which=which, time=clock(first.start))
    return None


def _read_went_back(ops: Sequence[OpFacts], key: str, initial: Any, clock: _Clock) -> str | None:
    reads = [o for o in ops if o.f == "read"]
    if len(reads) != 2:
        return None
    first, second = sorted(reads, key=lambda o: o.call)
    if first.ret is None or first.ret >= second.call or _same(first.value, second.value):
        return None
    new_writers = _producers(ops, first.value)
    old_writers = _producers(ops, second.value)
    if not new_writers:
        return None
    if {id(o) for o in ops} != {id(first), id(second)} | {id(w) for w in new_writers + old_writers}:
        return None
    earliest_new = min(w.call for w in new_writers)
    if not old_writers:
        if not _same(initial, second.value):
            return None
        why = _start_phrase(key, second.value)
    elif _all_finished_before(old_writers, earliest_new):
        last_old = max(old_writers, key=lambda w: w.end)
        first_new = min(new_writers, key=lambda w: w.start)
        why = t("{value} was written first: its write ended at {time}, before {write} began "
                "at {start}", "en", value=show_value(second.value), time=clock(last_old.end),
                write=_write_phrase(first_new), start=clock(first_new.start))
    else:
        return None
    return t("{saw}, but {other} had already read the newer value {new}{other_where_opt} at "
             "{other_time} ({why}).", "en",
             saw=_saw_from_start(second, clock), other=who(first.process),
             new=show_value(first.value), other_where_opt=_on(first.node, "from"),
             other_time=clock(first.end), why=why)


def explain_violation(
    ops: Sequence[OpFacts], *, key: str, initial: Any = None, name_key: bool = False
) -> str:
    """One or two sentences saying why ``ops`` cannot be put in one order.

    ``name_key`` prefixes ``Key x:`` (used when a history has several keys).
    """
    ops = sorted(ops, key=lambda o: o.call)
    clock = _Clock([t for o in ops for t in (o.start, o.end)])
    text: str | None = None
    if len(ops) == 1:
        text = _never_written(ops[0], key, initial, clock)
    if text is None:
        text = _stale_read(ops, key, initial, clock)
    if text is None:
        text = _read_went_back(ops, key, initial, clock)
    if text is None:
        text = _from_the_future(ops, key, initial, clock)
    if text is None:
        items = t("; ", "en").join(describe(o, clock) for o in ops)
        text = t("These {n} operations on {key} cannot be put in any one-at-a-time order that "
                 "matches both what they returned and when they ran ({initial}): {items}.", "en",
                 n=len(ops), key=key, initial=_start_phrase(key, initial), items=items)
    return t("Key {key}: {text}", "en", key=key, text=text) if name_key else text


def explain_past_cap(
    *,
    key: str,
    kept: int,
    cap: int,
    fitted: int,
    last: OpFacts | None,
    broke: OpFacts | None,
    name_key: bool = False,
) -> str:
    """The shorter sentence for a witness too large to list, or none at all.

    Honest about what is known without a small witness: how many operations
    the longest order the search found fits, the last of them, and the
    operation it could not get past. ``kept`` is the witness size (0 when the
    explanation was skipped, ``explain=False``).
    """
    from capsim.i18n import t

    if kept:
        head = t(
            "{n} operations on {key} cannot be put in any one-at-a-time order that matches "
            "what they returned and when they ran; that is more than the {cap} an "
            "explanation lists.",
            None, n=kept, key=key, cap=cap,
        )
    else:
        head = t("{key} is not linearizable (explanation skipped).", None, key=key)
    shown = [o for o in (last, broke) if o is not None]
    clock = _Clock([x for o in shown for x in (o.start, o.end)])
    parts = [head]
    if broke is not None and last is not None:
        parts.append(t(
            "The longest order the checker found fits {k} operations, the last being {last}; "
            "it breaks at {op}.",
            None, k=fitted, last=describe(last, clock), op=describe(broke, clock),
        ))
    elif broke is not None:
        parts.append(t("No order can even begin: it breaks at {op}.", None,
                       op=describe(broke, clock)))
    text = " ".join(parts)
    return f"Key {key}: {text}" if name_key else text


def explain_ok(n_ops: int, n_keys: int) -> str:
    keys = t("1 key", "en") if n_keys == 1 else t("{n} keys", "en", n=n_keys)
    return t("All {n} operations ({keys}) fit one one-at-a-time order that matches what they "
             "returned and when they ran: the history is linearizable.", "en", n=n_ops, keys=keys)


def explain_unknown(reason: str) -> str:
    return t("No verdict: {reason}. The history may or may not be linearizable; give the "
             "checker a larger budget to decide.", "en", reason=reason)


__all__ = [
    "OpFacts",
    "describe",
    "explain_ok",
    "explain_past_cap",
    "explain_unknown",
    "explain_violation",
    "show_value",
    "who",
]

"""Linearizability, one event at a time: the frontier of possible register states.

The explorer cannot run the offline checker on every state it visits, and it
must not keep whole histories in states (two paths that reach the same
replicas would never merge). It keeps instead, per key, the *frontier*: the
set of configurations ``(register value, operations already linearized)``
that some linearization of the history so far can be in, where only
*open* operations (invoked, not yet answered, or ``info``) are listed — a
completed operation has been placed for good and is forgotten. Two histories
with the same frontier have the same futures, so merging them is exact.

Events update it as Jepsen's semantics say:

* **invoke**: the operation is open; it may take effect at any moment from
  now on, so the frontier is closed under applying open operations.
* **ok**: the operation must have taken effect by now (with the value it
  returned, for a read): keep the configurations where it did.
* **fail**: it certainly did not happen: keep the configurations where it
  did not.
* **info**: a write may take effect at any later time, or never: it stays
  open for ever. An info read tells nothing and is forgotten.

The history so far is linearizable exactly when the frontier is not empty
(the same verdict as :func:`capsim.check.linearizable.check_linearizable`,
which the tests check on random histories).
"""

from __future__ import annotations

from typing import Any, NamedTuple

# A configuration: (value, applied) where applied holds op ids of writes and
# (op id, value seen) pairs of reads.
Config = tuple[Any, frozenset[Any]]


class LinOp(NamedTuple):
    """What the frontier needs of one operation."""

    id: int
    f: str  # read | write | cas
    value: Any  # written value, or (expected, new) for cas


def _applied_ids(applied: frozenset[Any]) -> set[int]:
    return {a if isinstance(a, int) else a[0] for a in applied}


class KeyFrontier(NamedTuple):
    """One key's frontier and its open operations (hashable)."""

    configs: frozenset[Config]
    open: tuple[LinOp, ...]  # sorted by id

    @classmethod
    def initial(cls, value: Any) -> KeyFrontier:
        return cls(frozenset({(value, frozenset())}), ())

    def invoke(self, op: LinOp) -> KeyFrontier:
        opened = tuple(sorted((*self.open, op)))
        return KeyFrontier(_close(self.configs, opened), opened)

    def complete(self, op: LinOp, type_: str, value: Any) -> KeyFrontier:
        """``op`` ended ``type_`` (ok/fail/info) with ``value`` (the value read)."""
        configs = self.configs
        if type_ == "info" and op.f != "read":
            return self  # stays open for ever
        rest = tuple(o for o in self.open if o.id != op.id)
        out: set[Config] = set()
        if type_ == "ok":
            item: Any = (op.id, value) if op.f == "read" else op.id
            for v, applied in configs:
                if item in applied:
                    out.add((v, applied - {item}))
        elif type_ == "fail":
            for v, applied in configs:
                if op.id not in _applied_ids(applied):
                    out.add((v, applied))
        else:  # an info read: forget it
            for v, applied in configs:
                out.add((v, frozenset(a for a in applied
                                      if (a if isinstance(a, int) else a[0]) != op.id)))
        return KeyFrontier(frozenset(out), rest)


def _close(configs: frozenset[Config], open_ops: tuple[LinOp, ...]) -> frozenset[Config]:
    """Every configuration reachable by applying open operations not yet applied."""
    seen = set(configs)
    todo = list(configs)
    while todo:
        v, applied = todo.pop()
        done = _applied_ids(applied)
        for op in open_ops:
            if op.id in done:
                continue
            if op.f == "write":
                nxt: Config = (op.value, applied | {op.id})
            elif op.f == "read":
                nxt = (v, applied | {(op.id, v)})
            else:  # cas: only a successful one is linearized (a failed cas did not happen)
                if v != op.value[0]:
                    continue
                nxt = (op.value[1], applied | {op.id})
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)

"""Deliberately broken policies, for teaching: real bugs for the explorer to find.

Not in the registry (``capsim policies`` does not list them, the property
tests do not iterate over them, scenario files cannot name them); the
command line and :func:`capsim.policies.get_policy` accept their names so a
class can run ``capsim explore scenarios/abd-new-old.yaml --policy
abd-no-writeback`` and watch the checker find the bug, then replay it with
``capsim run --schedule``.
"""

from __future__ import annotations

from typing import Any

from capsim.policies.base import Effect, Reply
from capsim.policies.cp import CP, _Op


class ABDNoWriteBack(CP):
    """DELIBERATELY BROKEN: ``cp`` (ABD) whose reads skip the write-back phase.

    A read asks a majority and returns the highest version it saw, at once.
    That looks harmless — it returned the newest value it could find — but
    when a write has reached only some replicas, one read can see the new
    value and a later read, asking a different majority, the old one: a
    *new-old inversion*, which no one-at-a-time order explains. The
    write-back is what makes the first read's value stick on a majority
    before anyone is told about it.
    """

    name = "abd-no-writeback"
    summary = "TEACHING, BROKEN: ABD without the read write-back (new-old inversion)"

    def _progress(self, opid: int, op: _Op) -> list[Effect]:
        if op.phase == "query" and op.req.f == "read" and len(op.replies) >= self.majority:
            op.replies[self.node] = self.store.get(op.req.key, (None, (0, "")))
            best_v, _ = max(op.replies.values(), key=lambda r: r[1])
            del self.ops[opid]
            return [Reply(op.req.id, "ok", best_v)]
        return super()._progress(opid, op)


class ABDNoRequestIds(CP):
    """DELIBERATELY BROKEN: ``cp`` (ABD) whose coordinator does not match answers to requests.

    Replies and acks say which request they answer, and this coordinator
    ignores it: an answer counts for whichever of its operations is waiting
    in that phase. A late ack for alice's *first* write, from a replica that
    never saw her *second*, then counts as an ack for the second: it is
    acknowledged after reaching only one replica of three, and a read from
    the other two returns the older value.
    """

    name = "abd-no-request-ids"
    summary = "TEACHING, BROKEN: ABD that counts any answer for its waiting operation"

    def on_message(self, now: float, src: str, msg: dict[str, Any]) -> list[Effect]:
        if msg["t"] in ("got", "stored"):
            phase = "query" if msg["t"] == "got" else "store"
            waiting = sorted(i for i, op in self.ops.items() if op.phase == phase)
            if not waiting:
                return []
            msg = {**msg, "op": waiting[0]}
        return super().on_message(now, src, msg)


TEACHING = {ABDNoWriteBack.name: ABDNoWriteBack, ABDNoRequestIds.name: ABDNoRequestIds}
"""Broken policies a class may name on the command line (never in scenario files)."""

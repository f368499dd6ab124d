"""The record types of a run: replica traces, fault spans, messages.

They sit below everything that reads them (the checks, the plots, the
report, :class:`capsim.result.RunResult`), so those can import them without
importing each other.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class TraceEntry(NamedTuple):
    """From ``time`` on, replica ``node`` holds ``value`` for ``key``."""

    time: float
    node: str
    key: str
    value: Any


class RoleEntry(NamedTuple):
    """From ``time`` on, replica ``node`` is ``role`` in ``term`` with ``commit`` committed.

    Recorded from a policy's :class:`~capsim.policies.base.Role` observations
    (only leader-based policies such as ``raft`` make them): elections,
    step-downs and the commit index, for tables and plots.
    """

    time: float
    node: str
    role: str
    term: int
    commit: int
    leader: str | None


class Fault(NamedTuple):
    """A span of time with a fault in force.

    ``kind`` is ``partition`` (``groups`` lists the sides), ``cut`` (one-way:
    ``groups`` is ``[from, to]``) or ``crash`` (``groups`` is ``[[node]]``).
    """

    kind: str
    start: float
    end: float
    groups: list[list[str]]
    label: str


class Message(NamedTuple):
    """One message between replicas: sent, and delivered or dropped at ``end``."""

    sent: float
    src: str
    dst: str
    kind: str
    end: float
    status: str  # delivered | lost | cut | down
    value: Any = None  # the value it carries, when it carries one (drawn on its arrow)


class Mark(NamedTuple):
    """From ``time`` on, replica ``node``'s ``key`` is in state ``mark`` (None: normal).

    Recorded from a policy's :class:`~capsim.policies.base.Marked`
    observations (``lock``: ``"locked"``), for pictures only.
    """

    time: float
    node: str
    key: str
    mark: str | None


__all__ = ["Fault", "Mark", "Message", "RoleEntry", "TraceEntry"]

"""The policy registry: one line per policy.

Adding a policy is one new module and one line here; scenarios, the CLI and
the property tests (which iterate over the registry) pick it up.
"""

from __future__ import annotations

from capsim.policies.ap import AP
from capsim.policies.base import (
    Effect,
    Marked,
    Policy,
    Reply,
    Request,
    Role,
    Send,
    SetTimer,
    Stored,
)
from capsim.policies.cp import CP
from capsim.policies.lock import Lock
from capsim.policies.quorum import Quorum
from capsim.policies.raft import Raft

REGISTRY: dict[str, type[Policy]] = {
    "cp": CP,
    "ap": AP,
    "quorum": Quorum,
    "lock": Lock,
    "raft": Raft,
}


def get_policy(name: str) -> type[Policy]:
    """Look a policy up by name, with the valid names in the error."""
    try:
        return REGISTRY[name]
    except KeyError:
        from capsim.errors import CapsimError
        from capsim.policies.teaching import TEACHING

        if name in TEACHING:
            return TEACHING[name]
        raise CapsimError(
            f"unknown policy {name!r}; valid policies: {', '.join(REGISTRY)} "
            f"(deliberately broken, for teaching: {', '.join(TEACHING)})"
        ) from None


__all__ = [
    "AP",
    "CP",
    "REGISTRY",
    "Effect",
    "Lock",
    "Marked",
    "Policy",
    "Quorum",
    "Raft",
    "Reply",
    "Request",
    "Role",
    "Send",
    "SetTimer",
    "Stored",
    "get_policy",
]

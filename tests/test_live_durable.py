"""The durability hook: what a policy saves is what a restarted process gets back.

The live runtime cannot keep the policy object across a SIGKILL, so each
registered policy must survive ``durable_state`` → JSON → ``restore`` on a
fresh object with the same values and the same behaviour afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from capsim.policies import REGISTRY, Reply, Request, Send
from capsim.policies.base import Policy

NODES = ["G1", "G2", "G3"]


# Leader-based policies: classic Raft (no pre-vote, no leader stickiness), so
# that a restored node can be elected again at once in this clockless test.
PARAMS: dict[str, dict[str, Any]] = {"raft": {"pre_vote": False, "check_quorum": False}}


def _make(cls: type[Policy], node: str) -> Policy:
    return cls(node, NODES, {"x": "v0"}, cls.Params(**PARAMS.get(cls.name, {})), timeout=1.0)


def _lead(policies: dict[str, Policy], node: str) -> None:
    """Make ``node`` the leader, for policies that have one (its election timer fires)."""
    p = policies[node]
    if hasattr(p, "egen"):
        _settle(policies, node, p.on_timer(0.0, ("elect", p.egen)))


def _settle(policies: dict[str, Policy], node: str, effects: list[Any]) -> list[Reply]:
    """Deliver every message at once (a perfect network); return the client replies."""
    replies: list[Reply] = []
    queue = [(node, e) for e in effects]
    while queue:
        src, e = queue.pop(0)
        if isinstance(e, Send):
            out = policies[e.dst].on_message(0.0, src, json.loads(json.dumps(e.msg)))
            queue.extend((e.dst, x) for x in out)
        elif isinstance(e, Reply):
            replies.append(e)
    return replies


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_restored_replica_holds_what_it_acknowledged(name: str) -> None:
    cls = REGISTRY[name]
    if "write" not in cls.supports:
        pytest.skip(f"{name} offers no write")
    ps = {n: _make(cls, n) for n in NODES}
    for n, p in ps.items():
        _settle(ps, n, p.start(0.0))
    _lead(ps, "G1")
    replies = _settle(ps, "G1", ps["G1"].on_request(0.0, Request(1, "write", "x", "v1")))
    assert [r.type for r in replies] == ["ok"], replies

    saved = json.loads(json.dumps(ps["G1"].durable_state()))
    fresh = _make(cls, "G1")
    assert fresh.value_of("x") == "v0"
    fresh.restore(saved)
    assert fresh.value_of("x") == "v1"
    assert json.loads(json.dumps(fresh.durable_state())) == saved
    fresh.on_recover(1.0)

    # It keeps working after the restore: a newer write wins over the saved one.
    ps["G1"] = fresh
    _lead(ps, "G1")
    replies = _settle(ps, "G1", fresh.on_request(2.0, Request(2, "write", "x", "v2")))
    assert [r.type for r in replies] == ["ok"]
    assert fresh.value_of("x") == "v2"


def test_ap_saves_its_clock_so_a_restart_does_not_reuse_versions() -> None:
    ap = REGISTRY["ap"]
    g1 = _make(ap, "G1")
    for i in range(3):
        g1.on_request(0.0, Request(i, "write", "x", f"v{i + 1}"))
    state = json.loads(json.dumps(g1.durable_state()))
    assert state["clock"] == 3
    again = _make(ap, "G1")
    again.restore(state)
    out = again.on_request(1.0, Request(9, "write", "x", "v9"))
    sent = [e for e in out if isinstance(e, Send)]
    assert sent and sent[0].msg["ver"] == [4, "G1"]


def test_the_default_keeps_nothing_for_a_policy_without_a_store() -> None:
    class Bare(Policy):
        def on_request(self, now: float, req: Request) -> list[Any]:
            return [Reply(req.id, "ok", None)]

    b = Bare("G1", NODES, {}, Bare.Params(), timeout=1.0)
    assert b.durable_state() == {}
    b.restore({})  # a no-op, not an error

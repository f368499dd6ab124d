r"""The live protocol: JSON Lines over TCP, one object per line.

Plain JSON lines keep the protocol readable on the wire (a student can talk to
a replica with ``nc``), need nothing beyond asyncio streams, and carry the
policies' messages unchanged, since those are JSON-friendly dicts already.

Every line is one UTF-8 JSON object ending in ``\n``, at most
:data:`MAX_LINE` bytes. A replica answers each line that asks for an answer on
the same connection; requests on one connection may be pipelined (answers
carry the request's ``id``, and may come out of order).

Client → replica::

    {"type": "request", "id": 1, "f": "read",  "key": "x"}
    {"type": "request", "id": 2, "f": "write", "key": "x", "value": "v1"}
    {"type": "request", "id": 3, "f": "cas",   "key": "x", "value": ["v1", "v2"]}

Replica → client (``result`` follows Jepsen: ``ok`` happened, ``fail`` did
not happen, ``info`` unknown)::

    {"type": "reply", "id": 1, "result": "ok", "value": "v0"}
    {"type": "reply", "id": 2, "result": "fail", "value": null, "error": "G2 could not reach …"}

Other questions a replica answers::

    {"type": "health"}   → {"type": "health", "node": "G1", "policy": "ap", "values": {…}, …}
    {"type": "watch"}    → {"type": "watching", "node": "G1", "values": {"x": "v0"}}
                           then one {"type": "stored", "node": "G1", "key": "x", "value": "v1"}
                           each time the replica's copy changes
    {"type": "control", "action": "start"}            start the policy (``--hold``)
    {"type": "control", "action": "reset", "policy": "cp", "initial": {"x": "v0"},
     "params": {}, "timeout": 1.0, "speed": 1.0, "start": false}
                           a new policy object with this set-up; nothing kept
    {"type": "control", "action": "block", "to": ["G2"]}  drop what this replica sends to G2
    {"type": "control", "action": "crash"}            exit at once, like SIGKILL (no answer)
                           the others answer {"type": "control", "ok": true, …}

Replica → replica (no answer; the sender learns of a loss only by timeout)::

    {"type": "peer", "src": "G1", "kind": "replicate", "msg": {…the policy's message…}}

With a cluster secret (docs/live.md, *Security*), every ``control`` and
``peer`` line (and with ``--signed-clients`` every ``request`` and ``watch``)
also carries ``"from"``, ``"seq"`` and ``"mac"``: see :mod:`capsim.live.auth`.
Answers to ``control`` lines are signed by the replica.

A line that cannot be understood gets ``{"type": "error", "error": "…"}``
(with the ``id`` when there was one) and the connection stays open. An HTTP
``GET /health`` line gets an HTTP/1.0 answer with the health object, for
Kubernetes probes and ``curl``.
"""

from __future__ import annotations

import json
from typing import Any

MAX_LINE = 1 << 18
"""Longest line accepted (256 KiB): an anti-entropy message of a teaching map fits many
times over, and a connection can never make a replica buffer much more than this."""
MAX_ID = 200
"""Longest request id echoed back (characters of a string id, digits of a number)."""

OPS = ("read", "write", "cas")
RESULTS = ("ok", "fail", "info")


class ProtocolError(ValueError):
    """A line that is not a valid message; the text says what is wrong, for the sender."""


def encode(obj: dict[str, Any]) -> bytes:
    """One message as one line of compact JSON (never NaN or Infinity: not JSON)."""
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")


def _no_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not a JSON number; send finite numbers only")


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line into a message with a ``type``; raise ProtocolError otherwise."""
    try:
        obj = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ProtocolError("the line is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ProtocolError("the JSON is nested too deeply") from None
    except ProtocolError:
        raise
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise ProtocolError(f"not acceptable JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}")
    t = obj.get("type")
    if not isinstance(t, str):
        raise ProtocolError(
            'every message needs a "type": request, health, watch, control or peer'
        )
    return obj


def check_request(obj: dict[str, Any]) -> tuple[Any, str, str, Any]:
    """Validate a client request; return ``(id, f, key, value)``."""
    rid = obj.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (int, str)):
        raise ProtocolError('a request needs an "id" (a number or a string) to match its reply')
    if len(str(rid)) > MAX_ID:
        raise ProtocolError(f'"id" is too long (at most {MAX_ID} characters or digits)')
    f = obj.get("f")
    if f not in OPS:
        raise ProtocolError(f'"f" must be one of {", ".join(OPS)} (got {f!r})')
    key = obj.get("key")
    if not isinstance(key, str) or not key:
        raise ProtocolError(f'"key" must be a non-empty string (got {key!r})')
    value = obj.get("value")
    if f == "write":
        if "value" not in obj:
            raise ProtocolError('a write needs a "value"')
        if isinstance(value, (dict, list)):
            raise ProtocolError(f'a written "value" must be a string or a number '
                                f'(got {type(value).__name__})')
    elif f == "cas":
        if not isinstance(value, list) or len(value) != 2:
            raise ProtocolError(f'a cas needs "value": [expected, new] (got {value!r})')
        value = (value[0], value[1])
    else:
        value = None
    return rid, f, key, value


def parse_address(text: str, what: str = "address") -> tuple[str, int]:
    """``host:port`` → ``(host, port)``, with an error a user understands."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{what} {text!r} must look like HOST:PORT, e.g. 127.0.0.1:7001")
    try:
        p = int(port)
    except ValueError:
        raise ValueError(f"{what} {text!r}: port {port!r} is not a number") from None
    if not 0 <= p <= 65535:
        raise ValueError(f"{what} {text!r}: port {p} is not between 0 and 65535")
    return host.strip("[]"), p


def parse_member(text: str) -> tuple[str, tuple[str, int]]:
    """``G2=127.0.0.1:7002`` → ``("G2", ("127.0.0.1", 7002))``."""
    name, sep, addr = text.partition("=")
    if not sep or not name:
        raise ValueError(f"{text!r} must look like NAME=HOST:PORT, e.g. G2=127.0.0.1:7002")
    return name, parse_address(addr, f"address of {name}")


__all__ = [
    "MAX_ID",
    "MAX_LINE",
    "OPS",
    "RESULTS",
    "ProtocolError",
    "check_request",
    "decode",
    "encode",
    "parse_address",
    "parse_member",
]

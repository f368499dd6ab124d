"""Authenticated lines: a cluster secret, HMAC-SHA256 and a replay window.

Every replica of one cluster and its driver share one secret (``capsim live``
makes a fresh one per run; in Kubernetes it is a Secret). A line that changes
state or speaks for a peer carries three extra fields::

    {"type": "control", "action": "block", "to": ["G2"],
     "from": "driver", "seq": 1764567890123456789, "mac": "3f9c…"}

``mac`` is HMAC-SHA256 (hex) under the secret of the line's canonical JSON
without ``mac`` (keys sorted, no spaces, UTF-8), so every field, ``from`` and
``seq`` included, is covered. ``seq`` is the sender's clock in nanoseconds,
made strictly increasing per sender. A receiver accepts a ``seq`` only inside
a window of :data:`WINDOW` seconds around its own clock and only once: a
recorded line replayed later is refused (seen, or too old), and a line cannot
be prepared for the future. Messages may arrive out of order (a proxy delays
each one independently), which is why this is a window and not "greater than
the last one". The clocks of one cluster must agree to within the window
(the same machine, or NTP as every Kubernetes node runs).
"""

from __future__ import annotations

import heapq
import hmac
import json
import os
import secrets
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

from capsim.errors import CapsimError
from capsim.i18n import t

SECRET_ENV = "CAPSIM_SECRET"
"""Environment variable holding the cluster secret itself."""
SECRET_FILE_ENV = "CAPSIM_SECRET_FILE"
"""Environment variable naming a file that holds the cluster secret."""
MIN_SECRET = 16
"""Shortest secret accepted, in bytes: shorter ones can be guessed."""
WINDOW = 120.0
"""Seconds either side of the receiver's clock within which a ``seq`` is accepted."""
MAX_SEEN = 200_000
"""Sequence numbers remembered per sender; beyond it the oldest are forgotten and
everything at or below them refused (so forgetting never reopens a replay)."""


class AuthError(ValueError):
    """A line that is not authentic (no or wrong MAC, replayed, stale); said to the sender."""


def new_secret() -> str:
    """A fresh cluster secret: 32 random bytes as 64 hex digits."""
    return secrets.token_hex(32)


def load_secret(file: Path | None = None) -> bytes | None:
    """The cluster secret from ``file``, ``$CAPSIM_SECRET_FILE`` or ``$CAPSIM_SECRET``.

    Returns None when none is given; raises a CapsimError naming the source
    when one is given but unusable.
    """
    source = ""
    text: str | None = None
    path = file or (Path(os.environ[SECRET_FILE_ENV]) if os.environ.get(SECRET_FILE_ENV)
                    else None)
    if path is not None:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CapsimError(t("cannot read the secret file {path}: {reason}", path=path,
                                reason=exc.strerror or exc)) from None
    elif os.environ.get(SECRET_ENV) is not None:
        source, text = f"${SECRET_ENV}", os.environ[SECRET_ENV]
    if text is None:
        return None
    secret = text.strip().encode("utf-8")
    if len(secret) < MIN_SECRET:
        raise CapsimError(t("the secret in {source} is {n} bytes long; use at least {min} "
                            "(capsim live makes one of 64 hex digits)", source=source,
                            n=len(secret), min=MIN_SECRET))
    return secret


def canonical(obj: dict[str, Any]) -> bytes:
    """The bytes a MAC covers: the object without ``mac``, keys sorted, compact."""
    body = {k: v for k, v in obj.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def mac(secret: bytes, obj: dict[str, Any]) -> str:
    return hmac.new(secret, canonical(obj), sha256).hexdigest()


class Signer:
    """Signs lines for one sender (a node name, or ``driver``)."""

    def __init__(self, secret: bytes, sender: str) -> None:
        self.secret = secret
        self.sender = sender
        self._last = 0

    def sign(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._last = max(self._last + 1, time.time_ns())
        out = {**obj, "from": self.sender, "seq": self._last}
        out["mac"] = mac(self.secret, out)
        return out


class Verifier:
    """Checks MACs and refuses replays, remembering what each sender already used."""

    def __init__(self, secret: bytes, window: float = WINDOW, max_seen: int = MAX_SEEN,
                 not_before: int = 0) -> None:
        self.secret = secret
        self.window_ns = int(window * 1e9)
        self.max_seen = max_seen
        self.not_before = not_before
        """Refuse every seq below this (a replica passes its start time: what it saw
        before a restart is forgotten, so nothing signed before it may be replayed)."""
        self._seen: dict[str, set[int]] = {}
        self._heap: dict[str, list[int]] = {}
        self._floor: dict[str, int] = {}
        self.refused = 0

    def verify(self, obj: dict[str, Any]) -> str:
        """The sender of an authentic, fresh line; AuthError otherwise."""
        try:
            return self._verify(obj)
        except AuthError:
            self.refused += 1
            raise

    def _verify(self, obj: dict[str, Any]) -> str:
        tag, sender, seq = obj.get("mac"), obj.get("from"), obj.get("seq")
        if not isinstance(tag, str):
            raise AuthError("this message must be signed with the cluster secret "
                            '("from", "seq" and "mac"; see docs/live.md)')
        try:
            want = mac(self.secret, obj)
        except ValueError:
            raise AuthError("the message cannot be signed (not finite JSON)") from None
        if not hmac.compare_digest(tag.encode("utf-8", "replace"), want.encode("ascii")):
            raise AuthError("bad signature: the message was not signed with this "
                            "cluster's secret, or was altered")
        if not isinstance(sender, str) or isinstance(seq, bool) or not isinstance(seq, int):
            raise AuthError('a signed message needs "from" (a name) and "seq" (an integer)')
        now = time.time_ns()
        if abs(seq - now) > self.window_ns:
            raise AuthError(f"stale or future message (seq is {(seq - now) / 1e9:+.1f} s from "
                            f"this replica's clock, more than {self.window_ns / 1e9:g} s)")
        seen = self._seen.setdefault(sender, set())
        heap = self._heap.setdefault(sender, [])
        while heap and heap[0] < now - self.window_ns:
            seen.discard(heapq.heappop(heap))
        if seq < self.not_before:
            raise AuthError("replayed message: signed before this replica started")
        if seq in seen or seq <= self._floor.get(sender, 0):
            raise AuthError("replayed message: this seq was already used")
        seen.add(seq)
        heapq.heappush(heap, seq)
        while len(heap) > self.max_seen:
            old = heapq.heappop(heap)
            seen.discard(old)
            self._floor[sender] = max(self._floor.get(sender, 0), old)
        return sender


__all__ = ["MIN_SECRET", "SECRET_ENV", "SECRET_FILE_ENV", "WINDOW", "AuthError", "Signer",
           "Verifier", "canonical", "load_secret", "mac", "new_secret"]

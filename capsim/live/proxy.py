"""A fault-injection proxy for one directed link between two replicas.

Replica A's messages to B go to the proxy of link A→B, which forwards each
line to B after a delay drawn from the scenario's latency distribution
(with its own seeded generator; with a PBS latency preset, the one for the
message's kind), drops it with the link's loss
probability, or drops it because the link is cut. Each direction has its own
proxy, so a one-way cut is simply one blocked proxy, and a partition blocks
every proxy that crosses it.

Like the simulator's network, the proxy keeps a journal: one
:class:`capsim.result.Message` row per message (sent, src, dst, kind, end,
status), from which the space-time diagram is drawn. A message is dropped
when the link is cut when it is sent or when it would arrive, and is
``down`` when B cannot be reached at delivery time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from typing import Any

from capsim.distributions import Sampler
from capsim.live.protocol import MAX_LINE
from capsim.live.server import CONNECT_TIMEOUT


class LinkProxy:
    """Forwards lines from ``src`` to ``dst`` with delay, loss and cuts.

    ``clock()`` gives scenario seconds (for the journal); ``speed`` divides
    the sampled delays, which are scenario seconds too. The journal only
    records while :attr:`recording` is set, i.e. during the run proper.
    """

    def __init__(
        self,
        src: str,
        dst: str,
        *,
        latency: Sampler,
        by_kind: dict[str, Sampler] | None = None,
        loss: float,
        rng: random.Random,
        speed: float = 1.0,
        clock: Callable[[], float] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.src = src
        self.dst = dst
        self.latency = latency
        self.by_kind = by_kind
        self.loss = loss
        self.rng = rng
        self.speed = speed
        self.clock = clock if clock is not None else asyncio.get_running_loop().time
        self.on_error = on_error
        """Told when the proxy itself breaks: the run is then void, not the policy's."""
        self.upstream: tuple[str, int] | None = None
        self.blocked = False
        self.recording = True
        self.journal: list[list[Any]] = []
        self.counts = {"delivered": 0, "lost": 0, "cut": 0, "down": 0}
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._waiting: list[tuple[bytes, int]] = []
        self._handles: set[asyncio.TimerHandle] = set()
        self._conns: set[asyncio.StreamWriter] = set()
        self.address: tuple[str, int] = ("", 0)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._accept, host, port, limit=MAX_LINE)
        sock = self._server.sockets[0].getsockname()
        self.address = (str(sock[0]), int(sock[1]))
        return self.address

    async def close(self) -> None:
        for h in self._handles:
            h.cancel()
        self._handles.clear()
        if self._connecting is not None:
            self._connecting.cancel()
        if self._server is not None:
            self._server.close()
        for w in list(self._conns):
            w.close()
        self._drop_upstream()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    # --- the downstream side: what src sends ------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                self._on_line(line)
        except (ConnectionError, OSError, ValueError, asyncio.LimitOverrunError):
            pass
        except Exception as exc:  # a bug in the proxy: the run cannot be trusted
            self._broken(f"{type(exc).__name__}: {exc}")
        finally:
            self._conns.discard(writer)
            writer.close()

    def _broken(self, text: str) -> None:
        if self.on_error is not None:
            self.on_error(f"the proxy of link {self.src}->{self.dst} failed ({text})")
        else:  # pragma: no cover - a proxy used on its own
            raise RuntimeError(text)

    def _on_line(self, line: bytes) -> None:
        kind = "?"
        with contextlib.suppress(Exception):
            kind = str(json.loads(line).get("kind", "?"))
        now = self.clock()
        sample = self.latency if self.by_kind is None else self.by_kind.get(kind, self.latency)
        delay = sample(self.rng)
        idx = -1
        if self.blocked or (self.loss and self.rng.random() < self.loss):
            status = "cut" if self.blocked else "lost"
            self.counts[status] += 1
            if self.recording:
                self.journal.append([now, self.src, self.dst, kind, now + delay, status])
            return
        if self.recording:
            idx = len(self.journal)
            self.journal.append([now, self.src, self.dst, kind, now + delay, "delivered"])
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            if handle is not None:
                self._handles.discard(handle)
            try:
                self._deliver(line, idx)
            except Exception as exc:
                self._broken(f"{type(exc).__name__}: {exc}")

        handle = loop.call_later(max(0.0, delay) / self.speed, fire)
        self._handles.add(handle)

    # --- the upstream side: delivery to dst ----------------------------------------------
    def _mark(self, idx: int, status: str) -> None:
        self.counts[status] += 1
        if 0 <= idx < len(self.journal):
            self.journal[idx][5] = status
            self.journal[idx][4] = self.clock()

    def _deliver(self, line: bytes, idx: int) -> None:
        if self.blocked:
            self._mark(idx, "cut")
            return
        w = self._writer
        if w is not None and not w.is_closing():
            w.write(line)
            self._mark(idx, "delivered")
            return
        self._waiting.append((line, idx))
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        writer: asyncio.StreamWriter | None = None
        if self.upstream is not None:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(*self.upstream, limit=MAX_LINE), CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError):
                writer = None
        waiting, self._waiting = self._waiting, []
        if writer is None:
            for _, idx in waiting:
                self._mark(idx, "down")
            return
        self._writer = writer
        asyncio.get_running_loop().create_task(self._watch_close(reader, writer))
        for line, idx in waiting:
            if self.blocked:
                self._mark(idx, "cut")
            else:
                writer.write(line)
                self._mark(idx, "delivered")

    async def _watch_close(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while await reader.readline():
                pass  # a replica only writes errors on a peer connection
        if self._writer is writer:
            self._drop_upstream()

    def _drop_upstream(self) -> None:
        w, self._writer = self._writer, None
        if w is not None:
            w.close()

    def set_upstream(self, addr: tuple[str, int]) -> None:
        """Point the link at (a restarted) dst; the next message reconnects."""
        self.upstream = addr
        self._drop_upstream()


__all__ = ["LinkProxy"]

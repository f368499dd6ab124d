"""The link proxy delays, drops and cuts exactly as told (in-process, loopback only)."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from capsim.distributions import Constant
from capsim.live.proxy import LinkProxy

pytestmark = pytest.mark.timeout(60)


async def _sink() -> tuple[asyncio.Server, list[tuple[float, dict[str, Any]]]]:
    """A stand-in for replica B: records when each line arrives."""
    got: list[tuple[float, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            got.append((loop.time(), json.loads(line)))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, got


async def _send(proxy: LinkProxy, n: int, gap: float = 0.0) -> list[float]:
    _, writer = await asyncio.open_connection(*proxy.address)
    loop = asyncio.get_running_loop()
    sent = []
    for i in range(n):
        sent.append(loop.time())
        writer.write(json.dumps({"type": "peer", "src": "A", "kind": "k", "msg": {"i": i}})
                     .encode() + b"\n")
        await writer.drain()
        if gap:
            await asyncio.sleep(gap)
    await asyncio.sleep(0.05)
    writer.close()
    return sent


def _proxy(latency: float, loss: float = 0.0, speed: float = 1.0, seed: int = 1) -> LinkProxy:
    return LinkProxy("A", "B", latency=Constant(dist="constant", value=latency).sampler(),
                     loss=loss, rng=random.Random(seed), speed=speed)


def test_each_message_is_delayed_by_the_latency_scaled_by_speed() -> None:
    async def main() -> list[float]:
        server, got = await _sink()
        proxy = _proxy(0.4, speed=2.0)  # 0.4 scenario seconds = 0.2 wall seconds
        await proxy.start()
        proxy.set_upstream(server.sockets[0].getsockname()[:2])
        sent = await _send(proxy, 5, gap=0.01)
        await asyncio.sleep(0.3)
        await proxy.close()
        server.close()
        assert [m["msg"]["i"] for _, m in got] == [0, 1, 2, 3, 4]
        assert [row[5] for row in proxy.journal] == ["delivered"] * 5
        return [t - s for (t, _), s in zip(got, sent, strict=True)]

    delays = asyncio.run(main())
    assert all(0.19 <= d < 0.35 for d in delays), delays


def test_loss_drops_the_seeded_share_and_journals_it() -> None:
    async def main(seed: int) -> tuple[int, list[str]]:
        server, got = await _sink()
        proxy = _proxy(0.0, loss=0.3, seed=seed)
        await proxy.start()
        proxy.set_upstream(server.sockets[0].getsockname()[:2])
        await _send(proxy, 200)
        await asyncio.sleep(0.1)
        await proxy.close()
        server.close()
        return len(got), [row[5] for row in proxy.journal]

    n1, statuses1 = asyncio.run(main(7))
    n2, statuses2 = asyncio.run(main(7))
    assert statuses1 == statuses2  # seeded: the same messages are lost
    assert statuses1.count("lost") == 200 - n1
    assert 35 <= 200 - n1 <= 85  # about 30% of 200
    assert n1 == n2


def test_a_cut_link_delivers_nothing_and_a_heal_restores_it() -> None:
    async def main() -> tuple[int, int, list[str]]:
        server, got = await _sink()
        proxy = _proxy(0.0)
        await proxy.start()
        proxy.set_upstream(server.sockets[0].getsockname()[:2])
        proxy.blocked = True
        await _send(proxy, 10)
        during = len(got)
        proxy.blocked = False
        await _send(proxy, 3)
        await asyncio.sleep(0.05)
        await proxy.close()
        server.close()
        return during, len(got), [row[5] for row in proxy.journal]

    during, total, statuses = asyncio.run(main())
    assert during == 0
    assert total == 3
    assert statuses == ["cut"] * 10 + ["delivered"] * 3


def test_a_message_for_an_unreachable_replica_is_journaled_down() -> None:
    async def main() -> list[str]:
        server, _ = await _sink()
        addr = server.sockets[0].getsockname()[:2]
        server.close()
        await server.wait_closed()  # B is gone: nothing listens there any more
        proxy = _proxy(0.0)
        await proxy.start()
        proxy.set_upstream(addr)
        await _send(proxy, 2)
        await asyncio.sleep(0.1)
        await proxy.close()
        return [row[5] for row in proxy.journal]

    assert asyncio.run(main()) == ["down", "down"]

"""How fast is live mode on loopback? Prints figures; not a test.

1. Throughput: requests per second one ``ap`` replica (a real ``capsim serve``
   process, no peers) answers, with C client connections each keeping W
   requests in flight (JSON Lines, pipelined), reads and writes half and half.
   Also the round trip of one request at a time (no pipelining).
2. Proxy overhead: the one-way delay of a peer message sent straight to a
   receiver, and through a :class:`~capsim.live.proxy.LinkProxy` set to zero
   latency; the difference is what the proxy adds (median and p99).

Everything stays on 127.0.0.1 and every loop is bounded in count and time.
Run: ``python benchmarks/bench_live.py [--requests 20000] [--messages 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time

from capsim.distributions import Constant
from capsim.live.auth import new_secret
from capsim.live.protocol import encode
from capsim.live.proxy import LinkProxy


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def start_replica() -> tuple[subprocess.Popen[bytes], tuple[str, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "capsim", "serve", "--node", "G1", "--listen", "127.0.0.1:0",
         "--policy", "ap", "--initial", "x=v0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True, env={**os.environ, "CAPSIM_SECRET": new_secret()})
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    host, _, port = info["listen"].rpartition(":")
    return proc, (host, int(port))


async def throughput(addr: tuple[str, int], total: int, conns: int, window: int,
                     limit_s: float) -> tuple[float, int]:
    per = total // conns
    deadline = time.perf_counter() + limit_s

    async def client(c: int) -> int:
        reader, writer = await asyncio.open_connection(*addr)
        sent = done = 0
        while done < per and time.perf_counter() < deadline:
            while sent < per and sent - done < window:
                sent += 1
                if sent % 2:
                    msg = {"type": "request", "id": sent, "f": "read", "key": "x"}
                else:
                    msg = {"type": "request", "id": sent, "f": "write", "key": "x",
                           "value": f"c{c}v{sent}"}
                writer.write(encode(msg))
            await writer.drain()
            line = await reader.readline()
            assert json.loads(line)["result"] == "ok"
            done += 1
        writer.close()
        return done

    t = time.perf_counter()
    counts = await asyncio.gather(*(client(c) for c in range(conns)))
    elapsed = time.perf_counter() - t
    return sum(counts) / elapsed, sum(counts)


async def round_trips(addr: tuple[str, int], n: int) -> list[float]:
    reader, writer = await asyncio.open_connection(*addr)
    out = []
    for i in range(n):
        t = time.perf_counter()
        writer.write(encode({"type": "request", "id": i, "f": "read", "key": "x"}))
        await reader.readline()
        out.append(time.perf_counter() - t)
    writer.close()
    return out


async def proxy_overhead(n: int) -> tuple[list[float], list[float]]:
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[float] = asyncio.Queue()

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline():
            arrived.put_nowait(loop.time())
        writer.close()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    sink_addr = server.sockets[0].getsockname()[:2]
    proxy = LinkProxy("A", "B", latency=Constant(dist="constant", value=0.0).sampler(),
                      loss=0.0, rng=random.Random(1))
    proxy.recording = False
    await proxy.start()
    proxy.set_upstream(sink_addr)
    line = encode({"type": "peer", "src": "A", "kind": "replicate",
                   "msg": {"t": "put", "key": "x", "value": "v1", "ver": [1, "A"]}})

    async def one_way(addr: tuple[str, int]) -> list[float]:
        _, writer = await asyncio.open_connection(*addr)
        out = []
        for _ in range(n):
            t = loop.time()
            writer.write(line)
            out.append(await arrived.get() - t)
        writer.close()
        return out

    direct = await one_way(sink_addr)
    proxied = await one_way(proxy.address)
    await proxy.close()
    server.close()
    return direct, proxied


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--messages", type=int, default=2000)
    args = ap.parse_args()

    proc, addr = start_replica()
    try:
        rate, done = asyncio.run(throughput(addr, args.requests, args.conns, args.window, 30.0))
        rtt = asyncio.run(round_trips(addr, 1000))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    print(f"ap replica, loopback: {rate:,.0f} requests/s "
          f"({done} requests, {args.conns} connections x {args.window} in flight)")
    print(f"  one request at a time: median {statistics.median(rtt) * 1e3:.3f} ms, "
          f"p99 {_pct(rtt, 0.99) * 1e3:.3f} ms round trip")

    direct, proxied = asyncio.run(proxy_overhead(args.messages))
    added = [p - d for p, d in zip(sorted(proxied), sorted(direct), strict=True)]
    print(f"peer message one-way, {args.messages} messages:")
    print(f"  direct      median {statistics.median(direct) * 1e3:.3f} ms, "
          f"p99 {_pct(direct, 0.99) * 1e3:.3f} ms")
    print(f"  via proxy   median {statistics.median(proxied) * 1e3:.3f} ms, "
          f"p99 {_pct(proxied, 0.99) * 1e3:.3f} ms")
    print(f"  proxy adds  median {statistics.median(added) * 1e3:.3f} ms, "
          f"p99 {_pct(added, 0.99) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()

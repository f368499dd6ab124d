"""One replica as a real server: the simulator's policy object behind a TCP port.

This is the second runtime of DESIGN.md's sans-I/O policies. It does for a
socket what :mod:`capsim.sim.engine` does for SimPy: hand the policy each event
(a client request, a peer message, a timer) with the current time, and carry
out the effects it returns: send a peer message over TCP, answer a client,
start a timer on the event loop. The policy code is the very same.

Durability is what makes a crash real: before any effect leaves the replica
(a reply, a message), the policy's ``durable_state()`` is written to
``--data DIR`` atomically when it changed, so a process killed with SIGKILL
and started again on the same folder holds what it had acknowledged.

Time: policies see scenario seconds. With ``speed`` K a timer of d seconds
fires after d/K wall seconds, so a scenario can be replayed K times faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from capsim.errors import CapsimError
from capsim.live.auth import AuthError, Signer, Verifier
from capsim.live.protocol import MAX_ID, MAX_LINE, ProtocolError, check_request, decode, encode
from capsim.policies import Marked, Reply, Request, Role, Send, SetTimer, Stored, get_policy
from capsim.policies.base import Policy, node_rng

STATE_FILE = "state.json"
CONNECT_TIMEOUT = 0.5
"""Wall seconds to wait for a peer's TCP connection before dropping what was queued for it."""
MAX_QUEUE = 10_000
"""Messages kept for one peer while its connection is (re)opened; older ones are dropped
(and counted in ``health``'s ``dropped``)."""
MAX_CONNS = 64
"""Connections a replica holds open at once; more are refused with an error line."""
IDLE_TIMEOUT = 60.0
"""Wall seconds a connection that has not authenticated may take to send a whole line."""
HIGH_WATER = 256 * 1024
"""Bytes of answers queued for one connection before the replica stops reading from it."""
MAX_OUTBOX = 1 << 20
"""Bytes of answers queued for one connection before the replica drops the connection."""
DRAIN_TIMEOUT = 5.0
"""Wall seconds a connection may leave its queued answers unread before it is dropped."""


@dataclass
class ServerConfig:
    """Everything one replica needs to know; built by ``capsim serve`` or by the driver."""

    node: str
    peers: dict[str, tuple[str, int]]
    policy: str = "cp"
    nodes: list[str] = field(default_factory=list)
    """Every node of the cluster in scenario order (default: this node and its peers, sorted)."""
    initial: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    timeout: float = 1.0
    """The clients' timeout in scenario seconds (cp gives up at a fraction of it)."""
    speed: float = 1.0
    data: Path | None = None
    hold: bool = False
    """Wait for a ``start`` control message before starting the policy (the driver's t=0)."""
    seed: int = 0
    """The run's seed: the policy's own generator is seeded from it and the node's name,
    as in the simulator (``raft`` draws its election timeouts from it)."""
    self_link: tuple[str, int] | None = None
    """Where this replica's messages to itself go (a driver's proxy, to delay them like
    the simulator does); without one they are handed back at once."""
    secret: bytes | None = None
    """The cluster secret: peer and control lines must be signed with it (docs/live.md).
    None (``capsim serve --insecure``) accepts anything, as in a classroom on one laptop."""
    client_auth: bool = False
    """Client requests and watches must be signed too (not only peer and control lines)."""
    max_conns: int = MAX_CONNS
    idle_timeout: float = IDLE_TIMEOUT

    def __post_init__(self) -> None:
        if self.node in self.peers:
            raise CapsimError(f"node {self.node!r} is listed as its own peer")
        if not self.nodes:
            self.nodes = sorted([self.node, *self.peers])
        missing = [n for n in [self.node, *self.peers] if n not in self.nodes]
        if missing:
            raise CapsimError(f"nodes {missing} are not in the cluster {self.nodes}")
        if self.speed <= 0:
            raise CapsimError(f"speed must be positive (got {self.speed})")
        if not math.isfinite(self.timeout) or self.timeout <= 0:
            raise CapsimError(f"timeout must be positive (got {self.timeout})")
        if not math.isfinite(self.speed):
            raise CapsimError(f"speed must be a finite number (got {self.speed})")
        if self.client_auth and self.secret is None:
            raise CapsimError("signed client requests need a cluster secret")


def build_policy(cfg: ServerConfig) -> Policy:
    """The policy object, exactly as the simulator builds it for one node."""
    cls = get_policy(cfg.policy)
    try:
        params = cls.Params.model_validate(cfg.params)
    except Exception as exc:
        raise CapsimError(f"bad parameters for policy {cfg.policy!r}: {exc}") from None
    return cls(cfg.node, cfg.nodes, cfg.initial, params, timeout=cfg.timeout,
               rng=node_rng(cfg.seed, cfg.node))


def load_state(data: Path, node: str) -> dict[str, Any] | None:
    """What ``data`` holds: ``{"node", "config", "state"}``, or None on a first start.

    ``config`` is the policy set-up the state belongs to (policy, params,
    initial, timeout, speed): a replica restarted on this folder comes back
    as it was, even when a driver had reconfigured it with ``reset``.
    """
    path = data / STATE_FILE
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CapsimError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); "
                          "remove the file to start this replica afresh") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) \
            or not isinstance(saved.get("config"), dict):
        raise CapsimError(f'{path}: expected {{"node", "config", "state"}}; '
                          "remove the file to start this replica afresh")
    if saved.get("node") != node:
        raise CapsimError(f"{path} holds the state of node {saved.get('node')!r}, not {node!r}; "
                          "give each replica its own --data folder")
    return saved


def write_durable(path: Path, text: str) -> None:
    """Replace ``path`` atomically and durably: temp file, fsync, rename, fsync the folder.

    A replica acknowledges a write only after this returns, so a power cut (not
    only a SIGKILL) must not lose or tear the file.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(text.encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class _PeerLink:
    """The outgoing connection to one peer: a queue drained by one task.

    A message for a peer that cannot be reached is dropped, as a network
    would drop it; the policy learns of it only by its own timeouts.
    """

    def __init__(self, name: str, addr: tuple[str, int]) -> None:
        self.name = name
        self.addr = addr
        self.queue: deque[bytes] = deque(maxlen=MAX_QUEUE)
        self.wake = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None
        self.sent = 0
        self.dropped = 0
        self.task = asyncio.get_running_loop().create_task(self._run())

    def send(self, line: bytes) -> None:
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1  # the oldest is evicted: count it as a loss
        self.queue.append(line)
        self.wake.set()

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                w = self.writer
                if w is None or w.is_closing():
                    w = await self._connect()
                    if w is None:
                        self.dropped += len(self.queue)
                        self.queue.clear()
                        break
                while self.queue:
                    w.write(self.queue.popleft())
                    self.sent += 1
                try:
                    await asyncio.wait_for(w.drain(), DRAIN_TIMEOUT)
                except (ConnectionError, OSError, asyncio.TimeoutError):
                    self._drop_writer()

    async def _connect(self) -> asyncio.StreamWriter | None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(*self.addr, limit=MAX_LINE), CONNECT_TIMEOUT
            )
        except (OSError, asyncio.TimeoutError):
            return None
        self.writer = writer
        asyncio.get_running_loop().create_task(self._watch_close(reader, writer))
        return writer

    async def _watch_close(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        """Notice the far end closing (it never sends us anything else but errors)."""
        with contextlib.suppress(Exception):
            while await reader.readline():
                pass
        if self.writer is writer:
            self._drop_writer()

    def _drop_writer(self) -> None:
        w, self.writer = self.writer, None
        if w is not None:
            w.close()

    def reconnect(self) -> None:
        """Open a fresh connection for the next message."""
        self._drop_writer()

    def close(self) -> None:
        self.task.cancel()
        self._drop_writer()


class _Pending:
    __slots__ = ("client_id", "timer", "writer")

    def __init__(self, writer: asyncio.StreamWriter, client_id: Any,
                 timer: asyncio.TimerHandle) -> None:
        self.writer = writer
        self.client_id = client_id
        self.timer = timer


class Replica:
    """One replica: a policy, its peers, its clients and its durable state."""

    def __init__(self, cfg: ServerConfig, log: TextIO | None = None) -> None:
        self.cfg = cfg
        self.log = log if log is not None else sys.stderr
        self.restored = False
        saved = None
        if cfg.data is not None:
            cfg.data.mkdir(parents=True, exist_ok=True)
            saved = load_state(cfg.data, cfg.node)
        if saved is not None:
            conf = saved["config"]
            mine = self._config()
            if any(conf.get(k) != v for k, v in mine.items()):
                print(f"{cfg.node}: restoring the set-up saved in {cfg.data} "
                      f"(policy {conf.get('policy')!r}); remove it to start afresh", file=self.log)
            self._configure(conf)
        self.policy = build_policy(cfg)
        self._t0_wall: float | None = None
        """Unix time of the policy's scenario time 0; durable, so a restarted process's
        clock carries on where the cluster's is instead of starting at 0 again."""
        if saved is not None:
            try:
                self.policy.restore(saved["state"])
            except Exception as exc:
                raise CapsimError(
                    f"{Path(str(cfg.data)) / STATE_FILE}: the saved state does not fit policy "
                    f"{cfg.policy!r} ({type(exc).__name__}: {exc}); "
                    "remove the file to start this replica afresh") from None
            t0 = saved.get("t0")
            self._t0_wall = float(t0) if isinstance(t0, (int, float)) \
                and math.isfinite(t0) else None
            self.restored = True
        self.keys: set[str] = set(cfg.initial)
        self.keys.update(self.policy.durable_state().get("store", {}))
        self._saved = ""
        self.epoch = 0
        self.started = False
        self.blocked: set[str] = set()
        self.pending: dict[int, _Pending] = {}
        self.watchers: set[asyncio.StreamWriter] = set()
        self.conns: set[asyncio.StreamWriter] = set()
        self._idle: dict[asyncio.StreamWriter, float] = {}
        """When each connection that has not authenticated last finished a line."""
        self.links: dict[str, _PeerLink] = {}
        self.requests = 0
        self.errors = 0
        self.evicted = 0
        """Answers dropped because their connection did not read them (then dropped too)."""
        self.timed_out = 0
        """Connections closed because they sent no complete line within the idle timeout."""
        self.refused = 0
        """Connections refused because :attr:`ServerConfig.max_conns` were open."""
        self.signer = Signer(cfg.secret, cfg.node) if cfg.secret is not None else None
        self.verifier = Verifier(cfg.secret, not_before=time.time_ns()) \
            if cfg.secret is not None else None
        self._next = 0
        self._t0 = 0.0
        self._boot = time.time()
        self.stopped = asyncio.Event()
        self.address: tuple[str, int] = ("", 0)

    # --- clock and durability ----------------------------------------------------
    def now(self) -> float:
        """Scenario seconds since the policy started."""
        return (asyncio.get_running_loop().time() - self._t0) * self.cfg.speed

    def _config(self) -> dict[str, Any]:
        c = self.cfg
        return {"policy": c.policy, "params": c.params, "initial": c.initial,
                "timeout": c.timeout, "speed": c.speed}

    def _configure(self, conf: Mapping[str, Any]) -> None:
        """Adopt a saved or requested set-up (validated: it may come off the wire)."""
        c = self.cfg
        policy = conf.get("policy", c.policy)
        params = conf.get("params", {})
        initial = conf.get("initial", {})
        if not isinstance(policy, str) or not isinstance(params, dict) \
                or not isinstance(initial, dict):
            raise ProtocolError('"policy" must be a name, "params" and "initial" JSON objects')
        t_in, s_in = conf.get("timeout", c.timeout), conf.get("speed", c.speed)
        if isinstance(t_in, bool) or isinstance(s_in, bool) \
                or not isinstance(t_in, (int, float)) or not isinstance(s_in, (int, float)):
            raise ProtocolError('"timeout" and "speed" must be numbers')
        timeout, speed = float(t_in), float(s_in)
        if not (math.isfinite(timeout) and math.isfinite(speed)) or timeout <= 0 or speed <= 0:
            raise ProtocolError('"timeout" and "speed" must be positive finite numbers')
        c.policy, c.params, c.initial, c.timeout, c.speed = policy, params, initial, timeout, speed

    def _persist(self) -> None:
        if self.cfg.data is None:
            return
        text = json.dumps({"config": self._config(), "state": self.policy.durable_state(),
                           "t0": self._t0_wall}, sort_keys=True, ensure_ascii=False)
        if text == self._saved:
            return
        doc = {"node": self.cfg.node, **json.loads(text)}
        write_durable(self.cfg.data / STATE_FILE, json.dumps(doc, ensure_ascii=False) + "\n")
        self._saved = text

    def reset(self, conf: Mapping[str, Any]) -> None:
        """Start afresh with a new set-up: a new policy object, nothing durable kept.

        Timers of the old policy are ignored (the epoch changes), requests in
        flight are answered ``info``: it is as if the replica were replaced.
        """
        old = self._config()
        self._configure(conf)
        try:
            policy = build_policy(self.cfg)
        except CapsimError as exc:
            self._configure(old)
            raise ProtocolError(str(exc)) from None
        self.epoch += 1
        for rid in sorted(self.pending):
            self._answer(rid, "info", None, f"{self.cfg.node} was reset")
        self.policy = policy
        self.keys = set(self.cfg.initial)
        self.blocked = set()
        for link in self.links.values():
            link.reconnect()  # new connections: a NetworkPolicy applied since then holds
        self.started = False
        self.restored = False
        self._t0_wall = None
        self._saved = ""
        self._persist()

    # --- effects -------------------------------------------------------------------
    def _apply(self, effects: Sequence[Any]) -> None:
        self._persist()  # nothing leaves the replica before what it implies is durable
        loop = asyncio.get_running_loop()
        for e in effects:
            cls = type(e)
            if cls is Send:
                if e.dst == self.cfg.node and e.dst not in self.links:
                    # A message to itself (a client-side coordinator's): never cut.
                    loop.call_soon(self._from_peer, self.cfg.node, json.loads(json.dumps(e.msg)))
                    continue
                if e.dst in self.blocked or e.dst not in self.links:
                    continue
                self.links[e.dst].send(encode(self._sign(
                    {"type": "peer", "src": self.cfg.node, "kind": e.kind, "msg": e.msg})))
            elif cls is Reply:
                self._answer(e.request, e.type, e.value, e.error)
            elif cls is SetTimer:
                loop.call_later(e.delay / self.cfg.speed, self._timer, self.epoch, e.token)
            elif cls is Stored:
                self.keys.add(e.key)
                line = encode({"type": "stored", "node": self.cfg.node, "key": e.key,
                               "value": e.value})
                for w in list(self.watchers):
                    if w.is_closing():
                        self.watchers.discard(w)
                    else:
                        self._send(w, line)
            elif cls is Role:
                line = encode({"type": "role", "node": self.cfg.node, "role": e.role,
                               "term": e.term, "commit": e.commit, "leader": e.leader})
                for w in list(self.watchers):
                    if w.is_closing():
                        self.watchers.discard(w)
                    else:
                        self._send(w, line)
            elif cls is Marked:
                pass  # an observation for pictures; live runs do not record it
            else:  # pragma: no cover - a policy bug
                raise TypeError(f"policy returned {e!r}, which is not an effect")

    def _call(self, what: str, fn: Callable[[], Sequence[Any]]) -> bool:
        """Run one policy handler; a policy error is logged, not fatal to the replica."""
        try:
            effects = fn()
        except Exception as exc:  # a bad peer message must not take the replica down
            self.errors += 1
            print(f"{self.cfg.node}: {what} failed: {type(exc).__name__}: {exc}", file=self.log)
            return False
        self._apply(effects)
        return True

    def _timer(self, epoch: int, token: Any) -> None:
        if epoch == self.epoch:
            self._call("timer", lambda: self.policy.on_timer(self.now(), token))

    def _answer(self, rid: int, result: str, value: Any, error: str | None) -> None:
        p = self.pending.pop(rid, None)
        if p is None:
            return  # the request already timed out
        p.timer.cancel()
        msg: dict[str, Any] = {"type": "reply", "id": p.client_id, "result": result,
                               "value": list(value) if isinstance(value, tuple) else value}
        if error is not None:
            msg["error"] = error
        self._send(p.writer, encode(msg))

    def _expire(self, rid: int) -> None:
        self._answer(rid, "info", None,
                     f"no answer from {self.cfg.node} within the {self.cfg.timeout:g} s timeout")

    # --- lifecycle -----------------------------------------------------------------
    def start_policy(self) -> None:
        if self.started:
            return
        self.started = True
        loop = asyncio.get_running_loop()
        if self.restored and self._t0_wall is not None:
            # Back after a crash: the cluster's clock went on while this process was
            # dead. Restarting it at 0 would make a quorum's hybrid clock (and any
            # policy timing) go backwards, so its writes would lose to older ones.
            self._t0 = loop.time() - max(0.0, time.time() - self._t0_wall)
        else:
            self._t0 = loop.time()
            self._t0_wall = time.time()
        now = self.now()
        if self.restored:
            self._call("recover", lambda: self.policy.on_recover(now))
        else:
            self._call("start", lambda: self.policy.start(now))

    async def serve(self, host: str, port: int,
                    ready: Callable[[Replica], None] | None = None) -> None:
        """Listen until :attr:`stopped` is set (SIGTERM, a lifeline EOF, or a test)."""
        self.links = {n: _PeerLink(n, a) for n, a in self.cfg.peers.items()}
        if self.cfg.self_link is not None:
            self.links[self.cfg.node] = _PeerLink(self.cfg.node, self.cfg.self_link)
        server = await asyncio.start_server(self._handle, host, port, limit=MAX_LINE)
        sock = server.sockets[0].getsockname()
        self.address = (str(sock[0]), int(sock[1]))
        sweeper = asyncio.get_running_loop().create_task(self._sweep_idle())
        try:
            if not self.cfg.hold:
                self.start_policy()
            if ready is not None:
                ready(self)
            await self.stopped.wait()
        finally:
            sweeper.cancel()
            server.close()
            for link in self.links.values():
                link.close()
            for w in list(self.conns):
                w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)
            self._persist()

    # --- connections ---------------------------------------------------------------
    def _sign(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.signer.sign(obj) if self.signer is not None else obj

    def _send(self, writer: asyncio.StreamWriter, line: bytes) -> None:
        """Queue ``line`` for a connection, unless it already holds too much unread.

        A client that pipelines requests and never reads its answers would
        otherwise grow this process without end: past :data:`MAX_OUTBOX`
        queued bytes the answer is evicted (counted) and the connection closed.
        """
        if writer.is_closing():
            return
        transport = writer.transport
        if transport.get_write_buffer_size() + len(line) > MAX_OUTBOX:
            self.evicted += 1
            transport.abort()
            return
        writer.write(line)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.conns) >= self.cfg.max_conns:
            self.refused += 1
            self._error(writer, f"too many connections ({self.cfg.max_conns}); try again later")
            writer.close()
            return
        self.conns.add(writer)
        loop = asyncio.get_running_loop()
        self._idle[writer] = loop.time()
        first = True
        trusted = False  # a connection that sent a signed line waits as long as it likes
        try:
            while not self.stopped.is_set():
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    line = exc.partial  # the last line without its newline, or EOF
                    if line.strip() and not writer.is_closing():
                        self._on_line(line, writer)
                    break
                except asyncio.LimitOverrunError:
                    self._error(writer, f"line longer than {MAX_LINE} bytes; closing")
                    break
                if first and line.startswith(b"GET "):
                    await self._http(reader, writer, line)
                    break
                first = False
                if line.strip():
                    trusted = self._on_line(line, writer) or trusted
                if trusted or writer in self.watchers:
                    self._idle.pop(writer, None)
                else:
                    self._idle[writer] = loop.time()
                if writer.transport.get_write_buffer_size() > HIGH_WATER:
                    # Back-pressure: read nothing more until the client reads its answers.
                    try:
                        await asyncio.wait_for(writer.drain(), DRAIN_TIMEOUT)
                    except asyncio.TimeoutError:
                        self.evicted += 1
                        break
        except (ConnectionError, OSError):
            pass
        finally:
            self.conns.discard(writer)
            self._idle.pop(writer, None)
            self.watchers.discard(writer)
            for rid in [r for r, p in self.pending.items() if p.writer is writer]:
                self.pending.pop(rid).timer.cancel()
            writer.close()

    async def _sweep_idle(self) -> None:
        """Close connections that have not finished a line within the idle timeout.

        One sweep a second (or faster for short timeouts) instead of a timeout
        per line: a line then costs a clock read, not a task.
        """
        loop = asyncio.get_running_loop()
        idle = self.cfg.idle_timeout
        while True:
            await asyncio.sleep(min(1.0, idle / 4))
            now = loop.time()
            for w, since in list(self._idle.items()):
                if now - since > idle:
                    del self._idle[w]
                    self.timed_out += 1
                    self._error(w, f"no complete line within {idle:g} s; closing")
                    w.close()

    def _error(self, writer: asyncio.StreamWriter, text: str, rid: Any = None) -> None:
        self.errors += 1
        msg: dict[str, Any] = {"type": "error", "error": text}
        if rid is not None:
            msg["id"] = rid
        self._send(writer, encode(msg))

    def _authentic(self, obj: dict[str, Any], t: str) -> bool:
        """Check the signature a line of type ``t`` needs; True if it was signed.

        Peer and control lines change state or speak for a peer, so they must
        be signed whenever the replica has a secret; requests and watches only
        with ``client_auth``. Health is always open (probes, ``curl``).
        """
        if self.verifier is None:
            return False
        needed = t in ("peer", "control") or (t in ("request", "watch") and self.cfg.client_auth)
        if needed or "mac" in obj:
            try:
                sender = self.verifier.verify(obj)
            except AuthError as exc:
                raise ProtocolError(f"refused: {exc}") from None
            if t == "peer" and sender != obj.get("src"):
                raise ProtocolError(f"refused: a peer message from {obj.get('src')!r} "
                                    f"signed by {sender!r}")
            return True
        return False

    def _on_line(self, line: bytes, writer: asyncio.StreamWriter) -> bool:
        """Handle one line; True if it was authenticated with the cluster secret."""
        try:
            obj = decode(line)
        except ProtocolError as exc:
            self._error(writer, str(exc))
            return False
        t = obj["type"]
        rid = obj.get("id")
        if not isinstance(rid, (int, str)) or isinstance(rid, bool) or len(str(rid)) > MAX_ID:
            rid = None
        try:
            signed = self._authentic(obj, t)
            if t == "request":
                self._on_request(obj, writer)
            elif t == "peer":
                self._on_peer(obj)
            elif t == "health":
                self._send(writer, encode(self.health()))
            elif t == "watch":
                self.watchers.add(writer)
                self._send(writer, encode({"type": "watching", "node": self.cfg.node,
                                           "values": self.values()}))
            elif t == "control":
                self._on_control(obj, writer)
            else:
                raise ProtocolError(
                    f"unknown type {t!r}; valid types: request, health, watch, control, peer")
        except ProtocolError as exc:
            self._error(writer, str(exc), rid)
            return False
        return signed

    def _on_request(self, obj: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        client_id, f, key, value = check_request(obj)
        self.requests += 1
        if not self.started:
            self._send(writer, encode({"type": "reply", "id": client_id, "result": "fail",
                                       "value": None,
                                       "error": f"{self.cfg.node} has not started"}))
            return
        self._next += 1
        rid = self._next
        timer = asyncio.get_running_loop().call_later(
            self.cfg.timeout / self.cfg.speed, self._expire, rid)
        self.pending[rid] = _Pending(writer, client_id, timer)
        req = Request(rid, f, key, value)
        if not self._call(f"request {client_id}", lambda: self.policy.on_request(self.now(), req)):
            self._answer(rid, "fail", None, f"{self.cfg.node} could not process the request")

    def _on_peer(self, obj: dict[str, Any]) -> None:
        src, msg = obj.get("src"), obj.get("msg")
        if src not in self.cfg.peers and src != self.cfg.node:
            raise ProtocolError(
                f"peer message from {src!r}, which is not a peer of {self.cfg.node} "
                f"(peers: {', '.join(self.cfg.peers) or 'none'})")
        if not isinstance(msg, dict):
            raise ProtocolError('a peer message needs "msg": {…}')
        self._from_peer(str(src), msg)

    def _from_peer(self, src: str, msg: dict[str, Any]) -> None:
        if not self.started:
            return  # not booted yet: as if it arrived before the process
        self._call(f"message from {src}", lambda: self.policy.on_message(self.now(), src, msg))

    def _on_control(self, obj: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        action = obj.get("action")
        if action == "start":
            self.start_policy()
        elif action == "reset":
            self.reset(obj)
            if obj.get("start"):
                self.start_policy()
        elif action == "block":
            to = obj.get("to")
            if not isinstance(to, list) or not all(isinstance(n, str) for n in to):
                raise ProtocolError('"block" needs "to": a list of node names ([] heals)')
            unknown = [n for n in to if n not in self.cfg.peers]
            if unknown:
                raise ProtocolError(f"cannot block {unknown}: not peers of {self.cfg.node}")
            self.blocked = set(to)
        elif action == "crash":
            print(f"{self.cfg.node}: crash requested; exiting at once", file=self.log)
            self.log.flush()
            os._exit(137)
        else:
            raise ProtocolError(
                f"unknown control action {action!r}; valid: start, reset, block, crash")
        self._send(writer, encode(self._sign({"type": "control", "ok": True, "action": action,
                                              "node": self.cfg.node, "started": self.started,
                                              "blocked": sorted(self.blocked)})))

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    first: bytes) -> None:
        """Answer ``GET /health`` like a tiny HTTP/1.0 server, for probes and curl."""
        with contextlib.suppress(Exception):
            while (await asyncio.wait_for(reader.readline(), 2.0)).strip():
                pass
        path = first.split()[1] if len(first.split()) > 1 else b"/"
        if path in (b"/health", b"/healthz"):
            status, body = "200 OK", json.dumps(self.health()).encode()
        else:
            status, body = "404 Not Found", b'{"error":"try GET /health"}'
        writer.write(f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        with contextlib.suppress(Exception):
            await writer.drain()

    # --- what a replica tells about itself -------------------------------------------
    def values(self) -> dict[str, Any]:
        return {k: self.policy.value_of(k) for k in sorted(self.keys)}

    def health(self) -> dict[str, Any]:
        return {
            "type": "health",
            "node": self.cfg.node,
            "policy": self.cfg.policy,
            "speed": self.cfg.speed,
            "timeout": self.cfg.timeout,
            "nodes": self.cfg.nodes,
            "peers": {n: f"{h}:{p}" for n, (h, p) in self.cfg.peers.items()},
            "started": self.started,
            "restored": self.restored,
            "blocked": sorted(self.blocked),
            "values": self.values(),
            "requests": self.requests,
            "errors": self.errors,
            "pending": len(self.pending),
            "dropped": {n: link.dropped for n, link in self.links.items()},
            "evicted": self.evicted,
            "timed_out": self.timed_out,
            "refused": {"connections": self.refused,
                        "unauthenticated": self.verifier.refused if self.verifier else 0},
            "connections": len(self.conns),
            "authenticated": self.verifier is not None,
            "pid": os.getpid(),
            "uptime": round(time.time() - self._boot, 3),
        }


async def _lifeline(stop: asyncio.Event) -> None:
    """Stop when standard input closes: the driver died, even by SIGKILL."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass
    stop.set()


def run_server(cfg: ServerConfig, host: str, port: int, *, lifeline: bool = False,
               announce: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Run one replica until SIGTERM/SIGINT (or stdin EOF with ``lifeline``)."""

    async def main() -> None:
        replica = Replica(cfg)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, replica.stopped.set)
        watcher = loop.create_task(_lifeline(replica.stopped)) if lifeline else None

        def ready(r: Replica) -> None:
            info = {"type": "ready", "node": cfg.node, "policy": cfg.policy,
                    "listen": f"{r.address[0]}:{r.address[1]}", "pid": os.getpid(),
                    "restored": r.restored}
            if announce is not None:
                announce(info)

        try:
            await replica.serve(host, port, ready)
        finally:
            if watcher is not None:
                watcher.cancel()

    asyncio.run(main())


def describe_peers(peers: Mapping[str, tuple[str, int]]) -> str:
    return ", ".join(f"{n}={h}:{p}" for n, (h, p) in peers.items()) or "no peers"


__all__ = ["STATE_FILE", "Replica", "ServerConfig", "build_policy", "load_state", "run_server"]

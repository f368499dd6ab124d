"""``capsim live``: run a scenario against real replica processes.

The driver mirrors :mod:`capsim.sim.engine`, with real things in place of
simulated ones: the replicas are ``capsim serve`` processes on free loopback
ports; every directed link between them is a :class:`~capsim.live.proxy.LinkProxy`
the driver controls (latency, loss, cuts); a crash is SIGKILL and a recovery a
restart on the replica's data folder; clients are TCP connections that wait up
to the scenario's timeout. Wall-clock times are scaled back to scenario
seconds (``speed`` K runs K times faster), so the history, the checks and the
plots read exactly like a simulated run's.

With ``attach`` the driver starts nothing: it drives replicas that are already
running (pods in a cluster), reconfigures them for the scenario with a
``reset``, and injects the nemesis through the replicas' own ``control``
messages (or not at all with ``nemesis="external"``, when you cut the network
yourself, e.g. with a Kubernetes NetworkPolicy).

Cleanup is the point of the ``try``/``finally`` blocks: every process the
driver starts is in its own process group, has its standard input tied to
the driver (it exits when the driver dies, even by SIGKILL), and is
terminated, then killed, when the run ends, fails or is interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from capsim.errors import CapsimError
from capsim.history import Event, History
from capsim.live.auth import SECRET_ENV, SECRET_FILE_ENV, AuthError, Signer, Verifier, new_secret
from capsim.live.protocol import MAX_LINE, encode
from capsim.live.proxy import LinkProxy
from capsim.records import Message, RoleEntry, TraceEntry
from capsim.result import RunResult
from capsim.scenario import NemesisEvent, Scenario
from capsim.sim.workload import PlannedOp, plan

READY_TIMEOUT = 20.0
"""Wall seconds a replica process may take to start listening."""
STOP_GRACE = 3.0
"""Wall seconds between SIGTERM and SIGKILL when stopping a replica."""
WATCH_GRACE = 10.0
"""Wall seconds a running replica's watch may stay disconnected before the run fails."""


class LiveError(CapsimError):
    """A live run could not be set up or carried out (the message says why)."""


class HarnessError(LiveError):
    """The live harness itself failed (a replica that would not start or restart, a
    proxy or a watch that stopped): the run says nothing about the policy.
    """


def running_child(pid: int) -> bool:
    """True while ``pid`` is a child of ours that has not exited.

    Only then is signalling its process group safe: the kernel does not reuse
    a PID until its parent has reaped it, and ``WNOWAIT`` peeks without reaping.
    """
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    """Signal ``proc``'s process group (its own session) only if we still own it."""
    if proc.returncode is None and running_child(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)


def _t(x: float) -> float:
    """Scenario seconds to the millisecond: finer digits are only scheduling noise."""
    return round(x, 3)


@dataclass
class _Node:
    name: str
    addr: tuple[str, int] = ("127.0.0.1", 0)
    cmd: list[str] = field(default_factory=list)
    proc: asyncio.subprocess.Process | None = None
    log: Path | None = None
    up: bool = True
    watch: asyncio.Task[None] | None = None
    standby: asyncio.subprocess.Process | None = None
    """A warm replacement, started right after a crash, waiting for 'go' to recover."""


class _Conn:
    """A client's connection to its home replica; replies matched by id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.futures: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self.closed = False
        self.task = asyncio.get_running_loop().create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                obj = json.loads(line)
                fut = self.futures.pop(obj.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(obj)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            self.closed = True
            for fut in self.futures.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("connection closed"))
            self.futures.clear()
            self.writer.close()

    def request(self, msg: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.futures[msg["id"]] = fut
        self.writer.write(encode(msg))
        return fut

    def close(self) -> None:
        self.task.cancel()
        self.writer.close()


def blocked_pairs(ev: NemesisEvent, blocked: set[tuple[str, str]],
                  nodes: list[str]) -> set[tuple[str, str]]:
    """The directed links cut after ``ev``, with the simulator's rules.

    A partition replaces every cut (nodes it does not name form one more
    group); a one-way cut adds to what is cut; a heal clears everything.
    """
    if ev.partition is not None:
        named = {n for g in ev.partition for n in g}
        rest = [n for n in nodes if n not in named]
        groups = [list(g) for g in ev.partition] + ([rest] if rest else [])
        side = {n: i for i, g in enumerate(groups) for n in g}
        return {(a, b) for a in nodes for b in nodes if side[a] != side[b]}
    if ev.cut is not None:
        return blocked | {(a, b) for a in ev.cut.from_ for b in ev.cut.to if a != b}
    if ev.heal:
        return set()
    return blocked


async def _ask(addr: tuple[str, int], msg: dict[str, Any], timeout: float = 2.0,
               answer: bool = True, verify: Verifier | None = None,
               node: str | None = None) -> dict[str, Any] | None:
    """Send one message on a fresh connection and read one answer line.

    With ``verify`` the answer must be signed by ``node`` with the cluster
    secret: whoever answers on a replica's port must prove it is that replica.
    """
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(*addr, limit=MAX_LINE), timeout)
    try:
        writer.write(encode(msg))
        await writer.drain()
        if not answer:
            return None
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionError(f"{addr[0]}:{addr[1]} closed the connection")
        obj: dict[str, Any] = json.loads(line)
        if not isinstance(obj, dict):
            raise HarnessError(f"{addr[0]}:{addr[1]} answered with something that is not a "
                               "JSON object")
        if obj.get("type") == "error":
            raise LiveError(f"replica at {addr[0]}:{addr[1]} said: {obj.get('error')}")
        if verify is not None:
            try:
                sender = verify.verify(obj)
            except AuthError as exc:
                raise HarnessError(f"whatever answers at {addr[0]}:{addr[1]} is not replica "
                                   f"{node} of this cluster ({exc})") from None
            if node is not None and sender != node:
                raise HarnessError(f"{addr[0]}:{addr[1]} answered as {sender!r}, not {node!r}")
        return obj
    finally:
        writer.close()


class LiveRun:
    """One live run of one scenario under one policy.

    After :meth:`run`, :attr:`pids` lists every process it started and
    :attr:`ports` every port it (or its replicas) listened on, so a test can
    check that none survives.
    """

    def __init__(
        self,
        scenario: Scenario,
        policy: str,
        *,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        speed: float = 1.0,
        attach: Mapping[str, tuple[str, int]] | None = None,
        nemesis: str = "auto",
        workdir: Path | None = None,
        log: TextIO | None = None,
        secret: bytes | None = None,
        reaper: Any = None,
    ) -> None:
        from capsim.policies import get_policy
        from capsim.sim.simulate import check_supported

        if speed <= 0:
            raise LiveError(f"--speed must be positive (got {speed})")
        self.scenario = scenario
        self.policy = policy
        cls = get_policy(policy)
        merged = {**scenario.params.get(policy, {}), **(params or {})}
        try:
            cls.Params.model_validate(merged)
        except Exception as exc:
            raise LiveError(f"bad parameters for policy {policy!r}: {exc}") from None
        check_supported(scenario, cls, policy)
        self.params = merged
        self.seed = scenario.seed if seed is None else int(seed)
        self.speed = float(speed)
        self.attach = dict(attach) if attach is not None else None
        if self.attach is not None:
            missing = [n for n in scenario.nodes if n not in self.attach]
            extra = [n for n in self.attach if n not in scenario.nodes]
            if missing or extra:
                raise LiveError(
                    "--attach must name every node of the scenario exactly once: "
                    + (f"missing {', '.join(missing)}" if missing else "")
                    + ("; " if missing and extra else "")
                    + (f"not in the scenario: {', '.join(extra)}" if extra else ""))
        if nemesis == "auto":
            nemesis = "control" if self.attach is not None else "proxy"
        if nemesis not in ("proxy", "control", "external"):
            raise LiveError(f"nemesis must be proxy, control or external (got {nemesis!r})")
        if nemesis == "proxy" and self.attach is not None:
            raise LiveError("with --attach the driver has no proxies between the replicas; "
                            "use --nemesis control or external")
        self.nemesis_mode = nemesis
        if secret is None and self.attach is None:
            secret = new_secret().encode("ascii")  # a fresh cluster for this run
        self.secret = secret
        self._signer = Signer(secret, "driver") if secret is not None else None
        self._verifier = Verifier(secret) if secret is not None else None
        self.reaper = reaper
        self.workdir = workdir
        self.log = log if log is not None else sys.stderr
        self.nodes: dict[str, _Node] = {n: _Node(n) for n in scenario.nodes}
        self.proxies: dict[tuple[str, str], LinkProxy] = {}
        self.blocked: set[tuple[str, str]] = set()
        self.events: list[Event] = []
        self.trace: list[TraceEntry] = []
        self.roles: list[RoleEntry] = []
        self._last: dict[tuple[str, str], Any] = {}
        self.pids: list[int] = []
        self.procs: list[asyncio.subprocess.Process] = []
        self.ports: list[int] = []
        self.failure: LiveError | None = None
        self._failed: asyncio.Event | None = None
        self._stopping = False
        self._conns: dict[str, _Conn] = {}
        self._open: dict[str, tuple[int, PlannedOp]] = {}
        self._next = 0
        self._t0: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- clock ------------------------------------------------------------------------
    def clock(self) -> float:
        """Scenario seconds since the run began (negative before it)."""
        loop = asyncio.get_running_loop()
        if self._t0 is None:
            return 0.0
        return (loop.time() - self._t0) * self.speed

    async def _until(self, at: float) -> None:
        assert self._t0 is not None
        delay = self._t0 + at / self.speed - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _spawn(self, coro: Any, what: str = "") -> asyncio.Task[Any]:
        """A harness task; if it fails, the whole run fails (never silently)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled() or self._stopping:
                return
            exc = t.exception()
            if exc is not None:
                text = str(exc) if isinstance(exc, LiveError) \
                    else f"{type(exc).__name__}: {exc}"
                self._fail(f"{what}: {text}" if what else text)

        task.add_done_callback(done)
        return task

    def _env(self) -> dict[str, str]:
        """The replicas' environment: ours, with this cluster's secret."""
        env = {k: v for k, v in os.environ.items() if k not in (SECRET_ENV, SECRET_FILE_ENV)}
        if self.secret is not None:
            env[SECRET_ENV] = self.secret.decode("ascii")
        return env

    def _sign(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self._signer.sign(obj) if self._signer is not None else obj

    async def _ask(self, n: _Node, msg: dict[str, Any], timeout: float = 2.0,
                   answer: bool = True) -> dict[str, Any] | None:
        """A signed message to replica ``n``; its answer must be signed by ``n``."""
        return await _ask(n.addr, self._sign(msg), timeout, answer,
                          verify=self._verifier if msg.get("type") == "control" else None,
                          node=n.name)

    def _fail(self, text: str) -> None:
        """Record the first harness failure; the run stops and raises it."""
        if self.failure is None and not self._stopping:
            from capsim.i18n import t

            self.failure = HarnessError(t(
                "the live run failed, not the policy: {reason}. No result was written; "
                "the run says nothing about the policy.", reason=text))
            if self._failed is not None:
                self._failed.set()

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> RunResult:
        """Carry the scenario out for real; always stops what it started.

        The replicas' data folders live in a temporary folder that a reaper
        (:mod:`capsim.live.reaper`) removes should this process die before it
        can, even by SIGKILL.
        """
        import shutil

        from capsim.live.reaper import Reaper

        previous = signal.getsignal(signal.SIGINT) if _main_thread() else None
        reaper = self.reaper if self.reaper is not None else Reaper()
        tmp = Path(tempfile.mkdtemp(prefix="capsim-live-", dir=self.workdir))
        reaper.add(tmp)
        interrupted = False
        try:
            try:
                asyncio.run(self._main(tmp))
            except KeyboardInterrupt:
                interrupted = True
                _ignore_sigint()
                raise
            finally:
                self._kill_all_sync()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            reaper.forget(tmp)
            if reaper is not self.reaper:
                reaper.close()
            if previous is not None and not interrupted:
                signal.signal(signal.SIGINT, previous)
        return self._result()

    async def _main(self, tmp: Path) -> None:
        self._failed = asyncio.Event()
        try:
            await self._setup(tmp)
            await self._go()
        finally:
            await self._teardown()
        if self.failure is not None:
            raise self.failure

    async def _setup(self, tmp: Path) -> None:
        if self.attach is not None:
            await self._setup_attached()
        else:
            await self._setup_local(tmp)
        for n in self.nodes.values():
            n.watch = self._spawn(self._watch(n), f"the watch of replica {n.name}")
        # Wait until every watch has reported its replica's values (t = 0 of the trace).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while not all((n, k) in self._last for n in self.nodes for k in self.scenario.initial):
            if self.failure is not None:
                raise self.failure
            if loop.time() > deadline:
                silent = sorted({n for n in self.nodes for k in self.scenario.initial
                                 if (n, k) not in self._last})
                raise HarnessError(f"the watch of {', '.join(silent)} reported no values "
                                   f"within {READY_TIMEOUT:g} s")
            await asyncio.sleep(0.01)

    async def _setup_local(self, tmp: Path) -> None:
        from capsim.sim.network import build_graph, link_rng, link_samplers

        graph = build_graph(self.scenario.nodes, self.scenario.network)
        for a in self.scenario.nodes:
            for b in self.scenario.nodes:
                # a == b: a node's messages to itself (a client-side quorum
                # coordinator's) take the default latency and are never cut.
                latency, loss = graph.link(a, b)
                sample, by_kind = link_samplers(latency, remote=a != b)
                proxy = LinkProxy(a, b, latency=sample, by_kind=by_kind,
                                  loss=float(loss),
                                  rng=link_rng(self.seed, a, b),
                                  speed=self.speed, clock=self.clock,
                                  on_error=self._fail)
                proxy.recording = False
                _host, port = await proxy.start("127.0.0.1", 0)
                self.ports.append(port)
                self.proxies[(a, b)] = proxy
        sc = self.scenario
        for n in self.nodes.values():
            data_dir = tmp / n.name
            n.log = tmp / f"{n.name}.log"
            n.cmd = [sys.executable, "-m", "capsim", "serve", "--node", n.name,
                     "--nodes", ",".join(sc.nodes), "--policy", self.policy,
                     "--data", str(data_dir), "--timeout", repr(sc.timeout),
                     "--speed", repr(self.speed), "--params", json.dumps(self.params),
                     "--initial-json", json.dumps(sc.initial), "--hold", "--lifeline",
                     "--seed", str(self.seed)]
            for p in sc.nodes:
                h, port = self.proxies[(n.name, p)].address
                if p != n.name:
                    n.cmd += ["--peer", f"{p}={h}:{port}"]
                else:
                    n.cmd += ["--self-link", f"{h}:{port}"]
        # Start every replica at once; each picks a free port and reports it.
        await asyncio.gather(*(self._start_process(n, "127.0.0.1:0")
                               for n in self.nodes.values()))
        for (_a, b), proxy in self.proxies.items():
            proxy.set_upstream(self.nodes[b].addr)
        # A replica the scenario crashes gets a warm standby now, before t = 0:
        # Python's start-up then never delays its recovery.
        crashing = sorted({ev.crash for ev in sc.nemesis if ev.crash is not None})
        await asyncio.gather(*(self._start_standby(self.nodes[c]) for c in crashing))

    async def _spawn_process(self, n: _Node, listen: str,
                             *extra: str) -> asyncio.subprocess.Process:
        assert n.log is not None
        with open(n.log, "ab") as err:
            proc = await asyncio.create_subprocess_exec(
                *n.cmd, "--listen", listen, *extra,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                start_new_session=True, env=self._env(),
            )
        self.pids.append(proc.pid)
        self.procs.append(proc)
        return proc

    async def _start_standby(self, n: _Node) -> None:
        """A replacement process for ``n``, imported and waiting to be woken."""
        proc = await self._spawn_process(n, f"{n.addr[0]}:{n.addr[1]}", "--standby")
        n.standby = proc
        assert proc.stdout is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT)

    async def _start_process(self, n: _Node, listen: str,
                             proc: asyncio.subprocess.Process | None = None) -> None:
        """Start ``n`` (or wake its standby ``proc``) and wait until it listens."""
        assert n.log is not None
        if proc is None:
            proc = await self._spawn_process(n, listen)
        n.proc = proc
        assert proc.stdout is not None
        line = b""
        with contextlib.suppress(asyncio.TimeoutError):
            while True:  # a standby may still have its "standby" line to say first
                line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT)
                if not line.startswith(b'{"type": "standby"'):
                    break
        if not line:
            signal_group(proc, signal.SIGKILL)
            await proc.wait()
            tail = n.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-8:]
            raise LiveError(f"replica {n.name} did not start (exit code {proc.returncode}):\n  "
                            + "\n  ".join(tail or ["(no output)"]))
        info = json.loads(line)
        host, _, port = str(info["listen"]).rpartition(":")
        n.addr = (host, int(port))
        n.up = True
        if int(port) not in self.ports:
            self.ports.append(int(port))
        self._spawn(self._guard(n, proc), f"replica {n.name}")

    async def _guard(self, n: _Node, proc: asyncio.subprocess.Process) -> None:
        """A replica process that exits while it should be up breaks the harness."""
        code = await proc.wait()
        if n.proc is proc and n.up and not self._stopping:
            assert n.log is not None
            tail = n.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise HarnessError(f"replica {n.name} exited unexpectedly (exit code {code}):\n  "
                               + "\n  ".join(tail or ["(no output)"]))

    async def _setup_attached(self) -> None:
        assert self.attach is not None
        sc = self.scenario
        conf = {"type": "control", "action": "reset", "policy": self.policy,
                "params": self.params, "initial": sc.initial, "timeout": sc.timeout,
                "speed": self.speed}
        for name, addr in self.attach.items():
            n = self.nodes[name]
            n.addr = addr
            try:
                health = await _ask(addr, {"type": "health"}, timeout=5.0)
            except (OSError, asyncio.TimeoutError, ValueError) as exc:
                raise LiveError(f"cannot reach replica {name} at {addr[0]}:{addr[1]}: "
                                f"{exc or type(exc).__name__}") from None
            assert health is not None
            if health.get("node") != name:
                raise LiveError(f"{addr[0]}:{addr[1]} is replica {health.get('node')!r}, "
                                f"not {name!r}; check --attach")
            peers = set(health.get("peers", {}))
            want = set(sc.nodes) - {name}
            if peers != want:
                raise LiveError(f"replica {name} has peers {sorted(peers)}, but the scenario "
                                f"needs {sorted(want)}")
            await self._ask(n, conf, timeout=5.0)

    async def _go(self) -> None:
        sc = self.scenario
        start = {"type": "control", "action": "start"}
        for proxy in self.proxies.values():
            proxy.recording = True
        self._t0 = asyncio.get_running_loop().time()
        await asyncio.gather(*(self._ask(n, start) for n in self.nodes.values()))
        for n in self.nodes.values():
            for key in sorted(sc.initial):
                self.trace.append(TraceEntry(0.0, n.name, key, self._last.get((n.name, key))))
        plans = plan(sc, random.Random(self.seed))
        order = [c.name for c in sc.clients]
        names = sorted(plans, key=lambda c: (order.index(c), "") if c in order
                       else (len(order), c))
        work = [self._spawn(self._client(plans[c]), f"client {c}") for c in names if plans[c]]
        work.append(self._spawn(self._nemesis(), "the nemesis"))
        assert self._failed is not None
        end = asyncio.get_running_loop().create_task(self._until(sc.duration))
        failed = asyncio.get_running_loop().create_task(self._failed.wait())
        await asyncio.wait([end, failed], return_when=asyncio.FIRST_COMPLETED)
        end.cancel()
        failed.cancel()
        for task in work:
            task.cancel()
        await asyncio.gather(*work, return_exceptions=True)
        if self.failure is not None:
            return
        for _rid, op in sorted(self._open.values(), key=lambda x: x[0]):
            self._record(op, "info", op.value if op.f != "read" else None,
                         "the run ended before an answer came")
        self._open.clear()
        for proxy in self.proxies.values():
            proxy.recording = False

    # --- clients --------------------------------------------------------------------------
    def _record(self, op: PlannedOp, type_: str, value: Any, error: str | None = None) -> None:
        self.events.append(Event(len(self.events), _t(max(0.0, self.clock())), op.process,
                                 op.node, type_, op.f, op.key, value, error))  # type: ignore[arg-type]

    async def _client(self, ops: list[PlannedOp]) -> None:
        for op in ops:
            await self._until(op.at)
            self._next += 1
            rid = self._next
            self._open[op.process] = (rid, op)
            self._record(op, "invoke", op.value if op.f != "read" else None)
            type_, value, error = await self._perform(op, rid)
            del self._open[op.process]
            if type_ == "ok":
                self._record(op, "ok", value if op.f == "read" else op.value)
            else:
                self._record(op, type_, op.value if op.f != "read" else None, error)

    async def _connect(self, op: PlannedOp, deadline: float) -> _Conn | None:
        """The client's connection, (re)opened until ``deadline``: a restarting replica
        is reachable again as soon as it listens.
        """
        conn = self._conns.get(op.process)
        if conn is not None and not conn.closed:
            return conn
        loop = asyncio.get_running_loop()
        addr = self.nodes[op.node].addr
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(*addr, limit=MAX_LINE), left)
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(min(0.02, max(0.0, deadline - loop.time())))
                continue
            conn = _Conn(reader, writer)
            self._conns[op.process] = conn
            return conn

    async def _perform(self, op: PlannedOp, rid: int) -> tuple[str, Any, str | None]:
        loop = asyncio.get_running_loop()
        timeout = self.scenario.timeout
        deadline = loop.time() + timeout / self.speed
        conn = await self._connect(op, deadline)
        if conn is None:
            # Certainly not done, but the simulator (and Jepsen's habit for a node
            # that does not answer) calls it info; info is never wrong for a checker.
            return ("info", None, f"{op.node} is down (no connection within the "
                    f"{timeout:g} s timeout)")
        msg: dict[str, Any] = {"type": "request", "id": rid, "f": op.f, "key": op.key}
        if op.f != "read":
            msg["value"] = list(op.value) if isinstance(op.value, tuple) else op.value
        try:
            fut = conn.request(self._sign(msg))
            reply = await asyncio.wait_for(fut, max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            return ("info", None, f"no answer from {op.node} within the {timeout:g} s timeout")
        except (ConnectionError, OSError):
            return ("info", None, f"the connection to {op.node} broke before an answer came "
                    "(it may have crashed); the request may or may not have taken effect")
        if reply.get("type") == "error":
            return ("fail", None, f"{op.node} rejected the request: {reply.get('error')}")
        return (str(reply.get("result", "info")), reply.get("value"), reply.get("error"))

    # --- trace ------------------------------------------------------------------------------
    def _observe(self, node: str, key: str, value: Any) -> None:
        if (node, key) in self._last and self._last[(node, key)] == value:
            return
        self._last[(node, key)] = value
        if self._t0 is not None:
            self.trace.append(TraceEntry(_t(max(0.0, self.clock())), node, key, value))

    async def _watch(self, n: _Node) -> None:
        """Follow one replica's copy; reconnects after a restart.

        A watch is the only eye on a replica's state: if it cannot reconnect to
        a replica that should be up, or reads something it cannot understand,
        the run fails rather than report convergence it did not see.
        """
        loop = asyncio.get_running_loop()
        lost: float | None = None
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(*n.addr, limit=MAX_LINE), 1.0)
            except (OSError, asyncio.TimeoutError):
                if not n.up:
                    lost = None
                elif lost is None:
                    lost = loop.time()
                elif loop.time() - lost > WATCH_GRACE:
                    raise HarnessError(f"cannot reconnect to replica {n.name} at "
                                       f"{n.addr[0]}:{n.addr[1]} for {WATCH_GRACE:g} s") from None
                await asyncio.sleep(0.05)
                continue
            lost = None
            try:
                writer.write(encode(self._sign({"type": "watch"})))
                while True:
                    try:
                        line = await reader.readline()
                    except (ConnectionError, OSError):
                        break
                    if not line:
                        break
                    self._on_watch_line(n, line)
            finally:
                writer.close()
            await asyncio.sleep(0.05)

    def _on_watch_line(self, n: _Node, line: bytes) -> None:
        try:
            obj = json.loads(line)
            t = obj.get("type") if isinstance(obj, dict) else None
            if t == "watching" and isinstance(obj.get("values"), dict):
                for k, v in obj["values"].items():
                    self._observe(n.name, k, v)
                return
            if t == "stored" and isinstance(obj.get("key"), str) and "value" in obj:
                self._observe(n.name, obj["key"], obj["value"])
                return
            if t == "role":
                self.roles.append(RoleEntry(
                    _t(max(0.0, self.clock())), n.name, str(obj["role"]),
                    int(obj["term"]), int(obj["commit"]), obj.get("leader")))
                return
        except (ValueError, KeyError, TypeError):
            pass
        raise HarnessError(f"replica {n.name}'s watch sent a line capsim cannot read: "
                           f"{line[:200].decode('utf-8', 'replace').strip()!r}")

    # --- nemesis ----------------------------------------------------------------------------
    async def _nemesis(self) -> None:
        for ev in self.scenario.nemesis:
            await self._until(ev.at)
            if ev.partition is not None or ev.cut is not None or ev.heal:
                self.blocked = blocked_pairs(ev, self.blocked, self.scenario.nodes)
                await self._apply_blocked()
            elif ev.crash is not None:
                await self._crash(self.nodes[ev.crash])
            elif ev.recover is not None:
                self._spawn(self._recover(self.nodes[ev.recover]),
                            f"the recovery of replica {ev.recover}")
            elif ev.pause is not None or ev.resume is not None:
                self._signal(self.nodes[ev.pause or ev.resume or ""],
                             signal.SIGSTOP if ev.pause is not None else signal.SIGCONT)

    def _signal(self, n: _Node, sig: signal.Signals) -> None:
        """``pause``/``resume``: stop or continue the replica's process (its state stays).

        Only this driver's own processes can be stopped; with ``--attach`` a
        pause is left to whoever runs the replicas.
        """
        if self.nemesis_mode == "proxy" and n.up and n.proc is not None \
                and n.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(n.proc.pid, sig)

    async def _apply_blocked(self, only: str | None = None) -> None:
        if self.nemesis_mode == "proxy":
            for (a, b), proxy in self.proxies.items():
                proxy.blocked = (a, b) in self.blocked
        elif self.nemesis_mode == "control":
            for n in self.nodes.values():
                if not n.up or (only is not None and n.name != only):
                    continue
                to = sorted(b for a, b in self.blocked if a == n.name)
                with contextlib.suppress(OSError, asyncio.TimeoutError, ConnectionError):
                    await self._ask(n, {"type": "control", "action": "block", "to": to})

    async def _crash(self, n: _Node) -> None:
        if not n.up:
            return
        n.up = False
        if self.nemesis_mode == "proxy":
            if n.proc is not None:
                signal_group(n.proc, signal.SIGKILL)
                await n.proc.wait()
            # Python takes a while to start; have a replacement ready for `recover`
            # (normally made before t = 0). It reads the data folder only when woken.
            if n.standby is None:
                self._spawn(self._start_standby(n), f"the standby of replica {n.name}")
        elif self.nemesis_mode == "control":
            with contextlib.suppress(OSError, asyncio.TimeoutError, ConnectionError):
                await self._ask(n, {"type": "control", "action": "crash"}, answer=False)

    async def _recover(self, n: _Node) -> None:
        if n.up:
            return
        if self.nemesis_mode == "proxy":
            standby, n.standby = n.standby, None
            if standby is not None and standby.returncode is None:
                assert standby.stdin is not None
                standby.stdin.write(b"go\n")
                await standby.stdin.drain()
            else:
                standby = None
            await self._start_process(n, f"{n.addr[0]}:{n.addr[1]}", standby)
            for (_a, b), proxy in self.proxies.items():
                if b == n.name:
                    proxy.set_upstream(n.addr)
            await self._ask(n, {"type": "control", "action": "start"})
        elif self.nemesis_mode == "control":
            # The orchestrator (the kubelet) restarts the process; wait until it answers.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + READY_TIMEOUT
            while True:
                try:
                    await _ask(n.addr, {"type": "health"}, timeout=1.0)
                    break
                except (OSError, asyncio.TimeoutError, ConnectionError, ValueError):
                    if loop.time() > deadline:
                        raise HarnessError(
                            f"replica {n.name} at {n.addr[0]}:{n.addr[1]} did not come back "
                            f"within {READY_TIMEOUT:g} s of its recovery") from None
                    await asyncio.sleep(0.1)
        n.up = True
        await self._apply_blocked(only=n.name)

    # --- the end ------------------------------------------------------------------------------
    async def _teardown(self) -> None:
        self._stopping = True
        _ignore_sigint()  # a second Ctrl-C must not interrupt the clean-up
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        procs = [p for n in self.nodes.values() for p in (n.proc, n.standby)
                 if p is not None and p.returncode is None]
        for p in procs:
            signal_group(p, signal.SIGTERM)
        for p in procs:
            try:
                await asyncio.wait_for(p.wait(), STOP_GRACE)
            except asyncio.TimeoutError:
                signal_group(p, signal.SIGKILL)
                await p.wait()
        for proxy in self.proxies.values():
            await proxy.close()

    def _kill_all_sync(self) -> None:
        """Last line of defence (the event loop itself failed): kill every group we made
        whose leader is still a running child of ours (never a PID reaped and reused).
        """
        for proc in self.procs:
            if running_child(proc.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, 0)

    def _result(self) -> RunResult:
        from capsim.check import run_checks
        from capsim.sim.nemesis import fault_spans

        sc = self.scenario
        history = History(self.events)
        faults = fault_spans(sc)
        trace = sorted(self.trace, key=lambda e: e.time)
        messages = sorted(
            (Message(_t(m[0]), m[1], m[2], m[3], _t(m[4]), m[5])
             for p in self.proxies.values() for m in p.journal),
            key=lambda m: (m.sent, m.src, m.dst))
        checks = run_checks(history, initial=sc.initial, faults=faults, trace=trace,
                            nodes=sc.nodes, duration=sc.duration)
        from capsim.policies import get_policy

        params = get_policy(self.policy).Params.model_validate(self.params).model_dump(mode="json")
        roles = sorted(self.roles, key=lambda e: e.time)
        if roles:
            from capsim.check.leadership import leadership

            checks["leadership"] = leadership(roles, faults, sc.nodes, sc.duration)
        return RunResult(scenario=sc, policy=self.policy, seed=self.seed, history=history,
                         trace=trace, faults=faults, messages=messages, checks=checks,
                         params=params, roles=roles)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _ignore_sigint() -> None:
    """From here on Ctrl-C waits for the clean-up instead of breaking it."""
    if _main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_live(
    scenario: Scenario,
    *,
    policy: str | None = None,
    seed: int | None = None,
    speed: float = 1.0,
    attach: Mapping[str, tuple[str, int]] | None = None,
    nemesis: str = "auto",
    params: Mapping[str, Any] | None = None,
    on_run: Callable[[LiveRun], None] | None = None,
    secret: bytes | None = None,
    reaper: Any = None,
) -> RunResult:
    """Run ``scenario`` once on real replicas under ``policy`` (default: the scenario's first).

    ``secret`` is the cluster secret of attached replicas (local runs make
    their own); ``reaper`` a :class:`~capsim.live.reaper.Reaper` to share.
    """
    run = LiveRun(scenario, policy or scenario.policies[0], params=params, seed=seed,
                  speed=speed, attach=attach, nemesis=nemesis, secret=secret, reaper=reaper)
    if on_run is not None:
        on_run(run)
    return run.run()


__all__ = ["LiveError", "LiveRun", "blocked_pairs", "run_live"]

"""``capsim serve`` as a user meets it: a real process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app

pytestmark = pytest.mark.timeout(60)


SECRET = "test-cluster-secret-0123456789abcdef"


class Server:
    """One ``capsim serve`` process; always killed at the end of the test."""

    def __init__(self, *args: str, secret: str | None = SECRET) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAPSIM_SECRET")}
        if secret is not None:
            env["CAPSIM_SECRET"] = secret
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "capsim", "serve", "--node", "G1", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read().decode() if self.proc.stderr else ""
        self.info = json.loads(line)
        host, _, port = self.info["listen"].rpartition(":")
        self.addr = (host, int(port))

    def connect(self) -> tuple[socket.socket, Iterator[dict[str, object]]]:
        sock = socket.create_connection(self.addr, timeout=5)
        lines = sock.makefile("rb")

        def replies() -> Iterator[dict[str, object]]:
            while line := lines.readline():
                yield json.loads(line)

        return sock, replies()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made: list[Server] = []
    yield made
    for s in made:
        s.kill()


@pytest.fixture(scope="module")
def ap_server() -> Iterator[Server]:
    """One replica shared by the tests that only talk to it (a process start costs ~1 s)."""
    s = Server("--listen", "127.0.0.1:0", "--policy", "ap", "--initial", "x=v0")
    yield s
    s.kill()


def _closed(addr: tuple[str, int]) -> bool:
    try:
        socket.create_connection(addr, timeout=1).close()
    except OSError:
        return True
    return False


def test_malformed_lines_get_a_clear_error_and_the_replica_keeps_serving(
        ap_server: Server) -> None:
    sock, replies = ap_server.connect()
    bad = [
        (b"this is not json\n", "not JSON"),
        (b"[1, 2]\n", "expected a JSON object"),
        (b'{"f": "read"}\n', '"type"'),
        (b'{"type": "request", "f": "read", "key": "x"}\n', '"id"'),
        (b'{"type": "request", "id": 1, "f": "delete", "key": "x"}\n', '"f" must be one of'),
        (b'{"type": "request", "id": 2, "f": "write", "key": "x"}\n', 'needs a "value"'),
        (b'{"type": "request", "id": 3, "f": "cas", "key": "x", "value": 5}\n', "[expected, new]"),
        (b'{"type": "launch"}\n', "unknown type"),
        (b'{"type": "peer", "src": "G9", "kind": "k", "msg": {}}\n', "must be signed"),
    ]
    for line, words in bad:
        sock.sendall(line)
        answer = next(replies)
        assert answer["type"] == "error", (line, answer)
        assert words in str(answer["error"]), (line, answer)
    # Same connection, still serving: a write, then a read of it.
    sock.sendall(b'{"type": "request", "id": 10, "f": "write", "key": "x", "value": "v1"}\n')
    assert next(replies) == {"type": "reply", "id": 10, "result": "ok", "value": "v1"}
    sock.sendall(b'{"type": "request", "id": 11, "f": "read", "key": "x"}\n')
    assert next(replies) == {"type": "reply", "id": 11, "result": "ok", "value": "v1"}
    sock.sendall(b'{"type": "health"}\n')
    health = next(replies)
    assert health["node"] == "G1" and health["values"] == {"x": "v1"}
    assert health["errors"] >= len(bad)
    sock.close()
    # A second client is served too.
    sock, replies = ap_server.connect()
    sock.sendall(b'{"type": "request", "id": "a", "f": "read", "key": "x"}\n')
    assert next(replies)["result"] == "ok"
    sock.close()


def test_http_health_for_probes_and_curl(ap_server: Server) -> None:
    sock = socket.create_connection(ap_server.addr, timeout=5)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200")
    assert json.loads(body)["policy"] == "ap"


def test_sigterm_stops_it_cleanly_and_closes_the_port(servers: list[Server]) -> None:
    s = Server("--listen", "127.0.0.1:0", "--policy", "ap")
    servers.append(s)
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert _closed(s.addr)


def test_a_killed_replica_restarted_on_its_data_folder_keeps_acknowledged_writes(
        servers: list[Server], tmp_path: Path) -> None:
    data = ["--data", str(tmp_path / "g1")]
    s = Server("--listen", "127.0.0.1:0", "--policy", "ap", "--initial", "x=v0", *data)
    servers.append(s)
    sock, replies = s.connect()
    sock.sendall(b'{"type": "request", "id": 1, "f": "write", "key": "x", "value": "v1"}\n')
    assert next(replies)["result"] == "ok"
    sock.close()
    os.killpg(s.proc.pid, signal.SIGKILL)  # no goodbye: a crash
    s.proc.wait(5)

    again = Server("--listen", f"127.0.0.1:{s.addr[1]}", "--policy", "ap",
                   "--initial", "x=v0", *data)
    servers.append(again)
    assert again.info["restored"] is True
    sock, replies = again.connect()
    sock.sendall(b'{"type": "request", "id": 1, "f": "read", "key": "x"}\n')
    assert next(replies)["value"] == "v1"
    sock.close()
    saved = json.loads((tmp_path / "g1" / "state.json").read_text())
    assert saved["node"] == "G1" and saved["config"]["policy"] == "ap"


@pytest.mark.parametrize(("args", "words"), [
    (["--peer", "G2"], "NAME=HOST:PORT"),
    (["--peer", "G2=127.0.0.1:http"], "not a number"),
    (["--policy", "nope"], "unknown policy 'nope'"),
    (["--listen", "127.0.0.1"], "HOST:PORT"),
    (["--params", '{"sync_interval": -1}', "--policy", "ap"], "bad parameters"),
])
def test_bad_command_lines_exit_2_with_a_clear_message(args: list[str], words: str) -> None:
    r = CliRunner().invoke(app, ["serve", "--node", "G1", *args], env={"CAPSIM_SECRET": SECRET})
    assert r.exit_code == 2, r.output
    assert words in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)

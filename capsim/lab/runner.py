"""Run an external program safely: an argument list, a timeout, no shell.

Every probe and every step goes through :func:`run` so that a missing
program, a hung daemon or a non-zero exit all come back as data the caller
can report, never as an exception or a frozen terminal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Completed:
    """What happened when a program was run (or could not be)."""

    argv: tuple[str, ...]
    returncode: int | None
    """``None`` when the program was not found or timed out."""
    stdout: str = ""
    stderr: str = ""
    missing: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe_failure(self) -> str:
        """One line saying why it did not work, for tables and error messages."""
        if self.missing:
            return f"{self.argv[0]}: command not found"
        if self.timed_out:
            return f"{' '.join(self.argv)}: no answer within the timeout"
        if self.returncode is None:
            return self.stderr.strip()
        first = (self.stderr.strip() or self.stdout.strip()).splitlines()
        reason = first[-1] if first else "no output"
        return f"exit {self.returncode}: {reason}"


def which(program: str) -> str | None:
    """Find ``program`` on the *current* ``PATH`` (read at call time, so tests can swap it)."""
    return shutil.which(program, path=os.environ.get("PATH", os.defpath))


def run(
    argv: Sequence[str],
    *,
    timeout: float = 10.0,
    stdin: str | None = None,
    capture_stdout: bool = True,
) -> Completed:
    """Run ``argv`` and report; never raises for a missing, failing or hung program.

    ``capture_stdout=False`` lets long installs print progress live to the
    terminal; stderr is always captured so a failure can be shown.
    """
    args = tuple(argv)
    exe = which(args[0]) if os.sep not in args[0] else args[0]
    if exe is None or not os.path.exists(exe):
        return Completed(args, None, missing=True)
    try:
        proc = subprocess.run(  # an argv list, never a shell
            [exe, *args[1:]],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture_stdout else None,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Completed(args, None, _text(exc.stdout), _text(exc.stderr), timed_out=True)
    except OSError as exc:  # e.g. not executable, bad interpreter
        return Completed(args, None, "", f"could not run {exe}: {exc}")
    return Completed(args, proc.returncode, proc.stdout or "", proc.stderr or "")


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def stream(
    argv: Sequence[str],
    *,
    on_line: Callable[[str], None],
    timeout: float = 900.0,
    stdin: str | None = None,
) -> Completed:
    """Like :func:`run`, but hand each stdout line to ``on_line`` as it arrives.

    For long steps (package installs, ``minikube start``) a student must see
    progress; stderr is still collected whole, to show when the step fails.
    """
    args = tuple(argv)
    exe = which(args[0]) if os.sep not in args[0] else args[0]
    if exe is None or not os.path.exists(exe):
        return Completed(args, None, missing=True)
    try:
        proc = subprocess.Popen(  # an argv list, never a shell
            [exe, *args[1:]],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        return Completed(args, None, "", f"could not run {exe}: {exc}")
    out_pipe, err_pipe = proc.stdout, proc.stderr
    assert out_pipe is not None and err_pipe is not None
    err_chunks: list[str] = []

    def _drain_stderr() -> None:
        err_chunks.append(err_pipe.read())

    err_reader = threading.Thread(target=_drain_stderr, daemon=True)
    err_reader.start()
    timed_out = threading.Event()

    def _expire() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, _expire)
    timer.start()
    try:
        if stdin is not None and proc.stdin is not None:
            # A program may exit without reading its input (then the pipe is broken).
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(stdin)
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        out_lines: list[str] = []
        for line in out_pipe:
            out_lines.append(line)
            on_line(line.rstrip("\n"))
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:  # on_line raised (e.g. Ctrl-C): do not leave it running
            proc.kill()
            proc.wait()
        err_reader.join(timeout=5)
        out_pipe.close()
        err_pipe.close()
    stderr = "".join(err_chunks)
    if timed_out.is_set():
        return Completed(args, None, "".join(out_lines), stderr, timed_out=True)
    return Completed(args, proc.returncode, "".join(out_lines), stderr)

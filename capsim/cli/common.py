"""Helpers every command shares: error reporting and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from capsim.errors import CapsimError


def die(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` removes its temporary folders."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn capsim's own errors into a one-paragraph message and exit code 2.

    Ctrl-C (exit 130) and SIGTERM (exit 143) unwind the command like an
    exception, so staging folders (``.NAME.*.tmp``) are removed on the way out.
    """
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    except CapsimError as exc:
        raise die(short(str(exc))) from None
    except Terminated:
        typer.echo("terminated", err=True)
        sys.exit(143)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


#: The longest error message the CLI prints, in characters.
MAX_MESSAGE = 2000


def short(message: str, limit: int = MAX_MESSAGE) -> str:
    """An error message cut to one short paragraph (a long echoed value is no help)."""
    if len(message) <= limit:
        return message
    return message[: limit - 40].rstrip() + f" … ({len(message) - limit + 40:,} more characters)"


def split_csv(value: str | None) -> list[str]:
    """``"cp,ap"`` -> ``["cp", "ap"]``; empty items dropped."""
    if not value:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]

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


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn capsim's own errors into a one-paragraph message and exit code 2."""
    try:
        yield
    except CapsimError as exc:
        raise die(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


def split_csv(value: str | None) -> list[str]:
    """``"cp,ap"`` -> ``["cp", "ap"]``; empty items dropped."""
    if not value:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]

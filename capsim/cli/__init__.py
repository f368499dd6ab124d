"""capsim's command line: a thin layer over the library.

Each command lives in its own module, which registers itself on ``app`` when
imported. Adding a command is one module plus one import line below; the
import order is the order ``capsim --help`` lists the commands in.
"""

# ruff: noqa: I001  (the order below is the order of `capsim --help`, not alphabetical)

from __future__ import annotations

from capsim.cli.app import app

# --- command modules: one import line each -------------------------------
from capsim.cli import run as _run  # noqa: F401
from capsim.cli import check as _check  # noqa: F401
from capsim.cli import plot as _plot  # noqa: F401
from capsim.cli import pbs as _pbs  # noqa: F401
from capsim.cli import sweep as _sweep  # noqa: F401
from capsim.cli import live as _live  # noqa: F401
from capsim.cli import lab as _lab  # noqa: F401
from capsim.cli import explore as _explore  # noqa: F401

# --- end of command modules ---------------------------------------------


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]

"""capsim's command line: a thin layer over the library, loaded one command at a time.

Each command lives in a module that registers itself on ``app`` when
imported. :data:`COMMANDS` says which module holds which command, with the
one-line help ``capsim --help`` shows; adding a command is one module plus one
row there (its order is the order of ``capsim --help``).

Why the table: a student types ``capsim --help`` and ``capsim run`` far more
often than anything else, and Python start-up is most of what they wait for.
:func:`main` therefore imports only the module of the command being run, and
answers ``capsim`` / ``capsim --help`` from the table without importing typer
or rich at all. ``tests/test_cli_startup.py`` keeps the table equal to the
commands the modules really register.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from capsim.cli.commands import ABOUT, COMMANDS


def load(names: list[str] | None = None) -> Any:
    """The typer app with the modules of ``names`` (default: every command) registered."""
    from capsim.cli.root import app

    modules = {COMMANDS[n][0] for n in (names if names is not None else COMMANDS)}
    for module in sorted(modules, key=lambda m: [v[0] for v in COMMANDS.values()].index(m)):
        importlib.import_module(f"capsim.cli.{module}")
    return app


def quick_help() -> str:
    """``capsim --help`` from the table: the same commands and words, no typer, no rich."""
    import textwrap

    width = max(len(n) for n in COMMANDS) + 2
    lines = ["Usage: capsim [OPTIONS] COMMAND [ARGS]...", ""]
    for para in ABOUT.split("\n\n"):
        lines += [textwrap.fill(para, 88, initial_indent="  ", subsequent_indent="  "), ""]
    lines += ["Options:", "  --version  Print the version.",
              "  --help     Show this message and exit.", "", "Commands:"]
    lines += [f"  {name:<{width}}{text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run `capsim COMMAND --help` for a command's arguments and options."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Console-script entry point: load only what the command line asks for."""
    args = sys.argv[1:]
    if args in ([], ["--help"], ["-h"]):
        sys.stdout.write(quick_help())
        return
    if args == ["--version"]:
        from capsim._version import __version__

        sys.stdout.write(f"capsim {__version__}\n")
        return
    first = next((a for a in args if not a.startswith("-")), None)
    load([first] if first in COMMANDS else None)()


def __getattr__(name: str) -> Any:
    """``from capsim.cli import app``: the whole app, every command registered (tests, docs)."""
    if name == "app":
        return load()
    raise AttributeError(f"module 'capsim.cli' has no attribute {name!r}")


__all__ = ["COMMANDS", "app", "load", "main"]

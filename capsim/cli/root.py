"""The root command: the typer application object the command modules register on.

Only typer and the standard library are imported here: ``capsim --help``
must stay fast, so each command imports what it needs inside its body.
"""

from __future__ import annotations

from typing import Annotated

import typer

from capsim._version import __version__
from capsim.cli.commands import ABOUT

app = typer.Typer(
    name="capsim",
    help=ABOUT,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"capsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """capsim: see the CAP theorem."""
    from capsim.cli.common import use_lang

    use_lang(None)  # a fresh invocation: --lang, CAPSIM_LANG or the locale decide

"""Helpers every command shares: error reporting and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from capsim.errors import CapsimError
from capsim.i18n import localize_lines, resolve_lang, t

#: The language of this invocation: set by ``--lang`` (see ``plotopts.check_lang``),
#: reset by the root callback; ``None`` means CAPSIM_LANG / the locale.
_LANG: list[str | None] = [None]


def use_lang(lang: str | None) -> None:
    """Remember the reader's language for messages printed outside a command's body."""
    _LANG[0] = lang


def current_lang() -> str:
    """The language errors and notes are printed in."""
    return resolve_lang(_LANG[0])


def die(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise.

    ``message`` is English (a sentence built with ``t(msgid, "en", …)``); it is
    said in the reader's language here, where the language is known.
    """
    lang = current_lang()
    typer.echo(t("error: {message}", lang, message=localize_lines(message, lang)), err=True)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn capsim's own errors into a one-paragraph message and exit code 2."""
    try:
        yield
    except CapsimError as exc:
        lang = current_lang()
        typer.echo(t("error: {message}", lang, message=exc.render(lang)), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo(t("interrupted", current_lang()), err=True)
        sys.exit(130)


def split_csv(value: str | None) -> list[str]:
    """``"cp,ap"`` -> ``["cp", "ap"]``; empty items dropped."""
    if not value:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]

"""Errors a user can act on: each names the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass

from capsim.i18n import localize, localize_lines, t


class CapsimError(Exception):
    """Base class for errors the CLI prints without a traceback (exit code 2).

    ``str(error)`` is English (logs, tests, result files); :meth:`render` says
    the same in the reader's language.
    """

    def render(self, lang: str | None = None) -> str:
        return localize_lines(str(self), lang)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    source: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"

    def render(self, lang: str | None = None) -> str:
        """The same line with the message in ``lang`` (file, line and field stay as they are)."""
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {localize(self.message, lang)}"


class ScenarioError(CapsimError):
    """A scenario (or sweep) file, or a scenario built in Python, is invalid."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"] + [f"  {p}" for p in self.problems]
        return "\n".join(lines)

    def render(self, lang: str | None = None) -> str:
        if len(self.problems) == 1:
            return self.problems[0].render(lang)
        head = t("{n} problems:", lang, n=len(self.problems))
        return "\n".join([head] + [f"  {p.render(lang)}" for p in self.problems])


class HistoryFormatError(CapsimError):
    """A history file cannot be read."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"

    def render(self, lang: str | None = None) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {localize(self.message, lang)}"


class OutputExistsError(CapsimError):
    """Refuse to overwrite what a user made unless they said ``--force``."""

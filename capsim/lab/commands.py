"""A command a student runs: an argument list plus what it is for.

Fix hints (``doctor``) and chapter steps (``steps``) are built from the same
:class:`Command` objects, so what ``doctor`` tells a student to type is
exactly what ``steps --execute`` would run.
"""

from __future__ import annotations

import getpass
import grp
import os
import platform
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from capsim.lab.distro import Distro, detect


@dataclass(frozen=True)
class Command:
    """One command, never a shell string: ``argv`` is run as is, ``stdin`` fed to it."""

    argv: tuple[str, ...]
    explain: str
    """One line: why this step is here."""
    expect: str = ""
    """What to look for in the output when it worked."""
    stdin: str | None = None
    """Text fed to the program (used to write files with ``tee`` without a shell)."""
    privileged: bool = False
    """Changes the system (packages, ``/etc``, services) or runs through sudo."""
    destructive: bool = False
    """Removes something the student may want to keep."""
    timeout: float = 900.0
    """Seconds before ``--execute`` gives up (package installs and image pulls are slow)."""

    @property
    def needs_yes(self) -> bool:
        return self.privileged or self.destructive

    def render(self) -> str:
        """The command as a student would type it into a shell, copy-paste safe."""
        text = shlex.join(self.argv)
        if self.stdin is None:
            return text
        return f"{text} <<'EOF'\n{self.stdin.rstrip(chr(10))}\nEOF"

    @property
    def marks(self) -> list[str]:
        out = []
        if self.privileged:
            out.append("root")
        if self.destructive:
            out.append("destructive")
        return out


def note(text: str) -> str:
    """A line in a fix list that is advice, not a command (rendered as a shell comment)."""
    return f"# {text}"


@dataclass(frozen=True)
class Context:
    """Everything about the student's machine that changes which commands to give.

    Built by :meth:`detect` on a real machine; tests build it by hand so the
    commands are deterministic.
    """

    distro: Distro
    user: str
    is_root: bool
    in_docker_group: bool
    arch: str
    """Go-style architecture name used in download URLs: ``amd64``, ``arm64``."""
    python: str
    """Absolute interpreter path, so ``sudo python -m capsim`` works whatever sudo's PATH."""
    cwd: Path
    mirror: str | None = None
    """Registry mirror (accelerator) URL the student wants, if any."""
    has_systemd: bool = True
    source_dir: Path | None = None
    """A capsim source tree holding the ``Containerfile``, when capsim runs from one."""

    @classmethod
    def detect(cls, *, os_release: str | Path | None = None, mirror: str | None = None) -> Context:
        user = os.environ.get("SUDO_USER") or _login_name()
        return cls(
            distro=detect(os_release),
            user=user,
            is_root=os.geteuid() == 0,
            in_docker_group=_in_group("docker"),
            arch=_go_arch(platform.machine()),
            python=sys.executable,
            cwd=Path.cwd(),
            mirror=mirror,
            has_systemd=Path("/run/systemd/system").is_dir(),
            source_dir=_source_dir(),
        )

    def sudo(self, *argv: str) -> tuple[str, ...]:
        """Prefix ``sudo`` unless already root."""
        return argv if self.is_root else ("sudo", *argv)

    @property
    def docker_needs_sudo(self) -> bool:
        return not self.is_root and not self.in_docker_group

    def docker(self, *args: str) -> tuple[str, ...]:
        """A docker command, through sudo while the student is not yet in the docker group."""
        argv = ("docker", *args)
        return ("sudo", *argv) if self.docker_needs_sudo else argv

    def capsim(self, *args: str) -> tuple[str, ...]:
        return (self.python, "-m", "capsim", *args)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.geteuid())


def _in_group(group: str) -> bool:
    """Whether *this process* has the group: membership added after login does not count yet."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return False
    return entry.gr_gid in os.getgroups()


def _go_arch(machine: str) -> str:
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine.lower(), machine.lower() or "amd64"
    )


def _source_dir() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "Containerfile").is_file() else None

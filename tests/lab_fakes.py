"""Fake programs for the ``capsim lab`` tests: tiny /bin/sh scripts on a private PATH.

Each fake answers by its first argument (``docker --version`` vs ``docker
version``) and may append its argv to a log, tab-separated, one line per
call; a fake ``tee`` (also through ``sudo``) copies its stdin to ``LOG.stdin``.
Only shell built-ins are used, since the PATH holds nothing but fakes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from capsim.lab.commands import Context
from capsim.lab.distro import detect

CENTOS7 = """\
NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
"""

UBUNTU_2204 = """\
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
"""

ROCKY9 = """\
NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
"""


@dataclass(frozen=True)
class Reply:
    stdout: str = ""
    stderr: str = ""
    code: int = 0


def fake(
    bin_dir: Path,
    name: str,
    replies: dict[str, Reply] | None = None,
    default: Reply = Reply(),
    log: Path | None = None,
) -> Path:
    """Write an executable ``bin_dir/name`` answering per first argument."""
    lines = ["#!/bin/sh"]
    if log is not None:
        q = shlex.quote(str(log))
        lines.append(
            '{ printf \'%s\' "${0##*/}"; for a in "$@"; do printf \'\\t%s\' "$a"; done; '
            f"printf '\\n'; }} >> {q}"
        )
        lines.append(
            f'case " ${{0##*/}} $1 " in *" tee "*) while IFS= read -r l; do '
            f"printf '%s\\n' \"$l\" >> {shlex.quote(str(log) + '.stdin')}; done;; esac"
        )

    def answer(r: Reply) -> list[str]:
        out = []
        if r.stdout:
            out.append(f"printf '%s' {shlex.quote(r.stdout)}")
        if r.stderr:
            out.append(f"printf '%s' {shlex.quote(r.stderr)} >&2")
        out.append(f"exit {r.code}")
        return out

    if replies:
        lines.append('case "$1" in')
        for arg, r in replies.items():
            lines.append(f"  {shlex.quote(arg)})")
            lines.extend("    " + s for s in answer(r))
            lines.append("    ;;")
        lines.append("esac")
    lines.extend(answer(default))
    path = bin_dir / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def recorded(log: Path) -> list[list[str]]:
    """The argv of every call, in order (program name first)."""
    if not log.exists():
        return []
    return [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]


def context(
    os_release: Path,
    *,
    is_root: bool = False,
    in_docker_group: bool = False,
    has_systemd: bool = True,
    mirror: str | None = None,
    cwd: Path = Path("/home/student"),
    python: str = "/opt/venv/bin/python",
    source_dir: Path | None = None,
) -> Context:
    """A machine described by hand, so the commands are the same wherever the tests run."""
    return Context(
        distro=detect(os_release),
        user="student",
        is_root=is_root,
        in_docker_group=in_docker_group,
        arch="amd64",
        python=python,
        cwd=cwd,
        mirror=mirror,
        has_systemd=has_systemd,
        source_dir=source_dir,
    )

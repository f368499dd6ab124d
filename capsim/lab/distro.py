"""Which Linux distribution is this, and so which package manager the fixes use.

Read from ``/etc/os-release`` (the freedesktop standard every current
distribution ships). The path can be overridden with the
``CAPSIM_OS_RELEASE`` environment variable or a parameter, so tests (and a
teacher preparing fixes for another machine) can point it elsewhere.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OS_RELEASE = Path("/etc/os-release")
OS_RELEASE_ENV = "CAPSIM_OS_RELEASE"

_RHEL_IDS = {"rhel", "centos", "fedora", "rocky", "almalinux", "ol", "anolis", "openeuler"}
_DEBIAN_IDS = {"debian", "ubuntu", "linuxmint", "raspbian", "deepin", "uos"}


@dataclass(frozen=True)
class Distro:
    """The facts the fix commands depend on."""

    id: str
    """``ID`` from os-release, e.g. ``centos``, ``ubuntu``; ``""`` when unknown."""
    name: str
    """``PRETTY_NAME``, for people."""
    version_id: str
    codename: str
    """``VERSION_CODENAME`` (apt repositories are keyed by it); may be empty."""
    family: str
    """``rhel`` (yum), ``debian`` (apt) or ``unknown``."""
    source: str
    """Where this was read from, so a report can say so."""

    @property
    def package_manager(self) -> str | None:
        return {"rhel": "yum", "debian": "apt"}.get(self.family)

    @property
    def major(self) -> int | None:
        head = self.version_id.split(".", 1)[0]
        return int(head) if head.isdigit() else None

    @property
    def apt_id(self) -> str:
        """The folder name docker's and Kubernetes' apt mirrors use for this distribution."""
        return "ubuntu" if self.id == "ubuntu" else "debian"


def os_release_path(path: str | Path | None = None) -> Path:
    """The explicit ``path`` if given, else ``$CAPSIM_OS_RELEASE``, else ``/etc/os-release``."""
    if path is not None:
        return Path(path)
    env = os.environ.get(OS_RELEASE_ENV)
    return Path(env) if env else DEFAULT_OS_RELEASE


def parse_os_release(text: str) -> dict[str, str]:
    """Parse ``KEY=value`` lines; values may be shell-quoted, as the standard allows."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        fields[key.strip()] = parts[0] if parts else ""
    return fields


def detect(path: str | Path | None = None) -> Distro:
    """Read os-release; an unreadable file gives an ``unknown`` distribution, never an error."""
    p = os_release_path(path)
    try:
        fields = parse_os_release(p.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return Distro("", "unknown (no readable os-release)", "", "", "unknown", str(p))
    ident = fields.get("ID", "").lower()
    like = set(fields.get("ID_LIKE", "").lower().split())
    if ident in _RHEL_IDS or like & {"rhel", "centos", "fedora"}:
        family = "rhel"
    elif ident in _DEBIAN_IDS or like & {"debian", "ubuntu"}:
        family = "debian"
    else:
        family = "unknown"
    codename = fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME", "")
    if family == "debian" and ident not in {"debian", "ubuntu"} and fields.get("UBUNTU_CODENAME"):
        # Mint and friends: docker's and Kubernetes' repositories know the Ubuntu base only.
        ident, codename = "ubuntu", fields["UBUNTU_CODENAME"]
    name = fields.get("PRETTY_NAME") or fields.get("NAME") or ident or "unknown"
    return Distro(ident, name, fields.get("VERSION_ID", ""), codename, family, str(p))

"""``capsim lab mirror``: add a registry mirror to docker's ``daemon.json`` without losing anything.

``daemon.json`` often holds settings a student (or their university's IT)
put there on purpose: storage drivers, log options, insecure registries.
So this module only ever *adds* one URL to ``registry-mirrors``: every other
key is kept as it was, an unreadable or invalid file is refused untouched,
the old file is backed up, and the new one appears atomically.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from capsim import atomic
from capsim.errors import CapsimError

DEFAULT_DAEMON_JSON = Path("/etc/docker/daemon.json")
KEY = "registry-mirrors"


class MirrorError(CapsimError):
    """The URL or the existing ``daemon.json`` cannot be used; nothing was changed."""


@dataclass(frozen=True)
class MirrorResult:
    path: Path
    url: str
    changed: bool
    created: bool
    backup: Path | None
    mirrors: tuple[str, ...]


def normalise_url(url: str) -> str:
    """Check ``url`` the way dockerd does (http/https, no credentials, query or fragment)."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MirrorError(
            f"{url!r} is not a registry mirror URL; write it like https://xxxx.mirror.aliyuncs.com"
        )
    if parts.username or parts.password:
        raise MirrorError(f"{url!r}: dockerd refuses credentials inside a mirror URL")
    if parts.query or parts.fragment:
        raise MirrorError(f"{url!r}: dockerd refuses a query (?) or fragment (#) in a mirror URL")
    return text.rstrip("/")


def _same(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def load(path: Path) -> tuple[dict[str, Any], bytes | None]:
    """The parsed config and the file's exact bytes (``None`` when there is no file).

    Raises :class:`PermissionError` for an unreadable file, so the caller can
    say how to re-run with sudo; everything else wrong is a :class:`MirrorError`.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except IsADirectoryError:
        raise MirrorError(f"{path} is a directory, not a file; nothing was changed") from None
    except NotADirectoryError:
        raise MirrorError(
            f"{path}: a parent of it is not a directory; nothing was changed"
        ) from None
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return {}, raw
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MirrorError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
            "docker would not start with it either. Fix it by hand "
            f"(python3 -m json.tool {path} shows where) and run this again; nothing was changed"
        ) from None
    if not isinstance(data, dict):
        raise MirrorError(
            f"{path}: the top level must be a JSON object {{...}}, not {type(data).__name__}; "
            "nothing was changed"
        )
    return data, raw


def add_mirror(url: str, path: str | Path = DEFAULT_DAEMON_JSON) -> MirrorResult:
    """Append ``url`` to ``registry-mirrors`` in ``path``; a no-op when it is already listed."""
    p = Path(path)
    clean = normalise_url(url)
    try:
        data, raw = load(p)
    except PermissionError:
        raise MirrorError(f"cannot read {p}: permission denied; {_sudo_hint(clean, p)}") from None
    current = data.get(KEY, [])
    if not isinstance(current, list) or not all(isinstance(m, str) for m in current):
        raise MirrorError(
            f"{p}: {KEY!r} must be a list of URLs, found {json.dumps(current)}; nothing was changed"
        )
    if any(_same(m, clean) for m in current):
        return MirrorResult(p, clean, False, False, None, tuple(current))
    if raw is not None and not os.access(p, os.W_OK):
        raise MirrorError(f"{p} is read-only for you; nothing was changed; {_sudo_hint(clean, p)}")
    mirrors = [*current, clean]
    data[KEY] = mirrors  # an existing key keeps its place; a new one goes last
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    mode = stat.S_IMODE(p.stat().st_mode) if raw is not None else 0o644
    backup = _free_backup_name(p) if raw is not None else None
    try:
        if backup is not None and raw is not None:
            atomic.write_bytes(backup, raw)
            os.chmod(backup, mode)
        try:
            atomic.write_text(p, text)
        except BaseException:
            if backup is not None:
                backup.unlink(missing_ok=True)
            raise
        os.chmod(p, mode)
    except PermissionError:
        raise MirrorError(
            f"cannot write in {p.parent}: permission denied; nothing was changed; "
            + _sudo_hint(clean, p)
        ) from None
    except OSError as exc:
        raise MirrorError(f"cannot write {p}: {exc.strerror or exc}; nothing was changed") from None
    return MirrorResult(p, clean, True, raw is None, backup, tuple(mirrors))


def _free_backup_name(path: Path) -> Path:
    """``daemon.json.bak``, else ``.bak.1``, ``.bak.2``...: never overwrite an older backup."""
    candidate = path.with_name(path.name + ".bak")
    n = 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.bak.{n}")
    return candidate


def _sudo_hint(url: str, path: Path) -> str:
    """The same command again as root, with the interpreter's absolute path (sudo resets PATH)."""
    cmd = f"sudo {sys.executable} -m capsim lab mirror {url}"
    if path != DEFAULT_DAEMON_JSON:
        cmd += f" --daemon-json {path}"
    return f"run it as root: {cmd}"


def restart_hint(is_root: bool) -> list[str]:
    """The commands to make dockerd re-read ``daemon.json``, which it reads only at start."""
    sudo = "" if is_root else "sudo "
    return [
        f"{sudo}systemctl daemon-reload",
        f"{sudo}systemctl restart docker",
        "docker info --format '{{.RegistryConfig.Mirrors}}'   # should list the mirror",
    ]

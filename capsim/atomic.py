"""Atomic writes: a reader never sees half a file, a crash never leaves one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from capsim.errors import OutputExistsError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _umask_mode() -> int:
    """The mode a plain ``open()`` would give a new file (mkstemp uses 0600)."""
    return 0o666 & ~_umask()


def _mode_for(p: Path) -> int:
    try:
        return p.stat().st_mode & 0o7777
    except FileNotFoundError:
        return _umask_mode()


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _mode_for(p))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_lines(path: str | Path, lines: Iterable[str]) -> None:
    """Like :func:`write_text`, from an iterable of lines, buffered, never joined in memory."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as fh:
            fh.writelines(lines)
        os.chmod(tmp, _mode_for(p))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _mode_for(p))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def staging_dir(target: str | Path, *, force: bool) -> Path:
    """Make an empty sibling folder to fill, to be moved in by :func:`commit_dir`.

    Raises ``OutputExistsError`` up front when ``target`` exists and
    ``force`` is false, so no work is wasted.
    """
    t = Path(target)
    if t.exists() and not force:
        raise OutputExistsError(f"{t} already exists; pass --force to replace it")
    t.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{t.name}.", suffix=".tmp", dir=t.parent))
    os.chmod(staged, 0o777 & ~_umask())  # mkdtemp makes 0700; a run folder is shared
    return staged


def commit_dir(staged: Path, target: str | Path, *, force: bool) -> None:
    """Move a filled staging folder into place, replacing ``target`` only if forced."""
    t = Path(target)
    if t.exists():
        if not force:
            shutil.rmtree(staged, ignore_errors=True)
            raise OutputExistsError(f"{t} already exists; pass --force to replace it")
        old = t.with_name(f".{t.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(t, old)
        os.replace(staged, t)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, t)

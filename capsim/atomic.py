"""Atomic writes: a reader never sees half a file, a crash never leaves one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
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


#: A file ``capsim run`` puts in every run folder it writes, recording each
#: file it wrote there with its SHA-256. A folder whose files all still match
#: is capsim's own output: the next run with the same ``--out`` replaces it
#: without ``--force``. A folder without it, or where a file was changed or
#: added since, is the user's and needs ``--force``.
RUN_MARKER = ".capsim-run"


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path, marker: str) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != marker)


def seal(
    folder: str | Path, marker: str = RUN_MARKER, *, only: Sequence[Path] | None = None
) -> None:
    """Record every file in ``folder`` as capsim's.

    With ``only``, record just those files (capsim just wrote them) and keep
    the other records as they were.
    """
    import json

    f = Path(folder)
    records = _records(f, marker) if only is not None else {}
    for p in (_files(f, marker) if only is None else only):
        records[p.relative_to(f).as_posix()] = _sha256(p)
    doc = {"written_by": "capsim", "note": "capsim replaces this folder only while every "
           "file below matches; change or add a file and it needs --force", "files": records}
    write_text(f / marker, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def _records(folder: Path, marker: str) -> dict[str, str]:
    import json

    try:
        doc = json.loads((folder / marker).read_text(encoding="utf-8"))
        files = doc["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def not_capsims(folder: str | Path, marker: str = RUN_MARKER) -> str | None:
    """None when capsim wrote ``folder`` and nothing in it changed since; else why not."""
    f = Path(folder)
    if not (f / marker).is_file():
        return "capsim did not write it"
    records = _records(f, marker)
    for p in _files(f, marker):
        rel = p.relative_to(f).as_posix()
        if rel not in records:
            return f"{rel} was added after capsim wrote it"
        if _sha256(p) != records[rel]:
            return f"{rel} was changed after capsim wrote it"
    return None


def is_capsim_folder(path: str | Path, marker: str = RUN_MARKER) -> bool:
    """True when capsim wrote ``path`` and nothing in it changed since: capsim's to replace."""
    return not_capsims(path, marker) is None


def capsim_wrote_file(path: str | Path, marker: str = RUN_MARKER) -> bool:
    """True when capsim recorded ``path`` in a marker above it and it is unchanged since."""
    p = Path(path)
    for folder in list(p.parents)[:3]:
        if (folder / marker).is_file():
            rel = p.relative_to(folder).as_posix()
            rec = _records(folder, marker).get(rel)
            return rec is not None and p.is_file() and _sha256(p) == rec
    return False


def check_target(t: Path, *, force: bool, marker: str | None = None) -> None:
    """Raise ``OutputExistsError`` when ``t`` may not become (or replace) a folder.

    Touches nothing on disk, so a command can ask before it does any work.
    A path the system cannot use (a name too long, no permission) is said so too.
    """
    try:
        _check_target(Path(t), force=force, marker=marker)
    except OSError as exc:
        shown = str(t) if len(str(t)) <= 120 else str(t)[:100] + "…"
        raise OutputExistsError(
            f"cannot use {shown} as the output folder: {exc.strerror or exc}"
        ) from None


def file_in_the_way(t: Path, option: str = "--out") -> str | None:
    """Why the folder ``t`` cannot be made: it, or a folder above it, is a file."""
    for parent in t.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                return (f"{parent} is a file, so {t} cannot be made inside it; "
                        f"choose another {option}")
            break
    if (t.exists() or t.is_symlink()) and (not t.is_dir() or t.is_symlink()):
        return (f"{t} is a file, not a folder; capsim never replaces a file with a folder "
                f"(choose another {option}, or remove it yourself)")
    return None


def _check_target(t: Path, *, force: bool, marker: str | None) -> None:
    problem = file_in_the_way(t)
    if problem is not None:
        raise OutputExistsError(problem)
    if not (t.exists() or t.is_symlink()):
        return
    why = None if marker is None else not_capsims(t, marker)
    if marker is not None and why is None:
        return
    if not force:
        if marker is not None and (t / marker).is_file():
            raise OutputExistsError(
                f"{t} was written by capsim, but {why}; pass --force to replace it anyway, "
                "or choose another --out"
            )
        raise OutputExistsError(f"{t} already exists; pass --force to replace it")
    here = Path.cwd().resolve()
    real = t.resolve()
    if real == here or real in here.parents or real == Path.home().resolve():
        raise OutputExistsError(
            f"{t} is the current folder, one of its parents or your home folder; "
            "capsim will not replace it even with --force (choose another --out)"
        )


def staging_dir(target: str | Path, *, force: bool, marker: str | None = None) -> Path:
    """Make an empty sibling folder to fill, to be moved in by :func:`commit_dir`.

    Raises ``OutputExistsError`` up front when ``target`` exists and
    ``force`` is false, so no work is wasted; also when ``target`` (or one of
    its parents) is a regular file, even with ``force``. With ``marker``, a
    folder capsim sealed (:func:`seal`) and nobody changed since is capsim's
    own and is replaced without ``force``.
    """
    t = Path(target)
    check_target(t, force=force, marker=marker)
    try:
        t.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{t.name[:40]}.", suffix=".tmp", dir=t.parent))
    except OSError as exc:
        shown = str(t) if len(str(t)) <= 120 else str(t)[:100] + "…"
        raise OutputExistsError(
            f"cannot make the folder {shown}: {exc.strerror or exc}"
        ) from None
    os.chmod(staged, 0o777 & ~_umask())  # mkdtemp makes 0700; a run folder is shared
    return staged


def commit_dir(
    staged: Path, target: str | Path, *, force: bool, marker: str | None = None
) -> None:
    """Move a filled staging folder into place.

    ``target`` is replaced only if forced or, with ``marker``, if it is capsim's own folder.
    """
    t = Path(target)
    if t.exists():
        try:
            check_target(t, force=force, marker=marker)
        except OutputExistsError:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        old = t.with_name(f".{t.name[:40]}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(t, old)
        try:
            os.replace(staged, t)
        except OSError:
            os.replace(old, t)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        try:
            os.replace(staged, t)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise OutputExistsError(f"cannot make the folder {t}: {exc.strerror or exc}") from None

"""Download minikube and kubectl from a mirror a classroom in China can reach, checked.

github.com and dl.k8s.io are slow or unreachable from many Chinese networks,
so each binary is fetched first from DaoCloud's public binary mirror
(``files.m.daocloud.io``; https://github.com/DaoCloud/public-binary-files-mirror),
which serves upstream files under the upstream path, and only then from
upstream itself. Either way the binary must match the ``.sha256`` file
published next to it *by the same source*; a mismatch is never installed and
the next source is tried. The binary lands atomically in a folder on PATH:
``~/.local/bin`` for a normal user (no root needed), ``/usr/local/bin`` when
the student said ``--yes`` (through sudo).

Versions are pinned (not "latest"): a mirror cannot resolve "latest", and a
class should all run the same minikube.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from capsim.errors import CapsimError
from capsim.i18n import t

MINIKUBE_VERSION = "v1.35.0"
"""The minikube release ``capsim lab steps minikube`` installs (its default Kubernetes: 1.32)."""

DAOCLOUD = "https://files.m.daocloud.io"
"""DaoCloud's mirror: ``{DAOCLOUD}/github.com/…`` and ``{DAOCLOUD}/dl.k8s.io/…`` mirror them."""

USER_BIN = Path("~/.local/bin")
SYSTEM_BIN = Path("/usr/local/bin")
TOOLS = ("minikube", "kubectl")
_CHUNK = 1 << 20
_HEX64 = re.compile(r"\b([0-9a-fA-F]{64})\b")

Opener = Callable[[str], IO[bytes]]


class DownloadError(CapsimError):
    """No source gave a binary that matches its published checksum; nothing was installed."""


@dataclass(frozen=True)
class Source:
    """Where one binary and its checksum come from."""

    label: str
    url: str

    @property
    def sha256_url(self) -> str:
        return self.url + ".sha256"


def upstream_url(tool: str, arch: str, k8s: str) -> str:
    """The project's own download address (the documented fallback)."""
    if tool == "minikube":
        return (f"https://github.com/kubernetes/minikube/releases/download/{MINIKUBE_VERSION}/"
                f"minikube-linux-{arch}")
    if tool == "kubectl":
        return f"https://dl.k8s.io/release/v{k8s}.0/bin/linux/{arch}/kubectl"
    raise ValueError(f"unknown tool {tool!r}; choose from {', '.join(TOOLS)}")


def sources(tool: str, arch: str, k8s: str) -> list[Source]:
    """The domestic mirror first, then upstream: the same file under the same path."""
    up = upstream_url(tool, arch, k8s)
    mirror = DAOCLOUD + "/" + up.split("://", 1)[1]
    return [Source(t("DaoCloud mirror", "en"), mirror), Source(t("upstream", "en"), up)]


def default_bin_dir(system: bool) -> Path:
    """``/usr/local/bin`` (with --yes, through sudo) or ``~/.local/bin`` (no root needed)."""
    return SYSTEM_BIN if system else USER_BIN.expanduser()


def _open(url: str) -> IO[bytes]:
    req = urllib.request.Request(url, headers={"User-Agent": "capsim-lab"})
    return urllib.request.urlopen(req, timeout=60)


def _expected_sha256(src: Source, opener: Opener) -> str:
    with opener(src.sha256_url) as fh:
        text = fh.read(4096).decode("ascii", errors="replace")
    m = _HEX64.search(text)
    if m is None:
        raise ValueError(t("{url} does not hold a sha256 checksum", "en", url=src.sha256_url))
    return m.group(1).lower()


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def fetch(
    tool: str,
    dest_dir: Path,
    *,
    arch: str,
    k8s: str,
    opener: Opener | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Download ``tool``, check its sha256, install it as ``dest_dir/tool`` (mode 0755).

    ``opener(url)`` returns a readable binary stream (default: urllib, 60 s
    timeout). Tries each of :func:`sources` in turn; a source that cannot be reached or
    whose file does not match its checksum is reported and skipped.
    """
    opener = opener or _open
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / tool
    failures: list[str] = []
    for src in sources(tool, arch, k8s):
        echo(t("{tool}: trying {source} {url}", "en", tool=tool, source=src.label, url=src.url))
        fd, tmp = tempfile.mkstemp(prefix=f".{tool}.", suffix=".part", dir=dest_dir)
        try:
            want = _expected_sha256(src, opener)
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, opener(src.url) as fh:
                for chunk in _chunks(fh):
                    digest.update(chunk)
                    out.write(chunk)
            got = digest.hexdigest()
            if got != want:
                failures.append(t("{source}: checksum mismatch (got {got}, {sha_url} says {want})",
                                  "en", source=src.label, got=got, sha_url=src.sha256_url,
                                  want=want))
                echo(failures[-1])
                continue
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
            echo(t("{tool}: sha256 {sha} matches {sha_url}; installed {path}", "en", tool=tool,
                   sha=got, sha_url=src.sha256_url, path=target))
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:
            failures.append(t("{source} failed: {problem}", "en", source=src.label,
                              problem=str(getattr(exc, "reason", None) or exc)))
            echo(failures[-1])
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise DownloadError(t("could not install {tool}; nothing was changed ({items})", "en",
                          tool=tool, items=t("; ", "en").join(failures)))


def path_advice(folder: Path) -> str:
    """What to type when ``folder`` is not on PATH yet."""
    return t('note: {folder} is not on your PATH; add it: export PATH="{folder}:$PATH"', "en",
             folder=folder)


def on_path(folder: Path, path_var: str | None = None) -> bool:
    """Whether ``folder`` is one of the folders in ``$PATH``."""
    entries = (path_var if path_var is not None else os.environ.get("PATH", "")).split(os.pathsep)
    want = os.path.realpath(folder)
    return any(e and os.path.realpath(os.path.expanduser(e)) == want for e in entries)


__all__ = ["DAOCLOUD", "MINIKUBE_VERSION", "DownloadError", "Source", "default_bin_dir", "fetch",
           "on_path", "path_advice", "sources", "upstream_url"]

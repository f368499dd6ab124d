"""A reaper: removes a live run's temporary folders if the driver dies first.

``capsim live`` keeps the replicas' data folders (and the CLI its staging
folder) in temporary folders that its ``finally`` blocks remove. A SIGKILL
runs no ``finally``: the replicas notice (their lifeline closes) and exit,
but the folders would stay. So the driver starts one tiny helper process in
its own session, tells it each folder on a pipe (``+PATH`` to watch,
``-PATH`` when the driver removed or kept it itself), and never writes
anything else. When the pipe closes, the helper removes what is still
listed: nothing after a clean exit, everything after a crash. It removes
again a little later, in case a replica that was still exiting wrote into a
folder after the first pass.

The helper is plain standard-library code run with ``python -I -S``, so it
starts in a few milliseconds and imports nothing from capsim.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

_CODE = r"""
import shutil, sys, time
paths = set()
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("+"):
        paths.add(line[1:])
    elif line.startswith("-"):
        paths.discard(line[1:])
if paths:
    for pause in (0.5, 2.5, 3.0):   # the replicas exit within ~3 s of losing the driver
        time.sleep(pause)
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)
"""


class Reaper:
    """The driver's side of the reaper: a pipe to the helper process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _CODE],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or kill of the driver's group spares it
        )
        self.listed: set[str] = set()

    def _say(self, line: str) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.write((line + "\n").encode("utf-8", "surrogateescape"))
                self.proc.stdin.flush()

    def add(self, path: Path) -> None:
        """Remove ``path`` if this process dies before :meth:`forget`."""
        text = str(Path(path).resolve())
        self.listed.add(text)
        self._say("+" + text)

    def forget(self, path: Path) -> None:
        """``path`` is taken care of (removed, or committed under another name)."""
        text = str(Path(path).resolve())
        self.listed.discard(text)
        self._say("-" + text)

    def close(self) -> None:
        """Close the pipe: the helper removes what is still listed, then exits.

        After a clean end nothing is listed and the helper is waited for; else
        it is left to finish in the background (it outlives this process).
        """
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        if not self.listed:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)


__all__ = ["Reaper"]

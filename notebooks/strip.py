"""Strip the classroom notebooks of outputs, so they are stored (and diffed) as source only.

    python notebooks/strip.py              # strip every notebook in this folder, in place
    python notebooks/strip.py a.ipynb ...  # strip these
    python notebooks/strip.py --check      # list what would change; exit 1 if anything would

A notebook run in Jupyter gains outputs (images, tables), execution counts,
per-cell timing and the Python version of whoever ran it last. None of that
belongs in git: it bloats the history and turns every run into a diff. This
keeps the cells' sources, ids and tags, and resets the rest to what a fresh
notebook has. A file is rewritten only when something changes, and then
atomically. Needs only nbformat (installed with ``.[notebooks]``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

HERE = Path(__file__).resolve().parent

#: Cell metadata Jupyter and nbclient add while running; everything else (tags…) is kept.
RUN_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")

#: Notebook metadata kept; the rest (widget state, language version…) is per-run noise.
KEPT_NOTEBOOK_METADATA = ("kernelspec",)


def strip(nb: Any) -> list[str]:
    """Strip ``nb`` in place; return what was removed, in words (empty: it was clean)."""
    removed: list[str] = []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            if cell.get("outputs"):
                removed.append(f"cell {i}: outputs")
                cell.outputs = []
            if cell.get("execution_count") is not None:
                removed.append(f"cell {i}: execution count")
                cell.execution_count = None
        for key in RUN_METADATA:
            if key in cell.metadata:
                removed.append(f"cell {i}: metadata.{key}")
                del cell.metadata[key]
        if cell.cell_type == "markdown" and cell.get("attachments") == {}:
            del cell["attachments"]
    meta = nb.metadata
    for key in list(meta):
        if key not in KEPT_NOTEBOOK_METADATA and key != "language_info":
            removed.append(f"metadata.{key}")
            del meta[key]
    lang = meta.get("language_info")
    if lang is not None and set(lang) != {"name"}:
        removed.append("metadata.language_info (beyond its name)")
        meta["language_info"] = {"name": lang.get("name", "python")}
    return removed


def _write_atomically(path: Path, nb: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="notebooks to strip (default: every *.ipynb here and in zh/)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; list notebooks with outputs and exit 1 if any")
    args = parser.parse_args(argv)
    files = args.files or [*sorted(HERE.glob("*.ipynb")), *sorted(HERE.glob("zh/*.ipynb"))]
    dirty = 0
    for path in files:
        try:
            nb = nbformat.read(path, as_version=4)
        except (OSError, ValueError) as exc:  # unreadable, or not notebook JSON
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 2
        removed = strip(nb)
        if not removed:
            continue
        dirty += 1
        shown = ", ".join(removed[:4]) + (f" and {len(removed) - 4} more" if len(removed) > 4
                                          else "")
        if args.check:
            print(f"{path}: not stripped ({shown})")
        else:
            _write_atomically(path, nb)
            print(f"{path}: stripped {shown}")
    if args.check and dirty:
        print(f"{dirty} notebook(s) have outputs; run: python notebooks/strip.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

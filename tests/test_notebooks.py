"""The classroom notebooks run top to bottom in a fresh kernel, and are stored clean.

A notebook that stops running in front of a class is worse than none, so each
one is executed here exactly as a student would: a new kernel of this Python,
every cell in order, from the notebook's own folder. Figures must arrive as
images (a figure that shows up as ``<Figure size …>`` text is a broken plot),
and no cell may print to stderr (a warning box in class is a bug too).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
STRIP = NOTEBOOK_DIR / "strip.py"

#: Seconds one notebook may take, start of kernel to last cell (each needs ~10-25 s).
NOTEBOOK_TIMEOUT = 120
#: Seconds one cell may take.
CELL_TIMEOUT = 90

#: What a figure looks like when no image was rendered for it.
UNRENDERED = ("<Figure size", "<Axes", "<matplotlib.")


def test_the_course_notebooks_are_all_here():
    assert [p.name for p in NOTEBOOKS] == [
        "01-cap-story.ipynb",
        "02-availability-vs-consistency.ipynb",
        "03-quorums-and-staleness.ipynb",
        "04-write-your-own-property.ipynb",
        "05-every-schedule.ipynb",
    ]
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for p in NOTEBOOKS:
        assert p.name in readme, f"notebooks/README.md does not list {p.name}"


def test_the_kernel_is_this_python():
    # nbclient starts the kernelspec "python3"; jupyter_client swaps a bare
    # `python` in its argv for sys.executable. A kernelspec elsewhere on the
    # Jupyter path that names another interpreter would run the notebooks
    # against a different capsim (or none), so catch it here, by name.
    cmd = KernelManager(kernel_name="python3").format_kernel_cmd()
    assert cmd[0] == sys.executable, (
        f"kernelspec python3 runs {cmd[0]}, not this Python ({sys.executable}); "
        "remove the stray kernelspec or run `python -m ipykernel install --sys-prefix`"
    )


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_TIMEOUT)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # Agg: no window may ever open; the notebooks' `%matplotlib inline` renders
    # their figures to PNG exactly as in Jupyter.
    client.execute(env={**os.environ, "MPLBACKEND": "Agg"})

    images = 0
    for i, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"{path.name} cell {i} wrote to stderr:\n{out.text}")
            data = out.get("data", {})
            if "image/png" in data:
                images += 1
            elif out.output_type in ("execute_result", "display_data"):
                text = data.get("text/plain", "")
                assert not text.startswith(UNRENDERED), (
                    f"{path.name} cell {i} shows a figure as text ({text!r}): "
                    "it was not rendered inline"
                )
    assert images >= 1, f"{path.name} drew no figure"


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for i, cell in enumerate(nb.cells, start=1):
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name} cell {i} has outputs"
                assert cell.execution_count is None, f"{path.name} cell {i} was executed"
    # ...and the documented strip command agrees (it also checks run metadata).
    done = subprocess.run([sys.executable, str(STRIP), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_strip_removes_what_a_run_adds(tmp_path: Path):
    clean = NOTEBOOKS[0].read_text(encoding="utf-8")
    nb = nbformat.reads(clean, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.execution_count = 3
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    code.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.metadata["widgets"] = {"state": {}}
    dirty = tmp_path / "dirty.ipynb"
    nbformat.write(nb, dirty)

    check = subprocess.run([sys.executable, str(STRIP), "--check", str(dirty)],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 1 and "outputs" in check.stdout
    assert dirty.read_text(encoding="utf-8") != clean  # --check changed nothing

    subprocess.run([sys.executable, str(STRIP), str(dirty)], check=True, capture_output=True)
    assert dirty.read_text(encoding="utf-8") == clean
    again = subprocess.run([sys.executable, str(STRIP), "--check", str(dirty)],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0

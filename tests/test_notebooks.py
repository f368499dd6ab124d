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
#: The same notebooks with a Chinese narrative (same code, ``LANG = "zh"``).
ZH_NOTEBOOKS = sorted((NOTEBOOK_DIR / "zh").glob("[0-9][0-9]-*.ipynb"))
#: A code cell tagged ``output-contains:TEXT`` must show TEXT when run: what the
#: narrative promises (a counterexample, a unit in a column name) is really there.
CONTAINS_TAG = "output-contains:"
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
        "06-what-ap-still-promises.ipynb",
        "07-what-etcd-does.ipynb",
    ]
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for p in NOTEBOOKS:
        assert p.name in readme, f"notebooks/README.md does not list {p.name}"
    assert [p.name for p in ZH_NOTEBOOKS] == [p.name for p in NOTEBOOKS]
    for p in ZH_NOTEBOOKS:
        assert f"zh/{p.name}" in readme, f"notebooks/README.md does not list zh/{p.name}"


def _code(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_chinese_notebooks_run_the_same_code(path: Path):
    """Same cells, same statements; only LANG, comments and the words printed differ."""
    import ast
    import re

    zh = nbformat.read(path, as_version=4)
    en = nbformat.read(NOTEBOOK_DIR / path.name, as_version=4)
    assert [c.cell_type for c in zh.cells] == [c.cell_type for c in en.cells]

    def shape(src: str) -> str:
        tree = ast.parse("\n".join(x for x in src.splitlines() if not x.startswith("%")))
        for node in ast.walk(tree):  # strings are words, not code
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                node.value = ""
        return ast.dump(tree)

    for i, (a, b) in enumerate(zip(_code(path), _code(NOTEBOOK_DIR / path.name), strict=True)):
        assert shape(a) == shape(b), f"{path.name} code cell {i} differs from the English one"
    assert 'LANG = "zh"' in _code(path)[0]
    narrative = "".join(c.source for c in zh.cells if c.cell_type == "markdown")
    han = len(re.findall(r"[\u4e00-\u9fff]", narrative))
    assert han > 0.3 * len(re.sub(r"\s", "", narrative)), "the narrative is not Chinese"


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
@pytest.mark.parametrize("path", NOTEBOOKS + ZH_NOTEBOOKS,
                         ids=lambda p: f"{p.parent.name}-{p.stem}" if p.parent.name == "zh"
                         else p.stem)
def test_notebook_runs_top_to_bottom(path: Path):
    if path.parent.name == "zh":
        from capsim.plot.style import cjk_font

        if cjk_font() is None:
            pytest.skip("no Chinese font installed (or --no-cjk-font): the Chinese notebooks "
                        "draw Chinese labels; install fonts-wqy-microhei to run them")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    # Agg: no window may ever open; the notebooks' `%matplotlib inline` renders
    # their figures to PNG exactly as in Jupyter.
    client.execute(env={**os.environ, "MPLBACKEND": "Agg"})

    images = 0
    for i, cell in enumerate(nb.cells, start=1):
        shown = "".join(
            out.get("text", "") + out.get("data", {}).get("text/plain", "")
            + out.get("data", {}).get("text/html", "")
            for out in cell.get("outputs", [])
        )
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith(CONTAINS_TAG):
                want = tag[len(CONTAINS_TAG):]
                assert want in shown, f"{path.name} cell {i} should show {want!r}"
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
    for path in NOTEBOOKS + ZH_NOTEBOOKS:
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

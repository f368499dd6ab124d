"""What the notebooks' pictures must (not) say, checked on the figures themselves.

The notebook test only knows a figure was rendered; these run the few cells
that draw the pictures the issue found misleading and ask the figure: is the
caption this story's, does the dashed break line stay clear of every label?
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import matplotlib
import nbformat
import pytest
from matplotlib.text import Text

from .plot_cases import texts

matplotlib.use("Agg")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _run_cells(path: Path, *indices: int) -> Any:
    """Run these code cells in one namespace; return the value of the last one's last line."""
    cells = nbformat.read(path, as_version=4).cells
    ns: dict[str, Any] = {}
    value = None
    for i in indices:
        src = "\n".join(x for x in cells[i].source.splitlines() if not x.startswith("%"))
        tree = ast.parse(src)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:
            tree.body = tree.body[:-1]
        exec(compile(tree, str(path), "exec"), ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(path), "eval"), ns)
    return value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_notebook_02_captions_the_busy_story_not_the_seed_story(lang: str) -> None:
    if lang == "zh":
        from capsim.plot.style import cjk_font

        if cjk_font() is None:
            pytest.skip("no Chinese font installed (or --no-cjk-font): the zh notebook's "
                        "captions fall back to English")
    path = NOTEBOOKS / ("zh" if lang == "zh" else "") / "02-availability-vs-consistency.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    story_cell = next(i for i, c in enumerate(cells) if "busy-story" in c.metadata.get("tags", []))
    fig = _run_cells(path, 1, story_cell)
    words = " ".join(texts(fig))
    assert "alice writes v1 to G1" not in words and "alice 把 v1 写到 G1" not in words
    assert "busy" in words
    assert ("Four clients" if lang == "en" else "四个客户端") in words


def _extent(artist: Any, renderer: Any) -> Any:
    return artist.get_window_extent(renderer=renderer)


def test_the_dashed_break_line_crosses_no_label() -> None:
    """Notebook 04's shrunk CAP story: the line at t=0.05 s ran through "write v1"."""
    from capsim import parse_scenario_text, simulate
    from capsim.plot import timeline

    shrunk = """
name: generated
duration: 1.1
nodes: [G1, G2]
initial: {x: v0}
policy: ap
nemesis:
- {at: 0.0, partition: [[G1], [G2]]}
- {at: 0.05, heal: true}
clients: [{name: c1, node: G1}, {name: c2, node: G2}]
operations:
- {at: 0.0, client: c1, write: {x: v1}}
- {at: 0.05, client: c2, read: x}
"""
    from capsim.plot.style import cjk_font

    for lang in ("en", "zh") if cjk_font() is not None else ("en",):
        fig = timeline(simulate(parse_scenario_text(shrunk)), lang=lang)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        ax = fig.axes[0]
        lines = [ln for ln in ax.get_lines() if ln.get_gid() == "breaks"]
        assert len(lines) == 1
        line_box = _extent(lines[0], renderer)
        x = (line_box.x0 + line_box.x1) / 2
        labels = [t for t in ax.findobj(Text) if t.get_text().strip() and t.get_visible()]
        assert any(("write v1" if lang == "en" else "写 v1") == t.get_text() for t in labels)
        for t in labels:
            box = _extent(t, renderer)
            overlaps_y = box.y1 > line_box.y0 and box.y0 < line_box.y1
            crossed = box.x0 < x < box.x1 and overlaps_y
            assert not crossed, f"the break line crosses {t.get_text()!r}"

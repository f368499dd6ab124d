"""``capsim run --plot/--no-plot/--messages/--lang`` and ``capsim plot RUN_DIR``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.plot import compare, figure_bytes
from tests.plot_cases import seed

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _images(folder: Path) -> set[str]:
    return {f for f in _files(folder) if f.endswith((".png", ".svg", ".pdf"))}


def test_run_writes_a_timeline_per_policy_and_a_comparison(tmp_path):
    out = tmp_path / "seed"
    res = runner.invoke(app, ["run", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert _images(out) == {"cp/timeline.png", "ap/timeline.png", "compare.png"}
    assert (out / "compare.png").read_bytes().startswith(PNG)
    assert not [f for f in _files(tmp_path) if f.endswith(".tmp")]


def test_one_policy_svg_pdf_and_messages(tmp_path):
    out = tmp_path / "ap"
    res = runner.invoke(app, ["run", "-p", "ap", "--out", str(out), "--plot", "svg,pdf",
                              "--messages"])
    assert res.exit_code == 0, res.output
    assert _images(out) == {"timeline.svg", "timeline.pdf", "messages.svg", "messages.pdf"}
    assert (out / "timeline.pdf").read_bytes().startswith(b"%PDF")


def test_no_plot_writes_no_pictures(tmp_path):
    out = tmp_path / "np"
    assert runner.invoke(app, ["run", "--out", str(out), "--no-plot"]).exit_code == 0
    assert _images(out) == set() and (out / "cp" / "history.jsonl").is_file()


@pytest.mark.parametrize("args, message", [
    (["--plot", "gif"], "unknown format 'gif'"),
    (["--plot", "png", "--no-plot"], "contradict"),
    (["--lang", "fr"], "'fr' is not one of en, zh"),
])
def test_bad_plot_options_exit_2_before_anything_is_written(tmp_path, args, message):
    out = tmp_path / "bad"
    res = runner.invoke(app, ["run", "--out", str(out), *args])
    assert res.exit_code == 2
    assert message in res.output
    assert not out.exists()


def test_lang_zh_prints_the_table_in_chinese(tmp_path):
    res = runner.invoke(app, ["run", "--no-write", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert "可用性" in res.output and "过期读" in res.output


def test_plot_redraws_a_saved_run_exactly(tmp_path):
    out = tmp_path / "seed"
    assert runner.invoke(app, ["run", "--out", str(out), "--no-plot"]).exit_code == 0
    res = runner.invoke(app, ["plot", str(out), "--plot", "svg"])
    assert res.exit_code == 0, res.output
    assert _images(out) == {"cp/timeline.svg", "ap/timeline.svg", "compare.svg"}
    # Redrawn from history.jsonl + result.json = drawn from the run in memory.
    fresh = figure_bytes(compare([seed("cp"), seed("ap")]), "svg")
    assert (out / "compare.svg").read_bytes() == fresh
    assert f"wrote {out / 'compare.svg'}" in res.output


def test_plot_leaves_existing_pictures_alone_without_force(tmp_path):
    out = tmp_path / "ap"
    assert runner.invoke(app, ["run", "-p", "ap", "--out", str(out)]).exit_code == 0
    mine = out / "timeline.png"
    mine.write_bytes(b"a picture the teacher annotated")
    res = runner.invoke(app, ["plot", str(out)])
    assert res.exit_code == 2
    assert "already exist" in res.output and "--force" in res.output
    assert mine.read_bytes() == b"a picture the teacher annotated"
    # Another format does not clash; --out writes elsewhere; --force replaces.
    assert runner.invoke(app, ["plot", str(out), "--plot", "svg"]).exit_code == 0
    elsewhere = tmp_path / "slides"
    res = runner.invoke(app, ["plot", str(out), "--out", str(elsewhere), "--messages"])
    assert res.exit_code == 0, res.output
    assert _images(elsewhere) == {"timeline.png", "messages.png"}
    assert runner.invoke(app, ["plot", str(out), "--force"]).exit_code == 0
    assert mine.read_bytes().startswith(PNG)


def test_plot_on_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["plot", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "no result.json" in res.output
    res = runner.invoke(app, ["plot", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no such folder" in res.output


def test_help_does_not_import_matplotlib():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from capsim.cli import app\n"
        "for args in (['--help'], ['run', '--help'], ['plot', '--help']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"

"""Chinese labels: drawn with a CJK font when one is installed, else English + one warning."""

from __future__ import annotations

import warnings

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from capsim.cli import app
from capsim.plot import FontWarning, cjk_font, compare, figure_bytes, style, timeline
from tests.plot_cases import seed, texts

needs_cjk = pytest.mark.skipif(
    cjk_font() is None,
    reason="no CJK font installed (Debian: apt-get install fonts-wqy-microhei, then "
           "delete matplotlib's fontlist-*.json cache)",
)


@needs_cjk
def test_zh_draws_every_label_in_chinese_without_a_missing_glyph():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would fail here
        fig = compare([seed("cp"), seed("ap")], lang="zh")
        for fmt in ("png", "svg", "pdf"):
            assert figure_bytes(fig, fmt)
    words = set(texts(fig))
    assert {"G1 | G2 网络分区", "读 ✗ 拒绝", "读 v0 (过期)", "过期读", "时间 (秒)",
            "副本", "客户端"} <= words
    assert "可用性 33% (分区期间 0%)" in fig.axes[0].get_title(loc="right")
    assert not {"replicas", "clients", "stale read"} & words


@needs_cjk
def test_the_glyph_check_would_catch_a_font_without_chinese():
    """The test above can fail: the same words in a Latin-only font do warn."""
    fig = Figure()
    fig.text(0.5, 0.5, "可用性", family=["DejaVu Sans"])
    with pytest.warns(UserWarning, match="[Gg]lyph"):
        figure_bytes(fig, "png")


def test_without_a_cjk_font_zh_falls_back_to_english_with_one_warning(monkeypatch):
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    monkeypatch.setattr(style, "_warned", False)
    with pytest.warns(FontWarning, match="fonts-wqy-microhei"):
        fig = timeline(seed("ap"), lang="zh")
    assert "replicas" in texts(fig) and "副本" not in texts(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timeline(seed("cp"), lang="zh")  # said once is enough


def test_cli_turns_the_missing_font_into_one_warning_line(monkeypatch, tmp_path):
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    monkeypatch.setattr(style, "_warned", False)
    res = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "r"), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert res.output.count("warning: no Chinese font found") == 1
    assert "可用性" in res.output  # the terminal table needs no font: still Chinese
    assert (tmp_path / "r" / "compare.png").is_file()

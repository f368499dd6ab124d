"""The suite and the CLI on a machine without a CJK font (issue 19 §1).

CAPSIM_NO_CJK_FONT makes capsim's own font lookup find nothing, so these tests
see exactly what a fresh machine sees, whether or not this one has the font.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CAPSIM_NO_CJK_FONT", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def test_the_switch_hides_every_cjk_font_from_capsim(monkeypatch):
    from capsim.plot import cjk_font

    monkeypatch.delenv("CAPSIM_NO_CJK_FONT", raising=False)
    installed = cjk_font()
    monkeypatch.setenv("CAPSIM_NO_CJK_FONT", "1")
    assert cjk_font() is None
    monkeypatch.setenv("CAPSIM_NO_CJK_FONT", "0")  # "0" means off, as for most switches
    assert cjk_font() == installed


def test_capsim_run_zh_without_a_font_warns_once_and_draws_english(tmp_path):
    out = tmp_path / "r"
    res = subprocess.run(
        [sys.executable, "-m", "capsim", "run", "--lang", "zh", "--out", str(out)],
        capture_output=True, text=True, env=_env(CAPSIM_NO_CJK_FONT="1"), timeout=300,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("warning: no Chinese font found") == 1
    assert "fonts-wqy-microhei" in res.stderr
    assert "Traceback" not in res.stderr
    assert "可用性" in res.stdout  # the terminal table needs no font
    assert (out / "compare.png").is_file()


def test_the_zh_tests_pass_or_skip_with_a_reason_without_the_font():
    """What .ci/run does once: the font-dependent tests under --no-cjk-font."""
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-rs",
         "--no-cjk-font", "tests/test_plot_zh.py",
         "tests/test_plot.py::test_the_notebook_example_in_docs_runs"],
        capture_output=True, text=True, env=_env(), timeout=600, cwd=ROOT,
    )
    tail = res.stdout[-3000:]
    assert res.returncode == 0, tail
    assert "failed" not in tail and "error" not in tail.lower(), tail
    assert "SKIPPED" in tail and "CAPSIM_NO_CJK_FONT is set" in tail, tail
    assert "3 passed" in tail and "2 skipped" in tail, tail

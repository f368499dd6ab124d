"""The README's promises: two set-up commands on top, its examples run, its links hold.

What ``capsim run`` prints is shown (and checked) in ``docs/tutorial.md``.
"""

from __future__ import annotations

import re

from .paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_two_setup_commands_at_the_top():
    first_block = README.split("```")[1]
    cmds = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert cmds == ["pip install -e . && capsim run", "pip install -e '.[test]' && pytest"]


def test_ci_runs_the_readme_test_command_in_a_fresh_venv():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv" in ci
    assert "pip install -e '.[test]' && pytest" in ci


def test_python_example_runs():
    block = re.search(r"## From Python\n\n```python\n(.*?)```", README, re.S)
    assert block is not None
    ns: dict[str, object] = {}
    exec(compile(block.group(1), "README.md", "exec"), ns)


def test_every_relative_link_in_the_readme_exists():
    links = re.findall(r"\]\(([^)#:]+)\)", README)
    assert links
    missing = [x for x in links if not (ROOT / x).exists()]
    assert not missing


def test_the_tour_runs_only_commands_that_exist():
    """Every command of the tour is a capsim command (its output is shown in the docs)."""
    import typer.main

    from capsim.cli import app

    tour = README.split("## A one-screen tour")[1].split("```")[1]
    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    words = [line.split()[1] for line in tour.splitlines()[1:] if line.startswith("capsim ")]
    assert len(words) >= 8 and set(words) <= names


# --- README.zh-CN.md: the same promises, in Chinese ----------------------------

README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")


def test_the_chinese_readme_has_the_same_two_setup_commands():
    blocks = [README.split("```")[1], README_ZH.split("```")[1]]
    cmds = [[line.split("#")[0].strip() for line in b.splitlines()[1:] if line.strip()]
            for b in blocks]
    assert cmds[1] == cmds[0] == ["pip install -e . && capsim run",
                                  "pip install -e '.[test]' && pytest"]


def test_the_chinese_readme_shows_what_capsim_run_lang_zh_prints():
    from capsim import seed_scenario, simulate
    from capsim.i18n import localize
    from capsim.report import rows, story

    results = [simulate(seed_scenario(), policy=p) for p in ("cp", "ap")]
    for r in results:
        for line in story(r, lang="zh"):
            assert line in README_ZH, line
        expl = localize(r.checks["linearizable"]["explanation"], "zh")
        assert f"{r.policy}: {expl}" in README_ZH
    cp, ap = (rows(r, "zh") for r in results)
    for (label, a), (_, b) in zip(cp, ap, strict=True):
        row = rf"│\s+{re.escape(label.strip())}\s+│\s+{re.escape(a)} │\s+{re.escape(b)} │"
        assert re.search(row, README_ZH), label


def test_every_relative_link_in_the_chinese_readme_exists():
    links = re.findall(r"\]\(([^)#:]+)", README_ZH)
    assert "README.md" in links and "docs/glossary.md" in links
    missing = [x for x in links if not (ROOT / x).exists()]
    assert not missing

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
    """Every command of the ten-line tour is a capsim command (its output is shown in the docs)."""
    import typer.main

    from capsim.cli import app

    tour = README.split("## A ten-line tour")[1].split("```")[1]
    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    words = [line.split()[1] for line in tour.splitlines()[1:] if line.startswith("capsim ")]
    assert len(words) >= 8 and set(words) <= names

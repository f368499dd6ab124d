"""A snappy command line: ``capsim --help`` loads nothing heavy; a command loads only itself."""

from __future__ import annotations

import json
import subprocess
import sys

import typer.main

from capsim.cli import COMMANDS, app, quick_help

from .paths import ROOT

HEAVY = ("numpy", "simpy", "networkx", "matplotlib", "pydantic", "capsim.scenario",
         "markdown_it", "rich", "typer", "yaml")


def modules_after(*argv: str) -> set[str]:
    """The modules a fresh ``capsim ARGV`` process has imported when it is done."""
    code = (
        "import sys, json\n"
        f"sys.argv = ['capsim', *{list(argv)!r}]\n"
        "from capsim.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "",
                                                      "MPLBACKEND": "Agg"})
    return set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))


def test_the_table_names_every_command_with_its_own_help() -> None:
    group = typer.main.get_command(app)
    registered = {n: c.get_short_help_str(limit=300) for n, c in group.commands.items()}  # type: ignore[attr-defined]
    assert registered == {n: text for n, (_, text) in COMMANDS.items()}
    assert list(registered) == list(COMMANDS), "the order of `capsim --help`"


def test_help_lists_every_command_and_loads_nothing_heavy() -> None:
    out = subprocess.run([sys.executable, "-m", "capsim", "--help"], cwd=ROOT, text=True,
                         capture_output=True, timeout=60).stdout
    assert out == quick_help()
    for name in COMMANDS:
        assert f"\n  {name} " in out
    loaded = modules_after("--help")
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY) == []


def test_a_command_loads_only_its_own_module() -> None:
    loaded = modules_after("policies")
    cli_modules = {m for m in loaded if m.startswith("capsim.cli.")}
    assert "capsim.cli.run" in cli_modules
    assert cli_modules <= {"capsim.cli.commands", "capsim.cli.root", "capsim.cli.run",
                           "capsim.cli.common", "capsim.cli.plotopts", "capsim.cli.runopts"}


def test_a_run_without_pictures_loads_no_matplotlib() -> None:
    loaded = modules_after("run", "--no-write")
    assert "simpy" in loaded and "matplotlib" not in loaded


def test_a_run_that_writes_its_report_but_no_pictures_loads_no_numpy(tmp_path) -> None:
    # report.html needs colours and lanes, not arrays: `capsim run --no-plot`
    # stays within its start-up budget (issue 21: <= 10x `python -c pass`).
    loaded = modules_after("run", "--no-plot", "--out", str(tmp_path / "run"))
    assert (tmp_path / "run" / "report.html").is_file()
    assert not {"numpy", "matplotlib", "networkx"} & loaded


def test_an_unknown_command_still_gets_typers_answer() -> None:
    done = subprocess.run([sys.executable, "-m", "capsim", "rnu"], cwd=ROOT, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 2 and "No such command 'rnu'" in done.stderr

"""The documentation site: examples run, outputs are produced, the build is strict and offline."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .paths import ROOT

DOCS = ROOT / "docs"


def _load(name: str):  # the docs' own helpers live beside mkdocs.yml, not in the package
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / "_hooks" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


outputs = _load("outputs")
generated = _load("generated")

PAGES = sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


@pytest.mark.parametrize("block", outputs.blocks(), ids=lambda b: f"{b.page.name}:{b.command}")
def test_shown_output_is_what_capsim_prints(block) -> None:
    assert block.shown == outputs.produce(block.command), (
        f"{block.page.relative_to(ROOT)}: the output of `{block.command}` changed; "
        "regenerate with: python docs/_hooks/outputs.py --update"
    )


def test_there_are_output_blocks_in_english_and_chinese() -> None:
    commands = {b.command for b in outputs.blocks()}
    assert "capsim run --no-write" in commands
    assert any("--lang zh" in c for c in commands)


@pytest.mark.parametrize(
    "page", [p for p in PAGES if PYTHON_BLOCK.search(p.read_text(encoding="utf-8"))],
    ids=lambda p: str(p.relative_to(DOCS)),
)
def test_python_examples_run(page: Path, tmp_path: Path) -> None:
    """Each page's Python blocks run in order, in one fresh interpreter, as a reader would."""
    code = "\n\n".join(PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")))
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")  # examples name repo files
    script = tmp_path / "page.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{page.relative_to(ROOT)}:\n{done.stderr[-3000:]}"


def test_cli_reference_lists_every_command() -> None:
    import typer.main

    from capsim.cli import app

    text = generated.cli_reference()
    for name, cmd in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        assert f"### `capsim {name}`" in text
        for sub in getattr(cmd, "commands", {}):
            assert f"### `capsim {name} {sub}`" in text
    assert "`--policy`" in text and "`--force`" in text


def test_scenario_reference_lists_every_field() -> None:
    from capsim.scenario import Scenario

    text = generated.scenario_reference()
    for field in Scenario.model_json_schema(by_alias=True)["properties"]:
        assert f"| `{field}` |" in text


def test_architecture_page_draws_the_enforced_layers() -> None:
    from .test_architecture import LAYERS

    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert "<!-- generated: layers -->" in page
    table = generated.layers_table()
    for name, prefixes in LAYERS:
        assert name in table and all(f"`{p}`" in table for p in prefixes)


def test_pages_link_only_to_what_exists() -> None:
    """Relative links from the pages reach a page, an image or a repository file."""
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert broken == []


def test_readme_links_into_the_site() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("docs/index.md", "docs/tutorial.md", "docs/reference/cli.md"):
        assert f"]({page})" in readme


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                    reason="mkdocs is not installed: pip install -e '.[docs]' (CI builds the site)")
def test_site_builds_strictly_and_needs_no_network(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pages = list(site.rglob("*.html"))
    assert (site / "index.html").is_file() and (site / "zh" / "index.html").is_file()
    fetched = re.compile(r"<(?:script|img|iframe)[^>]+src=\"(?:https?:)?//|"
                         r"<link[^>]+href=\"(?:https?:)?//[^\"]+\"[^>]*rel=\"stylesheet\"|"
                         r"<link[^>]+rel=\"stylesheet\"[^>]+href=\"(?:https?:)?//")
    remote = [str(p.relative_to(site)) for p in pages if fetched.search(p.read_text("utf-8"))]
    assert remote == [], "pages that fetch from the network"
    cli = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    assert "capsim run" in cli and "<!-- generated" not in cli
    zh = (site / "zh" / "tutorial.html").read_text(encoding="utf-8")
    assert "教程" in zh

"""The house without circles: imports inside capsim/ run one way, down the layers.

The graph is read from the source with :mod:`ast` (every ``import`` statement,
including those inside functions and under ``TYPE_CHECKING``: a lazy import is
still a dependency), so a new cycle or an upward import fails here before it
reaches a reviewer. ``docs/architecture.md`` draws the same layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1] / "capsim"

# Lowest first. A module may import its own layer or any layer below it, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundations", ("capsim._version", "capsim.errors", "capsim.atomic", "capsim.i18n",
                     "capsim.distributions", "capsim.latency", "capsim.safeyaml",
                     "capsim.palette")),
    ("model", ("capsim.history", "capsim.records", "capsim.journal", "capsim.scenario",
               "capsim.policies", "capsim.formats", "capsim.limits")),
    ("checks", ("capsim.check",)),
    ("run records", ("capsim.result", "capsim.report")),
    ("runtimes", ("capsim.sim", "capsim.pbs", "capsim.explore")),
    ("pictures", ("capsim.plot", "capsim.testing", "capsim.report_html", "capsim.html")),
    ("applications", ("capsim.sweep", "capsim.live", "capsim.lab")),
    ("command line", ("capsim.cli", "capsim.__main__")),
    ("facade", ("capsim",)),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph() -> nx.DiGraph:
    """Module → the capsim modules it imports (resolved to the deepest existing module)."""
    modules = {module_name(f): f for f in ROOT.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                subs = [f"{base}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules] or [base]
            for target in targets:
                dst = resolve(target)
                if dst and dst != mod and dst.startswith("capsim"):
                    graph.add_edge(mod, dst)
    return graph


def layer_of(mod: str) -> int:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (mod == p or mod.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    if rank is None:
        raise AssertionError(f"{mod} belongs to no layer: add it to LAYERS in {__file__}")
    return rank


def test_no_import_cycles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == [], f"import cycles inside capsim/: {cycles}"


def test_every_module_has_a_layer() -> None:
    for mod in import_graph():
        layer_of(mod)


def test_imports_run_down_the_layers() -> None:
    upward = [
        f"{src} ({LAYERS[layer_of(src)][0]}) imports {dst} ({LAYERS[layer_of(dst)][0]})"
        for src, dst in import_graph().edges
        if layer_of(dst) > layer_of(src)
    ]
    assert upward == []


@pytest.mark.parametrize("core", ["capsim.sim", "capsim.check", "capsim.history",
                                  "capsim.scenario", "capsim.policies", "capsim.records"])
def test_the_core_imports_no_plotting_or_cli(core: str) -> None:
    heavy = ("matplotlib", "typer", "rich")
    for path in ROOT.rglob("*.py"):
        mod = module_name(path)
        if not (mod == core or mod.startswith(core + ".")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for n in names:
                assert n.split(".")[0] not in heavy, f"{mod} imports {n}"


def test_the_graph_reader_sees_a_planted_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graph reader itself works: two modules importing each other form a cycle."""
    pkg = tmp_path / "capsim"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text("def f():\n    from capsim.a import y\n")
    (pkg / "a" / "y.py").write_text("from . import x\n")
    monkeypatch.setitem(globals(), "ROOT", pkg)
    cycles = [c for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == [{"capsim.a.x", "capsim.a.y"}]

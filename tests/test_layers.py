"""The package's shape: imports point downwards only, no cycles, small modules.

DESIGN.md stacks the layers core < envs < tabular < approx < lm < health < rlhf < advanced,
with plots beside them on top (it may name any layer's result types, nobody imports it) and
bench and the CLI above everything. These tests read the source with ``ast`` (nothing is
imported), so an import hidden inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "rlcore"

LAYERS = {
    "core": 0, "envs": 1, "tabular": 2, "approx": 3, "lm": 4, "health": 5, "rlhf": 6, "advanced": 7,
    "data": 0, "plots": 8, "bench": 10, "cli": 10,
}
FACADE = 9  # rlcore/__init__.py re-exports the short names; only bench and the CLI may use it
MAX_LINES = 300


def module_name(path: Path, root: Path) -> str:
    parts = ("rlcore",) + path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return FACADE
    if parts[1] not in LAYERS:
        raise KeyError(f"{module} is in no layer: add its folder to DESIGN.md and to LAYERS")
    return LAYERS[parts[1]]


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The rlcore modules ``path`` imports, resolved to the module files that run."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")
                if path.name != "__init__.py":
                    pkg = pkg[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            # `from rlcore.envs import tabular` imports a module; `from rlcore.envs import GridWorld` a name
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found.update(n for n in names if n == "rlcore" or n.startswith("rlcore."))
    return found - {module}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    return {m: imports_of(p, m, set(files)) for m, p in files.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} (layer {layer(m)}) imports {d} (layer {layer(d)})"
                  for m, deps in graph.items() for d in deps
                  if m != "rlcore" and layer(d) > layer(m))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d in graph and not state.get(d):
                cycle = visit(d)
                if cycle:
                    return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if not state.get(m):
            cycle = visit(m)
            if cycle:
                return cycle
    return None


def test_imports_point_downwards_only():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_every_module_belongs_to_a_layer():
    for m in import_graph():
        layer(m)  # raises KeyError naming the stray module


def test_no_module_over_the_line_budget():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


# ------------------------------------------------------------- the checker itself
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "rlcore"
    for name, text in files.items():
        f = root / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return root


def test_checker_sees_a_cycle_and_an_upward_import(tmp_path):
    # the two faults the old flat package had: mdp <-> envs.tabular, and an env importing plots
    root = _tree(tmp_path, {
        "__init__.py": "", "core/__init__.py": "", "envs/__init__.py": "", "plots/__init__.py": "",
        "core/mdp.py": "def to_env():\n    from rlcore.envs.tabular import TabularEnv\n",
        "envs/tabular.py": "from rlcore.core.mdp import TabularMDP\n",
        "envs/gridworld.py": "def render():\n    from rlcore.plots.tabular import plot_grid\n",
        "plots/tabular.py": "from ..envs import gridworld\n",
    })
    graph = import_graph(root)
    assert graph["rlcore.plots.tabular"] == {"rlcore.envs.gridworld"}  # relative import resolved
    assert set(find_cycle(graph)) >= {"rlcore.core.mdp", "rlcore.envs.tabular"}
    assert upward_imports(graph) == [
        "rlcore.core.mdp (layer 0) imports rlcore.envs.tabular (layer 1)",
        "rlcore.envs.gridworld (layer 1) imports rlcore.plots.tabular (layer 8)",
    ]


def test_checker_accepts_a_clean_tree(tmp_path):
    root = _tree(tmp_path, {"__init__.py": "from rlcore.envs import x\n", "envs/__init__.py": "",
                            "envs/x.py": "import rlcore.core.mdp\n", "core/__init__.py": "", "core/mdp.py": ""})
    graph = import_graph(root)
    assert upward_imports(graph) == [] and find_cycle(graph) is None


def test_stray_folder_is_reported(tmp_path):
    root = _tree(tmp_path, {"__init__.py": "", "misc/__init__.py": ""})
    with pytest.raises(KeyError, match="rlcore.misc"):
        [layer(m) for m in import_graph(root)]

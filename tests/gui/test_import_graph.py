"""The gui package has no import cycle: its modules form a layered graph, the window on top.

Every import between modules of ``decoras_gui.gui`` is read from the source (top-level ones,
those inside functions and those under ``if TYPE_CHECKING``), and the graph must be acyclic.
"""

from __future__ import annotations

import ast
from pathlib import Path

import decoras_gui.gui as gui

PACKAGE = Path(gui.__file__).resolve().parent


def gui_imports(path: Path) -> set[str]:
    """Names of the gui modules ``path`` imports (relative ``from .x``/``from . import x`` or absolute)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.module and node.module.startswith("decoras_gui.gui."):
                names = [node.module.split(".")[2]]
            else:
                continue
            out.update(n.split(".")[0] for n in names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[2] for a in node.names if a.name.startswith("decoras_gui.gui."))
    return out & {p.stem for p in PACKAGE.glob("*.py")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_gui_package_has_no_import_cycle():
    graph = {p.stem: gui_imports(p) - {p.stem} for p in PACKAGE.glob("*.py")}
    assert len(graph) > 20 and graph["main_window"] >= {"document", "vetting", "session_journal"}
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None

"""The import graph of the `tui_chat` package, read from the source (nothing is imported).

Every `import` counts, those under `if TYPE_CHECKING:` too: a module that names another only
for its types still depends on it, and a helper that imports its owner back for types is the
mixin trick the layering rules forbid.

`python tests/import_graph.py [PREFIX]` prints each module under PREFIX (default
`tui_chat.ui`) with the package modules it imports, then the cycles (none, we hope).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "tui_chat"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imported_names(path: Path, name: str) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            yield source
            # `from tui_chat.ui import widgets` imports a module, not a name.
            yield from (f"{source}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Each package module mapped to the package modules it imports."""
    paths = {module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        graph[name] = {
            imported
            for imported in _imported_names(path, name)
            if imported in paths and imported != name
        }
    return graph


def external_imports(name: str) -> set[str]:
    """The top-level packages outside `tui_chat` that module `name` imports."""
    path = next(p for p in PACKAGE_ROOT.rglob("*.py") if module_name(p) == name)
    return {
        imported.split(".")[0]
        for imported in _imported_names(path, name)
        if imported and not imported.startswith("tui_chat")
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted.

    A package's `__init__` that re-exports its own modules is left out of the edges into it
    from those modules: `tui_chat.flow.send` importing `tui_chat.flow.events` passes through
    the package, which is not a cycle of design.
    """
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def edges(node: str) -> set[str]:
        return {
            target
            for target in graph[node]
            if not (node.startswith(target + ".") and target in graph)
        }

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges(node):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(prefix: str = "tui_chat.ui") -> None:
    graph = import_graph()
    for name in sorted(graph):
        if name.startswith(prefix):
            inside = sorted(target for target in graph[name] if target.startswith("tui_chat"))
            print(f"{name}: {', '.join(inside) or '-'}")
    found = cycles(graph)
    print(f"\n{len(graph)} modules, {sum(map(len, graph.values()))} imports, {len(found)} cycles")
    for group in found:
        print("cycle: " + " <-> ".join(group))


if __name__ == "__main__":
    main(*sys.argv[1:])

"""The package's layers import one way, nothing below the UI knows Textual, and no module
imports its owner back (the mixin trick this layout replaced)."""

from __future__ import annotations

from import_graph import cycles, external_imports, import_graph

# Which parts of `tui_chat` each part may import. A new part must be added here on purpose.
ALLOWED = {
    "domain": set(),
    "paths": set(),
    "sanitize": set(),
    "user_error": set(),
    "storage": {"domain", "paths", "sanitize"},
    "config": {"storage"},
    # An export states an attached file's size as the app shows it.
    "export": {"attachments", "domain"},
    # The engine makes attachment names inert before they reach the model.
    "engine": {"config", "domain", "sanitize"},
    # Reading files to attach; images go to the store.
    "attachments": {"domain", "paths", "sanitize", "storage", "user_error"},
    "tools": {"config", "sanitize"},
    "flow": {"domain", "engine", "storage", "tools"},
    "importers": {"domain", "paths", "sanitize", "storage"},
    # The app reads the files a user attaches (in threads) and lists them for @ completion.
    "ui": {
        "attachments",
        "config",
        "domain",
        "engine",
        "export",
        "flow",
        "paths",
        "sanitize",
        "storage",
        "tools",
    },
    # The shell's commands run the flow; `open` and piped text start the UI (imported late).
    "shell": {
        "attachments",
        "config",
        "domain",
        "engine",
        "flow",
        "paths",
        "sanitize",
        "storage",
        "ui",
        "user_error",
    },
    "cli": {
        "config",
        "export",
        "importers",
        "paths",
        "sanitize",
        "shell",
        "storage",
        "ui",
        "user_error",
    },
    "__main__": {"cli"},
}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_every_part_imports_only_the_parts_below_it():
    graph = import_graph()
    crossings = {
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if _part(target) != _part(module) and _part(target) != "tui_chat"
        if _part(target) not in ALLOWED.get(_part(module), set())
    }
    unknown = {_part(module) for module in graph} - set(ALLOWED) - {"tui_chat"}
    assert not unknown, f"parts missing from ALLOWED: {sorted(unknown)}"
    assert not crossings, "imports against the layering:\n" + "\n".join(sorted(crossings))


def test_nothing_below_the_ui_imports_textual():
    below = [module for module in import_graph() if _part(module) not in {"ui", "cli"}]
    assert below, "the graph lost the package"
    offenders = [module for module in below if "textual" in external_imports(module)]
    assert offenders == []


def test_no_module_imports_another_that_imports_it_back():
    assert cycles(import_graph()) == []

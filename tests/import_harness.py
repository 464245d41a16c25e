"""Helpers for the `tui-chat import` tests (and the import benchmark): running the command,
looking at what it wrote, and building ChatGPT data exports.

The exports are shaped as ChatGPT writes them (conversations.json: a list of conversations
whose messages form a tree under `mapping`). ChatGPT cannot be run here, so the shapes follow
real exports: field names and nesting as in API-NOTES.md's "Data written by other tools". The
other tools' fixtures are in fixtures/import/, made by those tools' own code (scripts there).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_chat.cli import main
from tui_chat.domain.conversation import Conversation
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"


@dataclass(frozen=True)
class Run:
    """What one `tui-chat import` printed and returned."""

    code: int
    out: str
    err: str


def run_import(data_dir: Path, *args: str) -> Run:
    """`tui-chat --data-dir DATA import ARGS`, in this process, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    config = data_dir.parent / "no-config.toml"
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--data-dir", str(data_dir), "--config", str(config), "import", *args])
    return Run(code, out.getvalue(), err.getvalue())


def imported(data_dir: Path) -> list[Conversation]:
    """Every conversation in the data folder, as the app would load it, oldest first."""
    store = ConversationStore(AppPaths(config_file=data_dir / "none.toml", data_dir=data_dir))
    conversations = [store.load(entry.id) for entry in store.list_entries()]
    return sorted(conversations, key=lambda c: (c.created, c.id))


def by_title(data_dir: Path) -> dict[str, Conversation]:
    """Imported conversations by title."""
    return {c.title: c for c in imported(data_dir)}


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and mtime: what "nothing written" compares."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def checksum(path: Path) -> str:
    """sha256 of a file, or of every file in a folder: to show a source was not changed."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()


T0 = 1_732_400_000.0  # 2024-11-23, a float as ChatGPT writes times


def message(
    node_id: str,
    role: str,
    parts: list[Any] | None = None,
    *,
    content: dict[str, Any] | None = None,
    create_time: float | None = T0,
    hidden: bool = False,
    model: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """One node's `message`: text parts by default, or any `content` object."""
    metadata: dict[str, Any] = {}
    if hidden:
        metadata["is_visually_hidden_from_conversation"] = True
    if model:
        metadata["model_slug"] = model
    return {
        "id": node_id,
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": create_time,
        "update_time": None,
        "content": content or {"content_type": "text", "parts": parts or [""]},
        "status": "finished_successfully",
        "end_turn": role == "assistant" or None,
        "weight": 1.0,
        "metadata": metadata,
        "recipient": "all",
    }


def conversation(
    conversation_id: str,
    title: str | None,
    nodes: list[tuple[str, str | None, dict[str, Any] | None]],
    current_node: str,
    *,
    create_time: float | None = T0,
    update_time: float | None = T0 + 60,
) -> dict[str, Any]:
    """A conversation from (node id, parent id, message) triples; children are derived."""
    mapping: dict[str, dict[str, Any]] = {
        node_id: {"id": node_id, "message": msg, "parent": parent, "children": []}
        for node_id, parent, msg in nodes
    }
    for node_id, parent, _ in nodes:
        if parent is not None:
            mapping[parent]["children"].append(node_id)
    return {
        "title": title,
        "create_time": create_time,
        "update_time": update_time,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": current_node,
        "plugin_ids": None,
        "conversation_id": conversation_id,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": conversation_id,
    }


def linear(conversation_id: str, title: str | None, texts: Iterable[str]) -> dict[str, Any]:
    """A conversation without branches: a hidden system root, then user and assistant turns."""
    nodes: list[tuple[str, str | None, dict[str, Any] | None]] = [
        (f"{conversation_id}-root", None, None),
        (
            f"{conversation_id}-sys",
            f"{conversation_id}-root",
            message(f"{conversation_id}-sys", "system", [""], hidden=True, create_time=None),
        ),
    ]
    parent = f"{conversation_id}-sys"
    for number, text in enumerate(texts):
        node_id = f"{conversation_id}-{number}"
        role = "user" if number % 2 == 0 else "assistant"
        model = "gpt-4o" if role == "assistant" else None
        nodes.append(
            (node_id, parent, message(node_id, role, [text], create_time=T0 + number, model=model))
        )
        parent = node_id
    return conversation(conversation_id, title, nodes, parent)


def write_export(
    path: Path, conversations: list[dict[str, Any]], *, images: dict[str, bytes] | None = None
) -> Path:
    """conversations.json, or a zip holding it (and `images`) when `path` ends in .zip."""
    text = json.dumps(conversations, ensure_ascii=False)
    if path.suffix != ".zip":
        path.write_text(text, encoding="utf-8")
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", text)
        archive.writestr("chat.html", "<html></html>")
        for name, data in (images or {}).items():
            archive.writestr(name, data)
    return path

"""aichat's sessions: one YAML file per session (`<config>/sessions/<name>.yaml`), as its
`Session` struct serialises (src/config/session.rs): `model`, optional settings, `role_name`,
`compressed_messages` (older messages folded into a summary), `messages`.

A message's `content` is a string, a list of parts (`{type: text, text}` or `{type: image_url,
image_url: {url}}`), or a tool-call record (`{text, tool_results, sequence}`). Sessions hold no
times: the file's modification time stands in. Messages hold no ids either: each gets one from
its role and text (and how many identical messages came before), which stays the same when
aichat compresses older messages or the session grows.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tui_chat.domain.conversation import Role
from tui_chat.importers.records import (
    BrokenConversation,
    ImportedConversation,
    ImportedMessage,
    ImportItem,
    ReadContext,
    SourceError,
    short_reason,
)

_SUFFIXES = (".yaml", ".yml")
# Far above any session (aichat compresses long ones), far below what would exhaust memory.
MAX_SESSION_BYTES = 50_000_000


def is_session_source(path: Path) -> bool:
    """A session file, or a folder holding one among the first YAML files met in it (the
    folder is not listed whole here: the reader lists it)."""
    if path.is_file():
        return _is_session_file(path)
    return any(_is_session_file(p) for p in itertools.islice(_yaml_files(path), 20))


def looks_like_session(text: str) -> bool:
    """A YAML mapping with aichat's `messages` list and `model` key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and isinstance(data.get("messages"), list) and "model" in data


def _is_session_file(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_SESSION_BYTES:
            return False
        return looks_like_session(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


def session_files(path: Path) -> list[Path]:
    """The session files of a sessions folder (agents keep theirs in subfolders), or the one
    file given."""
    if path.is_file():
        return [path]
    return sorted(_yaml_files(path))


def _yaml_files(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.suffix in _SUFFIXES and p.is_file())


def read_aichat(path: Path, context: ReadContext) -> Iterator[ImportItem]:
    """Every session of a sessions folder, or the one session file given."""
    files = session_files(path)
    if not files:
        raise SourceError(f"{path} holds no aichat session files (*.yaml).")
    if path.is_file() and not _is_session_file(path):
        raise SourceError(f"{path} is not an aichat session (YAML with model and messages).")
    root = path if path.is_dir() else path.parent
    context.total = len(files)
    for file in files:
        context.done += 1
        name = file.relative_to(root).with_suffix("").as_posix()
        try:
            yield _session(file, name)
        except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError) as error:
            # UnicodeDecodeError is a ValueError: a binary file among the sessions.
            yield BrokenConversation(name, name, short_reason(error))


def _session(file: Path, name: str) -> ImportedConversation:
    text = file.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ValueError("it is not an aichat session (no list of messages)")
    stat = file.stat()
    modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0)
    model = data.get("model")
    conversation = ImportedConversation(
        source="aichat",
        source_id=name,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        title=name.rsplit("/", 1)[-1],
        created=modified,
        updated=modified,
        model=model if isinstance(model, str) and model else None,
    )
    seen: dict[str, int] = {}
    system: list[str] = []
    for raw in [*(data.get("compressed_messages") or []), *data["messages"]]:
        role, content = _role_and_text(raw)
        if role == "system":
            system.append(content)
            continue
        key = hashlib.sha256(f"{role}\0{content}".encode()).hexdigest()[:16]
        seen[key] = seen.get(key, 0) + 1
        conversation.messages.append(
            ImportedMessage(f"{key}/{seen[key]}", role, content, modified, conversation.model)
        )
    conversation.system = "\n\n".join(system)
    if not system and isinstance(data.get("agent_instructions"), str):
        conversation.system = data["agent_instructions"]
    return conversation


def _role_and_text(raw: object) -> tuple[Role, str]:
    if not isinstance(raw, dict):
        raise ValueError("a message is not a mapping")
    role = raw.get("role")
    content = raw.get("content")
    if role in ("user", "assistant", "system"):
        return role, _text(content)
    # Tool results read as part of the reply they served.
    return "assistant", f"[{role} output]\n{_text(content)}"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces: list[str] = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                pieces.append(str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") == "image_url":
                url = str((part.get("image_url") or {}).get("url", ""))
                shown = "an inline image" if url.startswith("data:") else url
                pieces.append(f"[image: {shown}]")
        return "\n\n".join(pieces)
    if isinstance(content, dict):
        lines = [str(content.get("text") or "")]
        for result in content.get("tool_results") or ():
            call = result.get("call") or {} if isinstance(result, dict) else {}
            output = result.get("output") if isinstance(result, dict) else result
            lines.append(
                f"[tool call: {call.get('name', 'a tool')}]\n"
                f"{json.dumps(call.get('arguments'), ensure_ascii=False)}\n"
                f"[tool result]\n{json.dumps(output, ensure_ascii=False)}"
            )
        return "\n\n".join(line for line in lines if line)
    raise ValueError(f"a message's content is {type(content).__name__}")

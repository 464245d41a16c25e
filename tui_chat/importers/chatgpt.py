"""ChatGPT's data export: the `.zip` as downloaded, or the `conversations.json` inside it.

The file is a JSON array of conversations, read as a stream (ijson), one conversation in memory
at a time, so a 500 MB export imports in bounded memory. A zip is read in place.

Each conversation's messages form a tree (`mapping`: node id -> {message, parent, children});
what ChatGPT shows is the path from `current_node` up to the root. That path is the imported
conversation. Every other leaf is a branch the user left by editing a message or regenerating a
reply: each becomes a fork conversation titled "<title> (fork N)" holding its whole path from the
root, as tui-chat's own edit-and-resend makes forks.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import ijson

from tui_chat.domain.conversation import Role, title_from_text
from tui_chat.importers.records import (
    BrokenConversation,
    ImportedConversation,
    ImportedMessage,
    ImportItem,
    ReadContext,
    SourceError,
    Unchanged,
    conversations,
    fork_source_id,
    from_timestamp,
    short_reason,
)

EXPORT_MEMBER = "conversations.json"
_ROLES: dict[str, Role] = {"user": "user", "assistant": "assistant", "system": "system"}


def looks_like_export(head: bytes) -> bool:
    """True for the start of a conversations.json: an array whose first object has ChatGPT's
    conversation keys (or an empty array)."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if not text.startswith("["):
        return False
    rest = text[1:].lstrip()
    return rest.startswith("]") or (
        rest.startswith("{") and '"mapping"' in text and '"current_node"' in text
    )


@contextmanager
def open_export(path: Path, raw: IO[bytes]) -> Iterator[IO[bytes]]:
    """The conversations.json stream from `raw` (the file at `path`, opened for reading): from
    the zip, read in place, or the file itself."""
    if not zipfile.is_zipfile(raw):
        raw.seek(0)
        yield raw
        return
    try:
        with zipfile.ZipFile(raw) as archive, archive.open(_member(archive)) as stream:
            yield stream
    except zipfile.BadZipFile as error:
        raise SourceError(f"{path} is a damaged zip file ({error}).") from None


def _member(archive: zipfile.ZipFile) -> str:
    names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == EXPORT_MEMBER]
    if not names:
        raise SourceError(f"the zip holds no {EXPORT_MEMBER}, so it is not a ChatGPT data export.")
    return min(names, key=len)


def zip_member_names(path: Path) -> set[str]:
    """Base names of the files in an export zip (images a conversation points to)."""
    if not zipfile.is_zipfile(path):
        return set()
    with zipfile.ZipFile(path) as archive:
        return {n.rsplit("/", 1)[-1] for n in archive.namelist()}


def read_export(path: Path, context: ReadContext) -> Iterator[ImportItem]:
    """Every conversation of the export, forks after the conversation they branch from;
    `context` follows the bytes read of the file; a conversation whose update time and
    current node match the imported version is skipped unbuilt.

    Raises SourceError when the file is not an export, is truncated or holds none.
    """
    images = zip_member_names(path)
    count = 0
    with path.open("rb") as raw, open_export(path, raw) as stream:
        context.total = os.fstat(raw.fileno()).st_size
        try:
            for item in ijson.items(stream, "item", use_float=True):
                count += 1
                context.done = raw.tell()
                yield from _conversation_items(item, count, images, context.known_versions)
        except ijson.JSONError as error:
            reason = short_reason(error)
            if "premature EOF" in reason or "Incomplete JSON" in reason:  # a file cut short
                raise SourceError(
                    f"{path} is not complete JSON: it ends after {conversations(count)}; "
                    "download the export again."
                ) from None
            raise SourceError(
                f"{path} is not a ChatGPT export's JSON ({reason}, after {conversations(count)})."
            ) from None
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise SourceError(f"{path} cannot be read to its end ({error}).") from None
    if count == 0:
        raise SourceError(f"{path} holds no conversations.")


def _conversation_items(
    raw: object, position: int, images: set[str], known_versions: dict[str, str]
) -> Iterator[ImportItem]:
    if not isinstance(raw, dict):
        yield BrokenConversation(f"#{position}", "", "it is not a conversation object")
        return
    source_id = str(raw.get("conversation_id") or raw.get("id") or f"#{position}")
    # ChatGPT moves update_time on any change, a new branch included: one look at the two
    # fields tells a re-import that nothing in this conversation or its forks is new.
    if known_versions.get(source_id) == _version(raw, raw.get("current_node")):
        yield Unchanged(source_id)
        return
    title = raw.get("title") if isinstance(raw.get("title"), str) else ""
    try:
        yield from _Tree(raw, source_id, title or "", images).conversations()
    except KeyError as error:
        yield BrokenConversation(source_id, title or "", f"it has no {error.args[0]!r} field")
    except (TypeError, ValueError, AttributeError) as error:
        yield BrokenConversation(source_id, title or "", f"it is not shaped as expected ({error})")


class _Tree:
    """One conversation's message tree and the conversations read from it."""

    def __init__(self, raw: dict[str, Any], source_id: str, title: str, images: set[str]) -> None:
        mapping = raw["mapping"]
        if not isinstance(mapping, dict) or not mapping:
            raise ValueError("'mapping' holds no messages")
        self.raw = raw
        self.mapping: dict[str, dict[str, Any]] = mapping
        self.source_id = source_id
        self.title = title
        self.images = images

    def conversations(self) -> Iterator[ImportedConversation]:
        main_leaf = self.raw.get("current_node")
        if main_leaf not in self.mapping:
            main_leaf = self._newest_leaf()
        main_path = self._path_to(main_leaf)
        on_main = set(main_path)
        main = self._conversation(self.source_id, self.title, main_path)
        yield main
        # A fork of an untitled conversation is named after it, as tui-chat names its own.
        base_title = self.title or title_from_text(
            next((m.content for m in main.messages if m.role == "user"), "")
        )
        forks = [
            node_id
            for node_id, node in self.mapping.items()
            if not node.get("children") and node_id not in on_main
        ]
        for number, leaf in enumerate(forks, start=1):
            path = self._path_to(leaf)
            if not any(self._message(node) is not None for node in path if node not in on_main):
                continue  # a branch of nothing but hidden or empty nodes: nothing was lost
            tail = self._tail_start(path)
            title = f"{base_title} (fork {number})"
            yield self._conversation(fork_source_id(self.source_id, tail), title, path)

    def _path_to(self, leaf: str) -> list[str]:
        """Node ids from the root down to `leaf` (cycles in a damaged file end the walk)."""
        path: list[str] = []
        seen: set[str] = set()
        node_id: str | None = leaf
        while node_id is not None and node_id in self.mapping and node_id not in seen:
            seen.add(node_id)
            path.append(node_id)
            node_id = self.mapping[node_id].get("parent")
        path.reverse()
        return path

    def _tail_start(self, path: list[str]) -> str:
        """The first node of the path's own tail (below its last branching): a fork's id that
        stays the same when the fork later grows."""
        for index in range(len(path) - 1, 0, -1):
            parent = self.mapping[path[index - 1]]
            if len(parent.get("children") or ()) > 1:
                return path[index]
        return path[0]

    def _newest_leaf(self) -> str:
        leaves = [n for n, node in self.mapping.items() if not node.get("children")]
        return max(leaves, key=lambda n: self._time(n)) if leaves else next(iter(self.mapping))

    def _time(self, node_id: str) -> float:
        message = self.mapping[node_id].get("message") or {}
        value = message.get("create_time")
        return float(value) if isinstance(value, int | float) else 0.0

    def _conversation(self, source_id: str, title: str, path: list[str]) -> ImportedConversation:
        conversation = ImportedConversation(
            source="chatgpt",
            source_id=source_id,
            version=_version(self.raw, path[-1] if path else ""),
            title=title,
            created=from_timestamp(self.raw.get("create_time")),
            updated=from_timestamp(self.raw.get("update_time")),
            model=_text_or_none(self.raw.get("default_model_slug")),
        )
        system_parts: list[str] = []
        for node_id in path:
            message = self._message(node_id)
            if message is None:
                continue
            if message.role == "system":
                system_parts.append(message.content)
            else:
                conversation.messages.append(message)
        conversation.system = "\n\n".join(system_parts)
        if conversation.model is None:
            conversation.model = next(
                (m.model for m in reversed(conversation.messages) if m.model), None
            )
        return conversation

    def _message(self, node_id: str) -> ImportedMessage | None:
        """The node's message as tui-chat shows it, or None for what ChatGPT does not show."""
        message = self.mapping[node_id].get("message")
        if not isinstance(message, dict):
            return None
        metadata = message.get("metadata") or {}
        content = message.get("content") or {}
        content_type = content.get("content_type", "text")
        author = (message.get("author") or {}).get("role", "")
        if content_type == "user_editable_context":
            # Custom instructions: hidden in the chat, but they are the user's own system prompt.
            text = _custom_instructions(content)
            return ImportedMessage(node_id, "system", text) if text else None
        if metadata.get("is_visually_hidden_from_conversation"):
            return None
        name = (message.get("author") or {}).get("name")
        text = render_content(content, author, name, self)
        if not text.strip():
            return None
        if author == "tool":
            text = f"[tool output from {name or 'a tool'}]\n{text}"
        role = _ROLES.get(author, "assistant")  # tool output reads as part of the reply
        return ImportedMessage(
            source_id=node_id,
            role=role,
            content=text,
            created=from_timestamp(message.get("create_time")),
            model=_text_or_none(metadata.get("model_slug")),
        )

    def image_label(self, pointer: dict[str, Any]) -> str:
        """A visible placeholder naming an image, and its file in the zip when it is there."""
        asset = str(pointer.get("asset_pointer", ""))
        file_id = asset.rsplit("/", 1)[-1]
        size = ""
        if pointer.get("width") and pointer.get("height"):
            size = f", {pointer['width']}x{pointer['height']}"
        in_zip = next((n for n in sorted(self.images) if file_id and n.startswith(file_id)), None)
        where = f"; in the export as {in_zip}" if in_zip else "; not in the export"
        return f"[image: {file_id or 'unnamed'}{size}{where}]"


def _version(raw: dict[str, Any], leaf: object) -> str:
    """A conversation's version as recorded in its file: its update time and shown leaf."""
    return f"{raw.get('update_time')}:{leaf}"


def _custom_instructions(content: dict[str, Any]) -> str:
    parts = [
        str(content.get(key)).strip()
        for key in ("user_profile", "user_instructions")
        if content.get(key)
    ]
    return "\n\n".join(p for p in parts if p)


def render_content(content: dict[str, Any], author: str, name: object, tree: _Tree) -> str:
    """A message's content as readable text. Anything other than plain text is marked with a
    bracketed label, so code, tool output and browsing results are never silently dropped."""
    content_type = content.get("content_type", "text")
    label = f"{author}: {name}" if name else author
    if content_type == "text":
        return "".join(p for p in content.get("parts") or () if isinstance(p, str))
    if content_type == "multimodal_text":
        pieces: list[str] = []
        for part in content.get("parts") or ():
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and part.get("content_type") == "image_asset_pointer":
                pieces.append(tree.image_label(part))
            elif isinstance(part, dict):
                pieces.append(f"[{part.get('content_type', 'attachment')}]")
        return "\n\n".join(p for p in pieces if p)
    if content_type == "code":
        language = content.get("language") or ""
        language = "" if language == "unknown" else language
        return f"[code, run by {label}]\n```{language}\n{content.get('text', '')}\n```"
    if content_type == "execution_output":
        return f"[code output]\n```\n{content.get('text', '')}\n```"
    if content_type in ("tether_browsing_display", "tether_quote"):
        body = "\n".join(
            str(content[key])
            for key in ("title", "url", "result", "summary", "text")
            if content.get(key)
        )
        return f"[browsing result]\n{body}" if body else ""
    if content_type == "system_error":
        return f"[error from {label}]\n{content.get('text', '')}"
    text = content.get("text")
    if not isinstance(text, str):
        parts = content.get("parts")
        text = (
            "".join(p for p in parts if isinstance(p, str))
            if isinstance(parts, list)
            else json.dumps(content, ensure_ascii=False, indent=1)
        )
    return f"[{content_type} from {label}]\n{text}" if text else ""


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

"""oterm's `store.db`: `chat` (id, name, model, system, provider, parameters, tools, thinking)
and `message` (id, chat_id, author, text, images: a JSON list of base64 images).

oterm keeps no times: the database file's modification time stands in. Its chat ids start at 1
in every database, so a chat is known by its id and a digest of its first message. Images
become a visible placeholder in the message (tui-chat has no attachments yet), saying how large
each was.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from tui_chat.domain.conversation import Role
from tui_chat.importers.records import (
    ImportedConversation,
    ImportedMessage,
    ImportItem,
    ReadContext,
)
from tui_chat.importers.sqlite_source import conversations_of_rows, open_database_of


def is_oterm_database(tables: dict[str, set[str]]) -> bool:
    """oterm's `chat` and `message` tables (Elia's have other columns)."""
    return {"name", "model", "system"} <= tables.get("chat", set()) and {
        "author",
        "text",
    } <= tables.get("message", set())


def read_oterm(path: Path, context: ReadContext) -> Iterator[ImportItem]:
    """Every chat of the database."""
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    connection = open_database_of(path, is_oterm_database, "oterm's")
    try:
        chats = connection.execute(
            "select id, name, model, system, (select text from message"
            " where message.chat_id = chat.id order by message.id limit 1) as first_text"
            " from chat order by id"
        ).fetchall()
        yield from conversations_of_rows(
            chats,
            context,
            lambda chat, source_id: _chat(connection, chat, source_id, modified),
            source_id=_source_id,
            title_column="name",
        )
    finally:
        connection.close()


def _source_id(chat: sqlite3.Row) -> str:
    """The chat's id, which every oterm database numbers from 1, with a digest of its first
    message: chat 1 of a second database (another machine's) is not taken for the first's."""
    first = hashlib.sha256((chat["first_text"] or "").encode("utf-8", "replace")).hexdigest()
    return f"{chat['id']}@{first[:8]}"


def _chat(
    connection: sqlite3.Connection, chat: sqlite3.Row, source_id: str, modified: datetime
) -> ImportedConversation:
    rows = connection.execute(
        "select id, author, text, images from message where chat_id = ? order by id",
        (chat["id"],),
    ).fetchall()
    conversation = ImportedConversation(
        source="oterm",
        source_id=source_id,
        version=f"{len(rows)}:{rows[-1]['id'] if rows else ''}:{chat['name'] or ''}",
        title=chat["name"] or "",
        created=modified,
        updated=modified,
        model=chat["model"] or None,
        system=chat["system"] or "",
    )
    for row in rows:
        role: Role = "user" if row["author"] == "user" else "assistant"
        conversation.messages.append(
            ImportedMessage(
                source_id=str(row["id"]),
                role=role,
                content=_with_images(row["text"] or "", row["images"]),
                created=modified,
                model=conversation.model if role == "assistant" else None,
            )
        )
    return conversation


def _with_images(text: str, images: str | None) -> str:
    encoded = json.loads(images or "[]")
    if not isinstance(encoded, list) or not encoded:
        return text
    labels = []
    for number, image in enumerate(encoded, start=1):
        try:
            size = len(base64.b64decode(str(image), validate=False))
            labels.append(f"[image {number}: {size:,} bytes, kept in oterm's store.db]")
        except (binascii.Error, ValueError):
            labels.append(f"[image {number}: unreadable in oterm's store.db]")
    return "\n\n".join([text, *labels]) if text else "\n\n".join(labels)

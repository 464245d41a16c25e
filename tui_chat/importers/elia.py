"""Elia 1.10's SQLite database (`elia.sqlite`): `chat` (id, model, title, started_at, archived)
and `message` (id, chat_id, role, content, timestamp, model, meta, parent_id).

A chat's id is only unique within one database, so the source id adds its start time: two
machines' databases never claim each other's chats.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tui_chat.importers.records import (
    ImportedConversation,
    ImportedMessage,
    ImportItem,
    ReadContext,
    from_iso,
)
from tui_chat.importers.sqlite_source import conversations_of_rows, open_database_of


def is_elia_database(tables: dict[str, set[str]]) -> bool:
    """Elia's `chat` and `message` tables (oterm's have other columns)."""
    return {"started_at", "archived"} <= tables.get("chat", set()) and {
        "role",
        "content",
        "timestamp",
    } <= tables.get("message", set())


def read_elia(path: Path, context: ReadContext) -> Iterator[ImportItem]:
    """Every chat of the database, archived ones included."""
    connection = open_database_of(path, is_elia_database, "Elia's")
    try:
        chats = connection.execute(
            "select id, model, title, started_at from chat order by id"
        ).fetchall()
        yield from conversations_of_rows(
            chats,
            context,
            lambda chat, source_id: _chat(connection, chat, source_id),
            source_id=lambda chat: f"{chat['id']}@{chat['started_at']}",
            title_column="title",
        )
    finally:
        connection.close()


def _chat(
    connection: sqlite3.Connection, chat: sqlite3.Row, source_id: str
) -> ImportedConversation:
    rows = connection.execute(
        "select id, role, content, timestamp, model from message where chat_id = ? order by id",
        (chat["id"],),
    ).fetchall()
    conversation = ImportedConversation(
        source="elia",
        source_id=source_id,
        version=f"{len(rows)}:{rows[-1]['id'] if rows else ''}:{chat['title'] or ''}",
        title=chat["title"] or "",
        created=from_iso(chat["started_at"]),
        model=chat["model"] or None,
    )
    system: list[str] = []
    for row in rows:
        if row["role"] == "system":
            system.append(row["content"] or "")
            continue
        conversation.messages.append(
            ImportedMessage(
                source_id=str(row["id"]),
                role="user" if row["role"] == "user" else "assistant",
                content=row["content"] or "",
                created=from_iso(row["timestamp"]),
                model=row["model"] or None,
            )
        )
    conversation.system = "\n\n".join(system)
    return conversation

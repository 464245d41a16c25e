"""Simon Willison's `llm`: its `logs.db`.

llm 0.36 keeps a content-addressed message tree: `threads` (a conversation; its tip message),
`turns` (one model call: its time and model), `messages` (hash, parent hash, role) and `parts`
(a message's text, reasoning, tool calls and results, in order). Older releases keep
`conversations` and `responses` (one prompt and its reply per row). Both are read; a database
holds either or both (0.36 no longer writes the old tables).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tui_chat.importers.records import (
    ImportedConversation,
    ImportedMessage,
    ImportItem,
    ReadContext,
    from_iso,
)
from tui_chat.importers.sqlite_source import (
    conversations_of_rows,
    open_database_of,
    table_columns,
)


def is_llm_database(tables: dict[str, set[str]]) -> bool:
    """llm's logs.db: the old `responses` table, or 0.36's `threads` and `turns`."""
    old = {"prompt", "response", "conversation_id"} <= tables.get("responses", set())
    new = {"tip_message_hash"} <= tables.get("threads", set()) and "turns" in tables
    return old or new


def read_llm(path: Path, context: ReadContext) -> Iterator[ImportItem]:
    """Every thread (0.36) and every old-style conversation of the database."""
    connection = open_database_of(path, is_llm_database, "llm's")
    try:
        tables = table_columns(connection)
        if "threads" in tables and "turns" in tables:
            threads = connection.execute(
                "select id, name, tip_message_hash, datetime_utc from threads order by datetime_utc"
            ).fetchall()
            yield from conversations_of_rows(
                threads,
                context,
                lambda thread, _: _thread(connection, thread),
                source_id=lambda thread: thread["id"],
                title_column="name",
            )
        if "responses" in tables and "conversations" in tables:
            conversations = connection.execute(
                "select id, name, model from conversations"
            ).fetchall()
            yield from conversations_of_rows(
                conversations,
                context,
                lambda row, _: _old_conversation(connection, row),
                source_id=lambda row: row["id"],
                title_column="name",
            )
    finally:
        connection.close()


def _thread(connection: sqlite3.Connection, thread: sqlite3.Row) -> ImportedConversation:
    chain: list[sqlite3.Row] = []
    seen: set[str] = set()
    current = thread["tip_message_hash"]
    while current and current not in seen:
        seen.add(current)
        row = connection.execute(
            "select hash, parent_hash, role from messages where hash = ?", (current,)
        ).fetchone()
        if row is None:
            raise ValueError(f"message {current} is missing from the database")
        chain.append(row)
        current = row["parent_hash"]
    chain.reverse()
    times, models = _turn_times(connection, thread["id"])
    conversation = ImportedConversation(
        source="llm",
        source_id=thread["id"],
        version=thread["tip_message_hash"] or "",
        title=thread["name"] or "",
        created=from_iso(thread["datetime_utc"]),
    )
    system: list[str] = []
    for row in chain:
        text = _message_text(connection, row["hash"])
        if row["role"] == "system":
            system.append(text)
            continue
        conversation.messages.append(
            ImportedMessage(
                source_id=row["hash"],
                role="user" if row["role"] == "user" else "assistant",
                content=text,
                created=times.get(row["hash"]),
                model=models.get(row["hash"]),
            )
        )
    conversation.system = "\n\n".join(system)
    conversation.model = next((m.model for m in reversed(conversation.messages) if m.model), None)
    return conversation


def _turn_times(
    connection: sqlite3.Connection, thread_id: str
) -> tuple[dict[str, datetime], dict[str, str]]:
    """Messages carry no time: each takes that of the first turn whose chain reaches it, and a
    reply the model of the turn that made it (its tip)."""
    times: dict[str, datetime] = {}
    models: dict[str, str] = {}
    turns = connection.execute(
        "select tip_message_hash, model, resolved_model, datetime_utc from turns "
        "where thread_id = ? order by datetime_utc",
        (thread_id,),
    ).fetchall()
    for turn in turns:
        when = from_iso(turn["datetime_utc"])
        models.setdefault(turn["tip_message_hash"], turn["resolved_model"] or turn["model"])
        current = turn["tip_message_hash"]
        while current and current not in times and when is not None:
            times[current] = when
            row = connection.execute(
                "select parent_hash from messages where hash = ?", (current,)
            ).fetchone()
            current = row["parent_hash"] if row else None
    return times, models


def _message_text(connection: sqlite3.Connection, message_hash: str) -> str:
    pieces: list[str] = []
    parts = connection.execute(
        "select id, type, tool_name, text, payload from parts where message_hash = ? "
        "order by position",
        (message_hash,),
    ).fetchall()
    for part in parts:
        text = part["text"]
        if text is None:
            text = _fragment_text(connection, part["id"]) or part["payload"] or ""
        kind = part["type"]
        if kind == "text":
            pieces.append(text)
        elif kind in ("tool_call", "tool_result"):
            label = "tool call" if kind == "tool_call" else "tool result"
            pieces.append(f"[{label}: {part['tool_name'] or 'a tool'}]\n{text}")
        else:
            pieces.append(f"[{kind}]\n{text}")
    return "\n\n".join(pieces)


def _fragment_text(connection: sqlite3.Connection, part_id: int) -> str:
    """A part whose text is built from fragments (files given with `-f`)."""
    try:
        rows = connection.execute(
            "select f.content from part_fragments pf join fragments f on f.id = pf.fragment_id "
            'where pf.part_id = ? order by pf."order"',
            (part_id,),
        ).fetchall()
    except sqlite3.OperationalError:
        return ""
    return "".join(row[0] or "" for row in rows)


def _old_conversation(connection: sqlite3.Connection, row: sqlite3.Row) -> ImportedConversation:
    responses = connection.execute(
        "select id, model, prompt, system, response, datetime_utc from responses "
        "where conversation_id = ? order by datetime_utc, rowid",
        (row["id"],),
    ).fetchall()
    conversation = ImportedConversation(
        source="llm",
        source_id=row["id"],
        version=f"{len(responses)}:{responses[-1]['id'] if responses else ''}",
        title=row["name"] or "",
        model=row["model"],
    )
    for response in responses:
        when = from_iso(response["datetime_utc"])
        if response["system"] and not conversation.system:
            conversation.system = response["system"]
        conversation.messages.append(
            ImportedMessage(f"{response['id']}/prompt", "user", response["prompt"] or "", when)
        )
        conversation.messages.append(
            ImportedMessage(
                f"{response['id']}/response",
                "assistant",
                response["response"] or "",
                when,
                response["model"],
            )
        )
    return conversation

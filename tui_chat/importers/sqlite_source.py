"""Another program's SQLite database: opened without any chance of changing it, and read one
conversation per row."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from tui_chat.importers.records import (
    BrokenConversation,
    ImportedConversation,
    ImportItem,
    ReadContext,
    SourceError,
)

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite(path: Path) -> bool:
    """True when the file starts with SQLite's header."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection (`mode=ro`: SQLite itself refuses every write), rows by name."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        connection.row_factory = sqlite3.Row
        connection.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise SourceError(f"{path} cannot be read as a SQLite database ({error}).") from None
    return connection


def table_columns(connection: sqlite3.Connection) -> dict[str, set[str]]:
    """Each table's column names: what tells one program's database from another's."""
    tables = [
        row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")
    ]
    return {
        table: {row[1] for row in connection.execute(f'pragma table_info("{table}")')}
        for table in tables
    }


def open_database_of(
    path: Path, is_theirs: Callable[[dict[str, set[str]]], bool], whose: str
) -> sqlite3.Connection:
    """A read-only connection to `whose` database; SourceError when its tables are another
    program's (`--from` named the wrong tool)."""
    connection = open_read_only(path)
    if not is_theirs(table_columns(connection)):
        connection.close()
        raise SourceError(f"{path} is not {whose} database: its tables are another program's.")
    return connection


def conversations_of_rows(
    rows: Sequence[sqlite3.Row],
    context: ReadContext,
    build: Callable[[sqlite3.Row, str], ImportedConversation],
    *,
    source_id: Callable[[sqlite3.Row], str],
    title_column: str,
) -> Iterator[ImportItem]:
    """One conversation per row (a chat, a thread), made by `build(row, its source id)`. A row
    that cannot be made into one (a missing message, bad JSON) is reported as broken, with its
    title from `title_column`, and the others go on."""
    context.total += len(rows)
    for row in rows:
        context.done += 1
        row_id = source_id(row)
        try:
            yield build(row, row_id)
        except (sqlite3.Error, ValueError, TypeError) as error:
            yield BrokenConversation(row_id, row[title_column] or "", str(error))

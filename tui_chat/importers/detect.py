"""Which tool wrote a file, by its content (never by its name alone), and its reader."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tui_chat.importers.aichat import is_session_source, read_aichat
from tui_chat.importers.chatgpt import EXPORT_MEMBER, looks_like_export, read_export
from tui_chat.importers.elia import is_elia_database, read_elia
from tui_chat.importers.llm import is_llm_database, read_llm
from tui_chat.importers.oterm import is_oterm_database, read_oterm
from tui_chat.importers.records import ImportItem, ReadContext, SourceError, SourceName
from tui_chat.importers.sqlite_source import is_sqlite, open_read_only, table_columns

Reader = Callable[[Path, ReadContext], Iterator[ImportItem]]

READERS: dict[SourceName, Reader] = {
    "chatgpt": read_export,
    "elia": read_elia,
    "oterm": read_oterm,
    "llm": read_llm,
    "aichat": read_aichat,
}

LOOKED_FOR = (
    "a ChatGPT export (.zip or conversations.json), Elia's or oterm's or llm's SQLite "
    "database, or aichat's session files"
)
_HEAD_BYTES = 64 * 1024
_DATABASE_TESTS: tuple[tuple[SourceName, Callable[[dict[str, set[str]]], bool]], ...] = (
    ("elia", is_elia_database),
    ("oterm", is_oterm_database),
    ("llm", is_llm_database),
)


def detect_source(path: Path) -> tuple[SourceName, Path]:
    """The source that wrote `path`, and the file to read (an unzipped export's folder gives
    its conversations.json). Raises SourceError naming what was looked for."""
    if path.is_dir():
        if (path / EXPORT_MEMBER).is_file():
            return "chatgpt", path / EXPORT_MEMBER
        if is_session_source(path):
            return "aichat", path
        raise SourceError(f"{path} is a folder without {LOOKED_FOR}.")
    if zipfile.is_zipfile(path):
        return "chatgpt", path
    if is_sqlite(path):
        return _sqlite_source(path), path
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as error:
        raise SourceError(f"{path} cannot be read ({error.strerror}).") from None
    if head.startswith(b"PK"):
        raise SourceError(f"{path} is a damaged zip file, not a complete ChatGPT export.")
    if looks_like_export(head):
        return "chatgpt", path
    if is_session_source(path):
        return "aichat", path
    raise SourceError(f"{path} is none of what tui-chat imports: {LOOKED_FOR}.")


def _sqlite_source(path: Path) -> SourceName:
    connection = open_read_only(path)
    try:
        tables = table_columns(connection)
    finally:
        connection.close()
    for name, test in _DATABASE_TESTS:
        if test(tables):
            return name
    raise SourceError(
        f"{path} is a SQLite database of another program (it has none of Elia's, oterm's or "
        "llm's tables)."
    )

"""ConversationStore.add_new, the bulk import's write: atomic, listed without a second parse,
and never over an existing file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.errors import StorageError
from tui_chat.storage.store import ConversationStore


def _store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(AppPaths(config_file=tmp_path / "none.toml", data_dir=tmp_path))


def test_added_conversations_are_listed_and_read_back_exactly(tmp_path: Path) -> None:
    store = _store(tmp_path)
    conversation = Conversation(id="20250101-000000-aaaa", title="Imported")
    conversation.messages.append(Message("user", "CRLF\r\n''' \"\"\" \\ 雪 🎉"))
    conversation.extra["source"] = "chatgpt"

    store.add_new(conversation)
    store.sync()

    (entry,) = _store(tmp_path).list_entries()
    assert (entry.id, entry.title, entry.message_count) == (conversation.id, "Imported", 1)
    again = _store(tmp_path).load(conversation.id)
    assert again.messages[0].content == conversation.messages[0].content
    assert again.extra == {"source": "chatgpt"}
    assert (tmp_path / "conversations" / f"{conversation.id}.toml").stat().st_mode & 0o777 == 0o600


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    store = _store(tmp_path)
    mine = Conversation(id="20250101-000000-bbbb", title="Mine")
    store.save(mine)
    before = store.path_for(mine.id).read_bytes()

    with pytest.raises(StorageError, match="a file of that name exists"):
        store.add_new(Conversation(id=mine.id, title="Imported over it"))

    assert store.path_for(mine.id).read_bytes() == before

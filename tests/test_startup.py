"""Start-up: the list is drawn from the index cache at once, then checked against the folder."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from app_harness import chat, data_paths, make_app, notifications, wait_for
from openai_server import FakeOpenAIServer
from textual.pilot import Pilot

from tui_chat.domain import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.storage.toml_write import conversation_to_toml
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens import chat as chat_module
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.widgets.sidebar import MAX_LISTED, Sidebar

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def seed(tmp_path: Path, titles: list[str]) -> ConversationStore:
    """Conversations saved oldest first, listed once (so the index cache is warm), files aged."""
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    )
    for n, title in enumerate(titles):
        conversation = Conversation(id=f"20261120-09000{n}-abcd", title=title)
        conversation.add(Message("user", f"question about {title}"))
        conversation.add(Message("assistant", f"answer about {title}"))
        conversation.updated = T0 + timedelta(minutes=n)
        store.save(conversation)
    past = time.time() - 3600  # the index trusts a file's stat only once it is a little old
    for path in store.folder.glob("*.toml"):
        os.utime(path, (past, past))
    store.list_entries()
    return store


def seed_with_a_newer_arrival(tmp_path: Path) -> None:
    """Two conversations listed (the cache is warm), then, as if synced in while tui-chat was
    closed, a newer one the cache does not know."""
    store = seed(tmp_path, ["oldest", "newest when closed"])
    arrived = Conversation(id="20261121-080000-beef", title="synced in, newer")
    arrived.add(Message("user", "hello from the laptop"))
    arrived.updated = T0 + timedelta(days=1)
    ConversationStore(store.paths).save(arrived)


@contextlib.asynccontextmanager
async def started(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> AsyncIterator[tuple[TuiChatApp, Pilot[None], ChatScreen]]:
    """The app on the seeded folder, just started."""
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        yield app, pilot, chat(app)


def listed_titles(app: object) -> list[str]:
    option_list = chat(app).sidebar.option_list  # type: ignore[arg-type]
    return [
        str(option_list.get_option_at_index(i).prompt).splitlines()[0]
        for i in range(option_list.option_count)
    ]


async def test_the_newest_conversation_opens_from_the_cached_list(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed(tmp_path, ["oldest", "middle", "newest"])
    async with started(tmp_path, openai_server) as (app, pilot, screen):
        await wait_for(pilot, lambda: screen.conversation.title == "newest", what="newest open")
        await wait_for(pilot, lambda: screen.services.counter.ready, what="the check and counts")
        assert listed_titles(app) == ["newest", "middle", "oldest"]
        assert screen.sidebar.border_title == "Conversations (3)"
        assert not notifications(app)


async def test_changes_made_while_closed_show_once_the_folder_is_checked(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check must follow the failed open of the deleted file, not a fallback timer.
    monkeypatch.setattr(chat_module, "BACKGROUND_WORK_FALLBACK_DELAY", 600)
    store = seed(tmp_path, ["oldest", "middle", "newest"])
    # While tui-chat was closed: the newest file was deleted (say, by `git pull`) and another
    # conversation arrived; the index cache still lists the old state.
    (store.folder / "20261120-090002-abcd.toml").unlink()
    arrived = Conversation(id="20261120-080000-beef", title="synced in")
    arrived.add(Message("user", "hello from the laptop"))
    arrived.updated = T0 - timedelta(days=1)
    ConversationStore(store.paths).save(arrived)

    async with started(tmp_path, openai_server) as (app, pilot, screen):
        await wait_for(
            pilot,
            lambda: listed_titles(app) == ["middle", "oldest", "synced in"],
            what="the checked list",
        )
        # The newest file could not be opened: the next newest is, without an error toast.
        await wait_for(pilot, lambda: screen.conversation.title == "middle", what="middle open")
        assert screen.sidebar.border_title == "Conversations (3)"
        assert not notifications(app)


async def test_a_newer_conversation_synced_in_while_closed_is_the_one_opened(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed_with_a_newer_arrival(tmp_path)

    async with started(tmp_path, openai_server) as (app, pilot, screen):
        await wait_for(
            pilot, lambda: screen.conversation.title == "synced in, newer", what="the newest"
        )
        assert listed_titles(app)[0] == "synced in, newer"


async def test_what_the_user_chose_before_the_check_is_not_replaced(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed_with_a_newer_arrival(tmp_path)

    async with started(tmp_path, openai_server) as (app, pilot, screen):
        screen.listing.start_up.background_started = True  # hold the check back until the user acts
        await pilot.press("ctrl+n")
        await pilot.press(*"my own")
        screen.listing.start_up.background_started = False
        screen.listing.start_background_work()
        await wait_for(pilot, lambda: listed_titles(app)[0] == "synced in, newer", what="check")
        await wait_for(pilot, lambda: screen.services.counter.ready, what="the engine")
        assert screen.conversation.title == ""  # still the new conversation the user began
        assert screen.composer.text == "my own"


def write_many(folder: Path, count: int) -> None:
    """`count` conversations written straight to files (no index, as synced onto a new machine),
    each modified a minute after the one before; the oldest is pinned."""
    folder.mkdir(parents=True)
    past = time.time() - 3600 - 60 * count
    for n in range(count):
        conversation = Conversation(
            id=f"20261120-{n:06d}-abcd", title=f"chat {n}", updated=T0 + timedelta(minutes=n)
        )
        conversation.pinned = n == 0
        conversation.add(Message("user", f"question {n}"))
        path = folder / f"{conversation.id}.toml"
        path.write_text(conversation_to_toml(conversation), encoding="utf-8")
        os.utime(path, (past + 60 * n, past + 60 * n))


async def test_a_first_reading_shows_the_newest_before_the_rest_then_the_whole_list(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 1_200
    write_many(data_paths(tmp_path).conversations_dir, count)
    # What the list showed each time the reading said how far it got: it was not done then.
    while_reading: list[list[str]] = []
    show_progress = Sidebar.show_progress

    def noting(sidebar: Sidebar, parsed: int, to_parse: int) -> None:
        while_reading.append(listed_titles(sidebar.app))
        show_progress(sidebar, parsed, to_parse)

    monkeypatch.setattr(Sidebar, "show_progress", noting)
    async with started(tmp_path, openai_server) as (app, pilot, screen):
        await wait_for(
            pilot,
            lambda: (
                screen.sidebar.border_title == f"Conversations ({count:,})"
                and not screen.listing.start_up.reading_folder
            ),
            what="the whole list",
        )
        assert while_reading, "the reading was long enough to report its progress"
        assert while_reading[0][0] == f"chat {count - 1}"
        # The first of the whole list opens in the end, as at a warm start: the pinned one.
        await wait_for(pilot, lambda: screen.conversation.title == "chat 0", what="chat 0 open")
        newest_first = [f"chat {n}" for n in range(count - 1, count - MAX_LISTED, -1)]
        assert listed_titles(app)[:MAX_LISTED] == ["★ chat 0", *newest_first]  # pinned first

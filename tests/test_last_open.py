"""At start the app opens the conversation that was open at the last quit, highlighted in the
list, rather than the top (pinned) one; when that one is gone it falls back to the top one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app_harness import chat, make_app, wait_for
from openai_server import FakeOpenAIServer
from textual.pilot import Pilot

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.screens.chat import ChatScreen


def plant(tmp_path: Path, title: str, age_days: int, *, pinned: bool = False) -> str:
    """A saved conversation of one exchange, last updated `age_days` ago; returns its id."""
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    conversation.id = f"2026010{age_days}-120000-{age_days:04x}"
    conversation.title = title
    conversation.pinned = pinned
    conversation.add(Message(role="user", content=f"A question about {title}"))
    conversation.add(
        Message(role="assistant", content=f"An answer on {title}", finish_reason="stop")
    )
    conversation.updated = datetime.now(UTC) - timedelta(days=age_days)
    paths = AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    ConversationStore(paths).save(conversation)
    return conversation.id


async def settled_on(pilot: Pilot[None], screen: ChatScreen, conversation_id: str) -> None:
    """Wait until start-up is over (the list checked against the folder) with
    `conversation_id` open and highlighted."""
    await wait_for(
        pilot,
        lambda: (
            screen.listing.start_up.background_started
            and not screen.listing.start_up.awaiting_check
            and screen.conversation.id == conversation_id
            and screen.sidebar.highlighted_id == conversation_id
        ),
        what=f"{conversation_id} open and highlighted after start-up",
    )


async def test_the_conversation_open_at_quit_is_open_and_highlighted_at_the_next_start(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    pinned = plant(tmp_path, "pinned notes", 3, pinned=True)
    plant(tmp_path, "the newest", 1)
    oldest = plant(tmp_path, "an older topic", 2)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await settled_on(pilot, screen, pinned)  # the first start: the top of the list
        screen.sidebar.option_list.focus()
        await pilot.press("end", "enter")  # the last row: the oldest
        await wait_for(pilot, lambda: screen.conversation.id == oldest, what="the oldest open")
        await pilot.press("ctrl+q")

    again = make_app(tmp_path, openai_server.base_url)
    async with again.run_test(size=(100, 30)) as pilot:
        screen = chat(again)
        await settled_on(pilot, screen, oldest)
        assert screen.conversation.messages[0].content == "A question about an older topic"
    # Remembered beside the index cache; neither the conversation files nor the config changed.
    assert (tmp_path / "data" / "cache" / "last-open").read_text(encoding="utf-8") == oldest + "\n"
    assert not (tmp_path / "config").exists()


async def test_when_the_conversation_open_at_quit_is_gone_the_top_one_opens(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    pinned = plant(tmp_path, "pinned notes", 3, pinned=True)
    oldest = plant(tmp_path, "an older topic", 2)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await settled_on(pilot, screen, pinned)
        screen.sidebar.option_list.focus()
        await pilot.press("end", "enter")
        await wait_for(pilot, lambda: screen.conversation.id == oldest, what="the oldest open")
        await pilot.press("ctrl+q")
    (tmp_path / "data" / "conversations" / f"{oldest}.toml").unlink()  # removed elsewhere

    again = make_app(tmp_path, openai_server.base_url)
    async with again.run_test(size=(100, 30)) as pilot:
        await settled_on(pilot, chat(again), pinned)

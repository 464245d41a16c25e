"""Deleting from the conversation list: the cursor stays where the user was, never on the top."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app_harness import chat, conversation_files, make_app, wait_for
from openai_server import FakeOpenAIServer
from textual.pilot import Pilot
from textual.widgets import Label
from textual.worker import WorkerState

from tui_chat.domain import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.dialogs import ConfirmDialog

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LONG_TITLE = "A rather long title about " + "the weather in many places " * 4


def seed_list(tmp_path: Path) -> list[str]:
    """Six conversations, one pinned (so at the top); returns their ids in list order."""
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    )
    titles = ["sixth", "fifth", "fourth", LONG_TITLE, "second", "pinned oldest"]
    ids = []
    for n, title in enumerate(titles):
        conversation = Conversation(id=f"20261120-09000{n}-abcd", title=title)
        conversation.add(Message("user", f"question about {title}"))
        conversation.add(Message("assistant", f"answer about {title}"))
        conversation.updated = T0 + timedelta(minutes=n)
        conversation.pinned = title == "pinned oldest"
        store.save(conversation)
        ids.append(conversation.id)
    past = time.time() - 3600  # the index trusts a file's stat only once it is a little old
    for path in store.folder.glob("*.toml"):
        os.utime(path, (past, past))
    store.list_entries()
    # Pinned first, then the newest first.
    return [ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]]


def listed_ids(app: TuiChatApp) -> list[str | None]:
    option_list = chat(app).sidebar.option_list
    return [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]


async def delete_highlighted(pilot: Pilot[None], tmp_path: Path) -> tuple[str, str]:
    """`d`, then `y` in the dialog; returns the id deleted and the dialog's question."""
    app = pilot.app
    assert isinstance(app, TuiChatApp)
    screen = chat(app)
    doomed = screen.sidebar.highlighted_id
    assert doomed is not None
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the dialog")
    question = str(app.screen.query_one(".dialog-question", Label).render())
    await pilot.press("y")
    await wait_for(pilot, lambda: doomed not in conversation_files(tmp_path), what="trashed")
    await wait_for(pilot, lambda: doomed not in listed_ids(app), what="off the list")
    await wait_for(pilot, lambda: not list_reading(app), what="the list read again", timeout=30)
    return doomed, question


def list_reading(app: TuiChatApp) -> bool:
    """The list is being read again (its worker hands the result over before it ends)."""
    return any(
        worker.group == "list" and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
        for worker in app.workers
    )


async def test_delete_leaves_the_cursor_on_the_neighbour_and_a_second_delete_takes_that_one(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    order = seed_list(tmp_path)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: listed_ids(app) == order, what="the list")
        screen.sidebar.option_list.focus()
        await pilot.press("home", "down", "down")  # the third row
        assert screen.sidebar.highlighted_id == order[2]

        doomed, question = await delete_highlighted(pilot, tmp_path)
        assert doomed == order[2]
        assert screen.sidebar.highlighted_id == order[3]  # the next row, not the pinned top
        # The dialog named the conversation, shortened to fit 80 columns.
        assert "A rather long title about the weather" in question
        assert "…" in question and LONG_TITLE.strip() not in question

        doomed, question = await delete_highlighted(pilot, tmp_path)
        assert doomed == order[3] and "fourth" in question
        assert order[0] in conversation_files(tmp_path)  # the pinned one is untouched
        assert screen.sidebar.highlighted_id == order[4]

        await pilot.press("end")  # the last row: its neighbour is the previous one
        doomed, _ = await delete_highlighted(pilot, tmp_path)
        assert doomed == order[5]
        assert screen.sidebar.highlighted_id == order[4]


async def test_deleting_the_open_conversation_opens_and_highlights_its_neighbour(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    order = seed_list(tmp_path)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: listed_ids(app) == order, what="the list")
        screen.sidebar.option_list.focus()
        await pilot.press("home", "down", "down", "down", "enter")  # open the fourth row
        await wait_for(pilot, lambda: screen.conversation.id == order[3], what="opened")
        screen.sidebar.option_list.focus()

        doomed, _ = await delete_highlighted(pilot, tmp_path)
        assert doomed == order[3]
        await wait_for(pilot, lambda: screen.conversation.id == order[4], what="neighbour open")
        assert screen.sidebar.highlighted_id == order[4]
        assert screen.sidebar.option_list.has_focus  # a second d acts on the list again

        await pilot.press("u")  # restore: the cursor and the pane go to the restored one
        await wait_for(pilot, lambda: doomed in conversation_files(tmp_path), what="restored")
        await wait_for(pilot, lambda: screen.conversation.id == doomed, what="restored open")
        await wait_for(
            pilot, lambda: screen.sidebar.highlighted_id == doomed, what="restored highlighted"
        )


async def test_the_open_conversation_deleted_with_words_typed_stays_in_the_trash(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    order = seed_list(tmp_path)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: listed_ids(app) == order, what="the list")
        screen.sidebar.option_list.focus()
        await pilot.press("home", "down", "enter")  # open the second row
        await wait_for(pilot, lambda: screen.conversation.id == order[1], what="opened")
        screen.composer.set_text("words typed, then the conversation deleted")
        screen.sidebar.option_list.focus()

        doomed, _ = await delete_highlighted(pilot, tmp_path)
        await wait_for(pilot, lambda: screen.conversation.id == order[2], what="neighbour open")
        await pilot.pause()
        assert doomed not in conversation_files(tmp_path)  # not written back when left
        assert doomed not in listed_ids(app)

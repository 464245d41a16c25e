"""The app as a user drives it: every flow by keyboard, against the real test server."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app_harness import (
    FAKE_API_KEY,
    chat,
    conversation_files,
    make_app,
    notifications,
    plant,
    reply_finished,
    reply_streamed,
    run_palette_command,
    send,
    wait_for,
    wait_until_idle,
)
from openai_server import FakeOpenAIServer, Script
from rich.cells import cell_len
from textual.notifications import Notification
from textual.widgets import Static

from tui_chat.config import ModelPrice
from tui_chat.domain import Conversation, Message, Spend
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.actions import ACTIONS
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.bindings import key_names
from tui_chat.ui.screens.dialogs import ChoiceDialog, ConfirmDialog, TextInputDialog
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.sidebar import Sidebar

README = Path(__file__).resolve().parent.parent / "README.md"


async def test_enter_sends_and_the_reply_streams_into_the_pane_and_the_file(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="Here is **fib**:\n\n```python\ndef fib(n): ...\n```\n"))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press(*"write fib", "enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert screen.composer.text == ""
        reply = screen.conversation.messages[-1]
        assert reply.finish_reason == "stop"
        assert reply.content.startswith("Here is **fib**")
        assert reply.usage is not None and not reply.usage.estimated
        assert screen.conversation.title == "write fib"
        await wait_for(pilot, lambda: bool(conversation_files(tmp_path)), what="the file")
        (saved,) = conversation_files(tmp_path).values()
        assert [m["role"] for m in saved["messages"]] == ["user", "assistant"]
        assert saved["messages"][1]["finish_reason"] == "stop"
        assert FAKE_API_KEY not in str(saved)
        # The request carried the conversation as the API expects it.
        sent = openai_server.chat_requests[-1].json
        assert sent["stream"] is True
        assert sent["messages"][-1] == {"role": "user", "content": "write fib"}


async def test_esc_stops_stream_and_keeps_partial_reply(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    long_text = " ".join(f"w{i}" for i in range(2000))
    openai_server.enqueue(Script(text=long_text, chunk_chars=5, delay_per_chunk=0.01))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "go on")
        await wait_for(
            pilot,
            reply_streamed(screen, 20),
            what="some text",
        )
        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen), what="the stop")
        reply = screen.conversation.messages[-1]
        assert reply.finish_reason == "interrupted"
        assert 0 < len(reply.content) < len(long_text)
        assert openai_server.wait_for_disconnect(5), "the HTTP response was not closed"
        (saved,) = conversation_files(tmp_path).values()
        assert saved["messages"][1]["finish_reason"] == "interrupted"
        assert saved["messages"][1]["content"] == reply.content


async def test_sending_while_a_reply_streams_is_refused_and_the_text_kept(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="x " * 500, chunk_chars=2, delay_per_chunk=0.01))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "first")
        await wait_for(pilot, lambda: screen.streaming, what="streaming")
        await send(pilot, "second, too early")
        assert screen.composer.text == "second, too early"
        assert any("streaming" in n.message for n in notifications(app))
        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen), what="the stop")
        assert [m.content for m in screen.conversation.messages if m.role == "user"] == ["first"]


async def test_error_shows_inline_and_ctrl_r_retries(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(
        Script(
            status=401,
            error_message="Incorrect API key provided",
            error_code="invalid_api_key",
            error_type="invalid_request_error",
        )
    )
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "hello?")
        await wait_for(pilot, reply_finished(screen), what="the error")
        failed = screen.conversation.messages[-1]
        assert failed.finish_reason == "error"
        assert failed.error and "key" in failed.error.lower()
        assert FAKE_API_KEY not in failed.error
        assert screen.conversation.messages[0].content == "hello?"  # the prompt is kept
        await pilot.press("ctrl+r")
        await wait_for(pilot, reply_finished(screen), what="the retry")
        assert screen.conversation.messages[-1].finish_reason == "stop"
        assert screen.conversation.messages[-1].content == "You said: hello?"
        assert len(screen.conversation.messages) == 2


async def test_ctrl_r_regenerates_the_last_reply(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="first answer"), Script(text="second answer"))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "question")
        await wait_for(pilot, reply_finished(screen), what="first reply")
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: (
                screen.conversation.messages[-1].content == "second answer" and not screen.streaming
            ),
            what="second reply",
        )
        assert [m.content for m in screen.conversation.messages] == ["question", "second answer"]
        assert len(openai_server.chat_requests) == 2


async def make_saved_conversations(pilot, titles: list[str]) -> None:  # type: ignore[no-untyped-def]
    screen = chat(pilot.app)
    for index, title in enumerate(titles):
        if index:
            await pilot.press("ctrl+n")
        await send(pilot, title)
        await wait_for(pilot, reply_finished(screen), what=f"reply to {title}")
    await wait_for(
        pilot, lambda: screen.sidebar.option_list.option_count == len(titles), what="the list"
    )


async def test_rename_from_the_list_changes_the_title_not_the_file(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await make_saved_conversations(pilot, ["alpha"])
        (file_id,) = conversation_files(tmp_path)
        screen.sidebar.option_list.focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, TextInputDialog), what="dialog")
        await pilot.press("ctrl+a", "ctrl+k", *"Renamed ../evil/title", "enter")
        await wait_for(
            pilot,
            lambda: conversation_files(tmp_path)[file_id]["title"] == "Renamed ../evil/title",
            what="saved title",
        )
        assert list(conversation_files(tmp_path)) == [file_id]


async def test_delete_moves_to_trash_after_confirmation_and_u_restores(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await make_saved_conversations(pilot, ["keep me", "delete me"])
        screen.sidebar.option_list.focus()
        screen.sidebar.select_conversation(screen.conversation.id)
        doomed = screen.conversation.id
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="confirm")
        await pilot.press("n")  # cancel first: nothing happens
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog), what="closed")
        await wait_until_idle(pilot)
        assert doomed in conversation_files(tmp_path)
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: doomed not in conversation_files(tmp_path), what="trash")
        assert (tmp_path / "data" / "trash" / f"{doomed}.toml").exists()
        await wait_for(pilot, lambda: screen.sidebar.option_list.option_count == 1, what="list")
        screen.sidebar.option_list.focus()
        await pilot.press("u")
        await wait_for(pilot, lambda: doomed in conversation_files(tmp_path), what="restore")
        await wait_for(pilot, lambda: screen.sidebar.option_list.option_count == 2, what="list")


async def test_p_pins_a_conversation_to_the_top(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await make_saved_conversations(pilot, ["older", "newer"])
        option_list = screen.sidebar.option_list
        option_list.focus()
        # Within one second the order of the two is arbitrary; pin whichever is second.
        await pilot.press("home", "down")
        second_id = option_list.get_option_at_index(1).id
        assert second_id is not None
        await pilot.press("p")
        await wait_for(pilot, lambda: conversation_files(tmp_path)[second_id]["pinned"], what="pin")
        await wait_for(
            pilot, lambda: option_list.get_option_at_index(0).id == second_id, what="order"
        )


async def test_slash_filters_by_title_and_enter_searches_message_text(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await make_saved_conversations(pilot, ["apples", "bananas", "cherries"])
        screen.sidebar.option_list.focus()
        await pilot.press("slash", *"nan")
        await wait_for(pilot, lambda: screen.sidebar.option_list.option_count == 1, what="filter")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.sidebar.option_list.option_count == 3, what="cleared")
        await pilot.press("slash", *"You said: cher", "enter")  # text only in a reply
        await wait_for(
            pilot,
            lambda: (
                screen.sidebar.option_list.option_count == 1
                and "Search" in str(screen.sidebar.border_title)
            ),
            what="search results",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.conversation.title == "cherries", what="opened")


TWICE = "20261120-090000-aaaa"  # "ferris" in two of its messages
TITLED = "20261120-100000-bbbb"  # "Ferris" in its title and in one message


def seed_a_search(tmp_path: Path) -> None:
    """Conversation files as another session left them: two where a word occurs twice, among
    others where it does not; long replies, so a hit is not on screen unless scrolled to."""
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    )
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    long_reply = "\n\n".join(f"Paragraph {n} about crabs and the sea." for n in range(30))
    twice = Conversation(id=TWICE, title="Rust mascots")
    for prompt in ["Tell me about ferris", "And what does FERRIS eat?", "thanks"]:
        twice.add(Message("user", prompt))
        twice.add(Message("assistant", long_reply))
    twice.updated = start
    titled = Conversation(id=TITLED, title="Ferris questions")
    titled.add(Message("user", "Is ferris a crab?"))
    titled.add(Message("assistant", long_reply))
    titled.updated = start + timedelta(hours=1)
    for conversation in (twice, titled):
        store.save(conversation)
    for n in range(8):
        other = Conversation(id=f"20261119-0{n}0000-cccc", title=f"Other topic {n}")
        other.add(Message("user", f"question {n}"))
        other.add(Message("assistant", f"answer {n}"))
        other.updated = start - timedelta(days=1, hours=n)
        store.save(other)


def notices(app: TuiChatApp) -> list[str]:
    return [notification.message for notification in notifications(app)]


async def test_a_word_found_twice_in_a_conversation_lists_it_once_and_n_visits_each_hit(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed_a_search(tmp_path)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        sidebar, pane = screen.sidebar, screen.query_one(MessagePane)
        option_list = sidebar.option_list
        await wait_for(pilot, lambda: option_list.option_count == 10, what="the list")
        option_list.focus()
        await pilot.press("slash", *"ferris", "enter")
        await wait_for(
            pilot, lambda: str(sidebar.border_title).startswith("Search"), what="search results"
        )
        assert sidebar.searching
        # One row per conversation, newest first, each with its count of hits.
        rows = [option_list.get_option_at_index(i) for i in range(option_list.option_count)]
        assert [row.id for row in rows] == [TITLED, TWICE]
        assert str(sidebar.border_title) == "Search: 2 found"
        assert str(rows[0].prompt).splitlines() == ["Ferris questions", "2 hits: Is ferris a crab?"]
        assert str(rows[1].prompt).splitlines() == ["Rust mascots", "2 hits: …about ferris"]
        assert option_list.has_focus
        # At 80x24 each row is two lines of the narrow sidebar: cut with …, not wrapped, with
        # the match in view.
        shown = [option_list.render_line(y).text.rstrip() for y in range(4)]
        assert shown[0] == "Ferris questions" and shown[2] == "Rust mascots"
        assert shown[1].startswith("2 hits: Is ferris") and shown[1].endswith("…")
        assert shown[3] == "2 hits: …about ferris"

        # Enter on the second row opens it at its first hit, selected, in the focused pane.
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: screen.conversation.id == TWICE, what="the conversation")
        assert pane.has_focus and pane.selected_index == 0
        assert "Tell me about ferris" in "\n".join(pane.visible_text())
        assert any(n.startswith("Hit 1 of 2") for n in notices(app))

        # n goes to the next hit, scrolled into view; after the last, back to the first.
        await pilot.press("n")
        await wait_for(pilot, lambda: pane.selected_index == 2, what="the second hit")
        assert "And what does FERRIS eat?" in "\n".join(pane.visible_text())
        assert "Hit 2 of 2" in notices(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: pane.selected_index == 0, what="back to the first")
        assert "Hit 1 of 2, from the top" in notices(app)
        # N goes back: from the first, round to the last.
        await pilot.press("N")
        await wait_for(pilot, lambda: pane.selected_index == 2, what="N to the last")
        assert "Hit 2 of 2, from the end" in notices(app)
        await pilot.press("N")
        await wait_for(pilot, lambda: pane.selected_index == 0, what="N to the first")
        # From a message the user moved to, n / N go on from there.
        await pilot.press("end", "N")
        await wait_for(pilot, lambda: pane.selected_index == 2, what="the hit before the end")

        # The results stay while the user reads: back in the list, the other one opens at
        # its hit too (the title's hit is not a message, so n has one place to go).
        await pilot.press("shift+tab")
        assert option_list.has_focus and sidebar.searching
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: screen.conversation.id == TITLED, what="the other one")
        await wait_for(pilot, lambda: pane.has_focus and pane.selected_index == 0, what="hit")

        # Esc in the results gives the list back, the cursor on the open conversation, and
        # the hits are forgotten.
        await pilot.press("shift+tab", "escape")
        await wait_for(pilot, lambda: option_list.option_count == 10, what="the whole list")
        assert not sidebar.searching and sidebar.filter_input.value == ""
        assert sidebar.highlighted_id == TITLED
        pane.focus()
        await pilot.press("n")
        await wait_for(
            pilot, lambda: any("No search hits" in n for n in notices(app)), what="no hits"
        )


async def test_the_filter_hint_is_not_cut_at_80x24(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        filter_input = chat(app).sidebar.filter_input
        await wait_for(pilot, lambda: filter_input.size.width > 0, what="the sidebar")
        hint = str(filter_input.placeholder)
        assert "Enter" in hint
        # Within the box, inside its padding: what is wider is cut off on screen.
        assert cell_len(hint) <= filter_input.content_region.width, (hint, filter_input.size)


async def test_a_search_that_finds_nothing_says_so_and_esc_brings_the_list_back(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed_a_search(tmp_path)
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        sidebar = screen.sidebar
        option_list = sidebar.option_list
        await wait_for(pilot, lambda: option_list.option_count == 10, what="the list")
        option_list.focus()
        await pilot.press("slash", *"zebra", "enter")
        await wait_for(pilot, lambda: sidebar.searching, what="search results")
        assert str(sidebar.border_title) == "Search: none found"
        (row,) = [option_list.get_option_at_index(i) for i in range(option_list.option_count)]
        assert row.disabled and "Esc" in str(row.prompt)
        await pilot.press("enter")  # nothing to open: nothing happens
        await pilot.press("escape")
        await wait_for(pilot, lambda: option_list.option_count == 10, what="the whole list")
        assert not sidebar.searching


async def test_e_on_a_user_message_edits_in_a_fork_and_keeps_the_original(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "first question")
        await wait_for(pilot, reply_finished(screen), what="reply 1")
        await send(pilot, "second question")
        await wait_for(pilot, reply_finished(screen, 4), what="reply 2")
        original_id = screen.conversation.id
        original_file = conversation_files(tmp_path)[original_id]
        pane = screen.query_one(MessagePane)
        pane.focus()
        await pilot.press("end", "up")  # last reply, then the second question
        assert pane.selected_index == 2
        await pilot.press("e")
        await wait_for(pilot, lambda: screen.composer.text == "second question", what="edit")
        assert screen.conversation.id != original_id
        assert [m.content for m in screen.conversation.messages] == [
            "first question",
            "You said: first question",
        ]
        await pilot.press("end", *" changed", "enter")
        await wait_for(pilot, reply_finished(screen, 4), what="fork reply")
        files = conversation_files(tmp_path)
        assert files[original_id] == original_file
        assert files[screen.conversation.id]["messages"][2]["content"] == "second question changed"


async def edit_second_question_in_a_fork(pilot: Any) -> tuple[str, str]:
    """On a conversation of two exchanges: e on the second question, and more words typed.
    Returns the ids of the original and the fork."""
    screen = chat(pilot.app)
    original_id = screen.conversation.id
    pane = screen.query_one(MessagePane)
    pane.focus()
    await pilot.press("end", "up", "e")
    await wait_for(pilot, lambda: screen.composer.text == "second question", what="the edit")
    await pilot.press("end", *" changed")
    return original_id, screen.conversation.id


def assert_the_fork_is_back_whole(pilot: Any, fork_id: str) -> None:
    """The fork is open with the messages it was made from and the words typed in it."""
    screen = chat(pilot.app)
    assert screen.conversation.id == fork_id
    assert [m.content for m in screen.conversation.messages] == [
        "first question",
        "first answer",
    ]
    assert screen.composer.text == "second question changed"


async def test_an_unsent_fork_left_for_another_conversation_comes_back_with_its_history(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    plant(tmp_path, "first question", "first answer", "second question", "second answer")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        original_id, fork_id = await edit_second_question_in_a_fork(pilot)
        screen.open_conversation(original_id)  # the user goes back to the original...
        await wait_for(pilot, lambda: screen.conversation.id == original_id, what="original")
        listed = screen.query_one(Sidebar).option_list
        await wait_for(
            pilot,
            lambda: (
                fork_id in {listed.get_option_at_index(i).id for i in range(listed.option_count)}
            ),
            what="the fork in the list",
        )
        screen.open_conversation(fork_id)  # ...and to the fork again, from the list
        await wait_for(pilot, lambda: screen.conversation.id == fork_id, what="the fork")
        assert_the_fork_is_back_whole(pilot, fork_id)


async def test_an_unsent_fork_open_at_quit_is_back_with_its_history_at_the_next_start(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    plant(tmp_path, "first question", "first answer", "second question", "second answer")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until_idle(pilot)
        _, fork_id = await edit_second_question_in_a_fork(pilot)
        await pilot.press("ctrl+q")
    again = make_app(tmp_path, openai_server.base_url)
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until_idle(pilot)
        assert_the_fork_is_back_whole(pilot, fork_id)


async def test_y_copies_the_selected_message_and_c_its_code(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    reply = "Try this:\n\n```python\nprint('hi')\n```\n\nand that is all."
    openai_server.enqueue(Script(text=reply))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "code please")
        await wait_for(pilot, reply_finished(screen), what="reply")
        screen.query_one(MessagePane).focus()
        await pilot.press("end", "y")
        await wait_for(pilot, lambda: app.clipboard == reply, what="copy")
        await pilot.press("c")
        await wait_for(pilot, lambda: app.clipboard.strip() == "print('hi')", what="copy code")
        assert any("Copied" in n.message for n in notifications(app))


async def test_ctrl_o_switches_model_from_the_servers_list(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), what="model list")
        await pilot.press(*"gpt-4o", "enter")
        await wait_for(pilot, lambda: screen.conversation.model != "gpt-4o-mini", what="switch")
        chosen = screen.conversation.model
        await send(pilot, "which model?")
        await wait_for(pilot, reply_finished(screen), what="reply")
        assert openai_server.chat_requests[-1].json["model"] == chosen


async def test_system_prompt_edited_from_the_palette_is_sent(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await run_palette_command(pilot, "system prompt", "Edit system prompt")
        await wait_for(
            pilot, lambda: app.screen.__class__.__name__ == "TextEditorDialog", what="editor"
        )
        await pilot.press(*"Answer in French.", "ctrl+s")
        await wait_for(
            pilot, lambda: screen.conversation.system == "Answer in French.", what="system prompt"
        )
        await send(pilot, "bonjour")
        await wait_for(pilot, reply_finished(screen), what="reply")
        assert openai_server.chat_requests[-1].json["messages"][0] == {
            "role": "system",
            "content": "Answer in French.",
        }


async def test_export_from_the_palette_writes_markdown(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "export me")
        await wait_for(pilot, reply_finished(screen), what="reply")
        await run_palette_command(pilot, "export to markdown", "Export to Markdown")
        target = tmp_path / "data" / "exports" / f"{screen.conversation.id}.md"
        await wait_for(pilot, target.exists, what="export file")
        text = target.read_text(encoding="utf-8")
        assert "export me" in text and "You said: export me" in text
        assert FAKE_API_KEY not in text


async def test_ctrl_b_hides_the_sidebar_and_the_messages_take_the_width(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        pane = screen.query_one(MessagePane)
        narrow = pane.size.width
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: pane.size.width > narrow, what="the wider pane")
        assert not screen.query_one(Sidebar).display
        wide = pane.size.width
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: pane.size.width < wide, what="the sidebar back")
        assert screen.query_one(Sidebar).display


async def test_swapped_keys_enter_is_newline_and_ctrl_j_sends(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url, enter_sends=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press(*"line one", "enter", *"line two")
        assert screen.composer.text == "line one\nline two"
        assert not screen.conversation.messages
        await pilot.press("ctrl+j")
        await wait_for(pilot, reply_finished(screen), what="reply")
        assert screen.conversation.messages[0].content == "line one\nline two"


async def test_alt_enter_and_ctrl_j_insert_newlines_by_default(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press("a", "alt+enter", "b", "ctrl+j", "c")
        assert screen.composer.text == "a\nb\nc"
        assert not screen.conversation.messages


def readme_keys() -> set[str]:
    """Every key README's Keys table names, as the help screen writes it ("up" is "↑")."""
    section = README.read_text(encoding="utf-8").split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if len(cells) != 3 or cells[1] in ("key", "---"):
            continue
        cell = cells[1].replace("`", "")
        # "(shift+Enter where the terminal reports it)": the key in a remark counts too.
        for remark in re.findall(r"\(([^)]*)\)", cell):
            keys.update(word for word in remark.split() if "+" in word)
        for part in re.split(r",| or ", re.sub(r"\([^)]*\)", "", cell)):
            part = part.strip()
            keys.update([part] if part == "/" else (p.strip() for p in part.split("/")))
    return {key_names(key.lower()) for key in keys if key}


def help_rows(text: str) -> dict[str, set[str]]:
    """The help screen's rows: each key shown, with the descriptions on its rows."""
    rows: dict[str, set[str]] = {}
    for line in text.splitlines():
        # A row is "  KEYS DESCRIPTION", KEYS a list joined by ", " or " / ".
        # A long list of keys stands alone on its row, its words on the next one.
        found = re.match(r"  ([^\s,]+(?:(?:, | / )[^\s,]+)*)(?:\s+(.*))?$", line)
        if found:
            for key in re.split(r", | / ", found[1]):
                rows.setdefault(key, set()).add(found[2] or "")
    return rows


async def test_f1_and_question_mark_show_every_key(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        shown = str(app.screen.query_one("#help-text", Static).render())
        rows = shown.splitlines()
        for action in ACTIONS:
            if action.keys:  # palette-only commands have none: the palette lists them
                keys = key_names(action.keys)
                # One key may act in several places (Enter: send, show a tool result).
                rows_at = [i for i, row in enumerate(rows) if f"{row} ".startswith(f"  {keys} ")]
                # The words follow the keys, or sit on the next row below a long list of keys.
                assert any(action.description in rows[at] + rows[at + 1] for at in rows_at), (
                    action.id
                )
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="closed")
        chat(app).sidebar.option_list.focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help via ?")
        assert str(app.screen.query_one("#help-text", Static).render()) == shown
    missing = readme_keys() - set(help_rows(shown))
    assert not missing, f"README's keys missing from the help screen: {sorted(missing)}"


async def test_status_bar_shows_tokens_context_and_cost_moving(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    price = ModelPrice(input=150.0, output=600.0, context_window=1000)
    app = make_app(tmp_path, openai_server.base_url, prices={"gpt-4o-mini": price})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: app.services.counter.ready, what="encodings")
        screen.composer.focus()
        await pilot.press(*"count these words please")
        draft = app.services.counter.count_draft("gpt-4o-mini", "count these words please")
        assert draft.tokens == 4 + 4  # four words, plus a message's overhead in the request
        await wait_for(
            pilot,
            lambda: screen.live_figures.figures.composer_tokens == 4,
            what="composer count (the text)",
        )
        assert not screen.live_figures.figures.counts_approximate
        assert screen.live_figures.figures.context_window == 1000
        before = screen.live_figures.figures.next_cost_usd
        assert before is not None and before > 0
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="reply")
        await wait_for(pilot, lambda: screen.live_figures.figures.spent.known_usd > 0, what="spend")
        reply = screen.conversation.messages[-1]
        assert reply.usage is not None and reply.cost_usd is not None
        expected = (reply.usage.prompt_tokens * 150 + reply.usage.completion_tokens * 600) / 1e6
        assert abs(reply.cost_usd - expected) < 1e-12
        assert screen.live_figures.figures.spent == Spend(reply.cost_usd, 0)
        # The conversation now fills part of the 1,000-token window, shown in the gauge.
        await wait_for(
            pilot, lambda: screen.live_figures.figures.prompt_tokens > 20, what="context"
        )
        status_text = "".join(s.text for s in screen.query_one("#status").render_line(0))
        assert "/1.0k" in status_text and "%" in status_text


async def test_context_too_long_offers_a_shorter_fork_and_keeps_the_original(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: app.services.counter.ready, what="encodings")
        for turn in range(3):
            await send(pilot, f"question {turn} " + "words " * 40)
            await wait_for(pilot, reply_finished(screen, 2 * turn + 2), what=f"reply {turn}")
        original_id = screen.conversation.id
        openai_server.enqueue(
            Script(
                status=400,
                error_code="context_length_exceeded",
                error_message="This model's maximum context length is 200 tokens. However, your "
                "messages resulted in 290 tokens. Please reduce the length of the messages.",
            )
        )
        await send(pilot, "one more")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the offer")
        failed = screen.conversation.messages[-1]
        assert failed.finish_reason == "error" and "90" in (failed.error or "")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                screen.conversation.id != original_id
                and not screen.streaming
                and screen.conversation.messages[-1].finish_reason == "stop"
            ),
            what="the fork's reply",
        )
        fork = screen.conversation
        assert fork.messages[-2].content == "one more"
        assert len(fork.messages) < 8
        original = conversation_files(tmp_path)[original_id]
        assert len(original["messages"]) == 8  # 3 turns, the prompt and the error: all kept


async def test_keys_from_config_remap_bindings(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    app.services.config.keys["toggle_sidebar"] = "f9"
    app.set_keymap(app.services.config.keys)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press("f9")
        await wait_for(pilot, lambda: not screen.query_one(Sidebar).display, what="f9")


async def test_notifications_are_inert_text_not_markup_or_escapes(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify(
            "bad key [profiles.x] \x1b]0;pwned\x07 [bold]not bold[/bold]",
            title="\x1b[2J",
            timeout=60,
        )

        def ours() -> list[Notification]:  # start-up may have said something of its own
            return [note for note in notifications(app) if "bad key" in note.message]

        await wait_for(pilot, lambda: bool(ours()), what="the notification")
        (note,) = ours()
        assert "\x1b" not in note.message and "\x1b" not in note.title
        assert "[profiles.x]" in note.message and "[bold]" in note.message
        assert note.markup is False


async def test_status_says_thinking_while_a_reasoning_model_has_no_text_yet(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(
        Script(
            text="The answer.", reasoning="Let me think " * 20, chunk_chars=4, stall_after_chunks=0
        )  # think, then stall before any text
    )
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "hard question")
        await wait_for(
            pilot, lambda: screen.live_figures.figures.waiting_note == "thinking", what="thinking"
        )
        assert screen.conversation.messages[-1].content == ""
        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen), what="stopped")


async def test_a_slow_list_read_overtaken_by_a_newer_one_does_not_replace_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Found by the random-keys run: a list read that a newer one replaced (each send reloads
    the list twice) must not show its older list when it finally finishes."""
    plant(tmp_path, "first question", "You said: first question")
    app = make_app(tmp_path, openai_server.base_url)
    store = app.services.store
    read = store.list_entries
    reads = 0
    release = threading.Event()

    def slow_first_read(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        entries = read(*args, **kwargs)
        if reads == 1:
            release.wait(30)  # a busy machine: this older read finishes last
        return entries

    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        store.list_entries = slow_first_read  # type: ignore[method-assign]
        screen.reload_list()
        await wait_for(pilot, lambda: reads == 1, what="the first read")
        plant(tmp_path, "second question", "You said: second question")
        screen.reload_list()
        await wait_for(pilot, lambda: screen.sidebar.option_list.option_count == 2, what="2")
        release.set()
        await wait_until_idle(pilot)
        assert screen.sidebar.option_list.option_count == 2

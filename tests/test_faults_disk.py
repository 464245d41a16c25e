"""Fault injection, the disk: a read-only folder, a file deleted or changed by another program while
it is open, two tui-chat processes sending in one conversation. Nothing may be silently
overwritten, and every risk of loss is said to the user."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from app_harness import build_app, data_paths, notifications, plant, wait_for
from app_harness import chat as chat_screen
from app_harness import reply_finished as reply_done
from disk_faults import read_only
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, session_env, wait_until

from tui_chat.domain.conversation import Message
from tui_chat.flow.saving import BackgroundSaver
from tui_chat.storage.store import ConversationStore


def contents(path: Path) -> list[str]:
    return [m["content"] for m in tomllib.loads(path.read_text(encoding="utf-8"))["messages"]]


def notes(app: Any) -> str:
    return "\n".join(str(n.message) for n in notifications(app))


async def send(pilot: Any, text: str, count: int) -> None:
    screen = chat_screen(pilot.app)
    screen.composer.focus()
    screen.composer.set_text(text)
    await pilot.press("enter")
    await wait_for(pilot, reply_done(screen, count), what=f"the reply to {text!r}")


async def test_read_only_folder_says_so_keeps_the_text_and_saves_once_writable(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    planted = plant(tmp_path, "old question", "old answer")
    path = data_paths(tmp_path).conversations_dir / f"{planted.id}.toml"
    before = path.read_bytes()
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        await wait_for(pilot, lambda: screen.conversation.id == planted.id, what="the old one")
        with read_only(path.parent):
            await send(pilot, "written while read-only", 4)
            await wait_for(pilot, lambda: "Could not save" in notes(app), what="the warning")
            assert "nothing was lost" in notes(app)
            assert path.read_bytes() == before
            # Everything is still in the app, and on screen.
            assert [m.content for m in screen.conversation.messages][2:] == [
                "written while read-only",
                "You said: written while read-only",
            ]
        await send(pilot, "writable again", 6)
        await wait_for(pilot, lambda: len(contents(path)) == 6, what="the save")
    assert contents(path) == [
        "old question",
        "old answer",
        "written while read-only",
        "You said: written while read-only",
        "writable again",
        "You said: writable again",
    ]


async def test_file_deleted_while_open_is_written_again_and_the_user_told(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    planted = plant(tmp_path, "keep this question", "keep this answer")
    path = data_paths(tmp_path).conversations_dir / f"{planted.id}.toml"
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        await wait_for(pilot, lambda: screen.conversation.id == planted.id, what="the old one")
        path.unlink()  # `rm` in another terminal
        await wait_for(
            pilot, lambda: screen.sidebar.option_list.option_count == 0, what="the list to update"
        )
        assert [m.content for m in screen.conversation.messages] == [
            "keep this question",
            "keep this answer",
        ]
        await send(pilot, "still here?", 4)
        await wait_for(pilot, lambda: "removed elsewhere" in notes(app), what="the notice")
    assert contents(path) == [
        "keep this question",
        "keep this answer",
        "still here?",
        "You said: still here?",
    ]


async def test_file_changed_by_another_program_is_picked_up_and_both_sides_kept(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    planted = plant(tmp_path, "question one", "answer one")
    path = data_paths(tmp_path).conversations_dir / f"{planted.id}.toml"
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        await wait_for(pilot, lambda: screen.conversation.id == planted.id, what="the old one")
        # Another tui-chat (another store on the same folder) appends two messages.
        other = ConversationStore(data_paths(tmp_path))
        theirs = other.load(planted.id)
        theirs.add(Message(role="user", content="asked on the laptop"))
        theirs.add(
            Message(role="assistant", content="answered on the laptop", finish_reason="stop")
        )
        # Later than what the app read (timestamps are whole seconds; see the test below).
        theirs.updated = planted.updated + timedelta(seconds=5)
        other.save(theirs)
        await wait_for(
            pilot,
            lambda: len(screen.conversation.messages) == 4,
            what="the app's 2 s poll to pick up the change",
        )
        assert any("answered on the laptop" in line for line in screen.pane.visible_text())
        await send(pilot, "asked here", 6)
        # A hand edit of the title in an editor, then a rename here before the poll saw it:
        # both cannot win, so ours goes to a conflict copy and the user is told.
        text = path.read_text(encoding="utf-8")
        edited = re.sub(r"(?m)^title = .*$", 'title = "Edited"', text)
        assert edited != text
        path.write_text(edited, encoding="utf-8")
        screen.conversation.title = "Renamed here"
        screen.save(screen.conversation)
        await wait_for(pilot, lambda: "conflict copy" in notes(app), what="the conflict notice")
    files = sorted(data_paths(tmp_path).conversations_dir.glob("*.toml"))
    assert len(files) == 2
    by_title = {tomllib.loads(f.read_text(encoding="utf-8"))["title"]: f for f in files}
    assert set(by_title) == {"Edited", "Renamed here (conflict copy)"}
    everything = [
        "question one",
        "answer one",
        "asked on the laptop",
        "answered on the laptop",
        "asked here",
        "You said: asked here",
    ]
    assert contents(by_title["Edited"]) == everything
    assert contents(by_title["Renamed here (conflict copy)"]) == everything


@pytest.mark.slow
def test_two_tui_chat_processes_sending_in_one_conversation_lose_nothing(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    plant(tmp_path, "shared question", "shared answer")
    # Distinct replies (the default one echoes the last prompt, which after a merge may be the
    # other window's, and identical messages of one second are one message to the merge).
    openai_server.enqueue(Script(text="first reply"), Script(text="second reply"))
    env = session_env(tmp_path, openai_server)
    first, second = TerminalSession(env), TerminalSession(env)
    folder = data_paths(tmp_path).conversations_dir

    def saved_texts() -> list[str]:
        return [text for f in folder.glob("*.toml") for text in contents(f)]

    try:
        for session in (first, second):
            session.wait_for_text("shared question")  # both opened the same conversation
        first.type("from window one\r")
        second.type("from window two\r")
        wait_until(
            lambda: {"first reply", "second reply"} <= set(saved_texts()), first, "both replies"
        )
        for session in (first, second):
            session.type("\x11")
            assert session.wait_exit() == 0
    finally:
        first.close()
        second.close()
    every_message = saved_texts()
    for text in ("shared question", "shared answer", "from window one", "from window two"):
        assert text in every_message
    if len(list(folder.glob("*.toml"))) > 1:  # a conflict copy: the windows must have said so
        # Read what each window ever drew (the notice may have timed out before the end, and
        # the sessions are closed: their screens cannot be read any more).
        drawn = (first.raw + second.raw).decode("utf-8", "replace")
        assert "conflict" in drawn


async def test_a_reply_appended_while_a_merging_save_runs_is_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app saves in a thread while the UI appends the reply it starts streaming. When that
    save merges with another window's change, the reply appended meanwhile must survive, and
    the store changes only its own copy: the merge reaches the live conversation on its own
    thread."""
    from tui_chat.storage import store as store_module

    planted = plant(tmp_path, "shared question", "shared answer")
    here = ConversationStore(data_paths(tmp_path))
    mine = here.load(planted.id)
    other = ConversationStore(data_paths(tmp_path))
    theirs = other.load(planted.id)
    theirs.add(Message(role="user", content="from window two"))
    other.save(theirs)

    mine.add(Message(role="user", content="from window one"))
    reply = Message(role="assistant", content="")
    real_merge = store_module.merge_conversations

    def merge_while_the_ui_appends(*args: Any) -> Any:
        result = real_merge(*args)
        mine.messages.append(reply)  # the UI starts the reply during the save
        return result

    monkeypatch.setattr(store_module, "merge_conversations", merge_while_the_ui_appends)
    report = await BackgroundSaver(here).save(mine)
    assert report.outcome is not None and report.outcome.kind == "merged"
    assert [m.content for m in mine.messages] == [
        "shared question",
        "shared answer",
        "from window one",
        "from window two",
        "",
    ]
    assert mine.messages[-1] is reply  # the streaming reply is still the conversation's


async def test_hand_edit_that_keeps_updated_is_picked_up_by_the_poll(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    planted = plant(tmp_path, "question with a tpyo", "an answer")
    path = data_paths(tmp_path).conversations_dir / f"{planted.id}.toml"
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        await wait_for(pilot, lambda: screen.conversation.id == planted.id, what="the old one")
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("tpyo", "typo"), encoding="utf-8")  # fixed in an editor
        await wait_for(
            pilot,
            lambda: screen.conversation.messages[0].content == "question with a typo",
            timeout=4.5,
            what="the edit to show (the poll runs every 2 s)",
        )


def test_store_tells_a_file_changed_elsewhere_by_content_not_by_time(tmp_path: Path) -> None:
    planted = plant(tmp_path, "question with a tpyo", "an answer")
    store = ConversationStore(data_paths(tmp_path))
    assert store.changed_elsewhere(planted.id) is False  # never read by this store
    store.load(planted.id)
    assert store.changed_elsewhere(planted.id) is False
    path = data_paths(tmp_path).conversations_dir / f"{planted.id}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("tpyo", "typo"), encoding="utf-8")
    assert store.changed_elsewhere(planted.id) is True
    reloaded = store.load(planted.id)
    assert store.changed_elsewhere(planted.id) is False
    reloaded.add(Message(role="user", content="more"))
    store.save(reloaded)
    assert store.changed_elsewhere(planted.id) is False  # our own save is not "elsewhere"
    path.unlink()
    assert store.changed_elsewhere(planted.id) is False

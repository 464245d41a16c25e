"""Unsent drafts: what the user typed and did not send survives a switch, a quit and a second
window, on disk and through the real app."""

from __future__ import annotations

import errno
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from app_harness import (
    chat,
    conversation_files,
    make_app,
    notifications,
    plant,
    reply_finished,
    send,
    wait_for,
    wait_until_idle,
)
from fresh_python import REPOSITORY
from openai_server import FakeOpenAIServer, Script
from textual.pilot import Pilot

from tui_chat.storage.drafts import DraftStore
from tui_chat.storage.errors import StorageError
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.widgets.sidebar import Sidebar


def drafts_folder(tmp_path: Path) -> Path:
    return tmp_path / "data" / "drafts"


def draft_texts(tmp_path: Path) -> dict[str, str]:
    """Every draft file on disk, by file name."""
    folder = drafts_folder(tmp_path)
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


# ------------------------------------------------------------------ the store


def test_a_draft_round_trips_exactly_in_a_private_file(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    text = "line one\r\nline two\n\ttabbed ü 中文 🎉\n"
    store.save("conv-1", text)
    path = tmp_path / "drafts" / "conv-1.txt"
    assert DraftStore(tmp_path / "drafts").load("conv-1") == text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    store.save("conv-1", "   \n")  # nothing but blanks: nothing worth keeping
    assert not path.exists()


def test_two_windows_typing_drafts_of_one_conversation_keep_both_texts(tmp_path: Path) -> None:
    folder = tmp_path / "drafts"
    first, second = DraftStore(folder, window="aaaaaa"), DraftStore(folder, window="bbbbbb")
    assert first.load("conv") == "" and second.load("conv") == ""
    first.save("conv", "the first window's question")
    second.save("conv", "the second window's question")
    first.save("conv", "the first window's question, longer")  # neither replaces the other
    later = DraftStore(folder).load("conv")
    assert later == "the first window's question, longer\n\nthe second window's question"


def test_a_draft_changed_by_another_window_is_not_removed_when_this_one_sends(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "drafts"
    mine, other = DraftStore(folder), DraftStore(folder)
    mine.save("conv", "my draft")
    other.load("conv")
    other.save("conv", "my draft, continued in the other window")
    mine.save("conv", "")  # this window sent its message
    assert DraftStore(folder).load("conv") == "my draft, continued in the other window"


def test_loading_absorbs_another_windows_draft_and_saving_tidies_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "drafts"
    first, second = DraftStore(folder, window="aaaaaa"), DraftStore(folder, window="bbbbbb")
    first.save("conv", "one")
    second.save("conv", "two")  # the file holds a text it never read: it writes its own
    assert sorted(p.name for p in folder.glob("*.txt")) == ["conv.txt", "conv~bbbbbb.txt"]
    third = DraftStore(folder)
    merged = third.load("conv")
    assert merged == "one\n\ntwo"
    third.save("conv", merged + " and three")
    assert sorted(p.name for p in folder.glob("*.txt")) == ["conv.txt"]
    assert DraftStore(folder).load("conv") == "one\n\ntwo and three"


def test_a_window_writing_again_after_its_text_was_taken_in_is_not_doubled(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "drafts"
    first, second = DraftStore(folder, window="aaaaaa"), DraftStore(folder, window="bbbbbb")
    first.save("conv", "hello")
    second.save("conv", "world")  # forked: conv~bbbbbb.txt
    merged = first.load("conv")
    first.save("conv", merged)  # takes the other window's text in and tidies its file
    second.save("conv", "world")  # the other window, still open, writes its text again
    assert first.load("conv") == "hello\n\nworld"


def test_a_draft_the_disk_refused_is_still_given_back(tmp_path: Path) -> None:
    folder = tmp_path / "drafts"
    folder.write_text("a file where the folder should be", encoding="utf-8")
    store = DraftStore(folder)
    store.stage("conv", "words the disk would not take")
    try:
        store.flush()
    except StorageError as error:
        assert "Could not save the draft" in str(error)
    else:
        raise AssertionError("the flush should have failed")
    assert store.load("conv") == "words the disk would not take"


def test_flush_writes_the_latest_staged_text(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    store.stage("conv", "first")
    store.stage("conv", "first and second")
    store.flush()
    assert DraftStore(tmp_path / "drafts").load("conv") == "first and second"


def test_unsaved_drafts_are_those_whose_conversation_has_no_file(tmp_path: Path) -> None:
    conversations, trash = tmp_path / "conversations", tmp_path / "trash"
    conversations.mkdir()
    trash.mkdir()
    (conversations / "saved.toml").write_text("schema = 1\n", encoding="utf-8")
    (trash / "trashed.toml").write_text("schema = 1\n", encoding="utf-8")
    store = DraftStore(tmp_path / "drafts")
    for conversation_id in ("saved", "trashed", "never-sent"):
        store.save(conversation_id, f"draft of {conversation_id}")
    unsaved = store.unsaved(conversations, trash)
    assert [(d.conversation_id, d.text) for d in unsaved] == [("never-sent", "draft of never-sent")]


def test_an_open_windows_unsaved_draft_is_offered_to_no_other_until_it_is_killed(
    tmp_path: Path,
) -> None:
    conversations, trash = tmp_path / "conversations", tmp_path / "trash"
    folder = tmp_path / "drafts"
    code = (
        "import sys, time; from pathlib import Path;"
        "from tui_chat.storage.drafts import DraftStore;"
        f"DraftStore(Path({str(folder)!r})).save('typed-there', 'the other window');"
        "print('written', flush=True); time.sleep(120)"
    )
    window = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPOSITORY
    )
    try:
        assert window.stdout is not None and window.stdout.readline() == "written\n"
        here = DraftStore(folder)
        here.save("typed-here", "this window")
        assert [d.conversation_id for d in here.unsaved(conversations, trash)] == ["typed-here"]
    finally:
        window.kill()  # as kill -9 or a lost terminal ends it: no chance to let go
        window.wait(timeout=30)
    offered = {d.conversation_id for d in here.unsaved(conversations, trash)}
    assert offered == {"typed-here", "typed-there"}
    assert [p.name for p in folder.glob(".window-*")] == [f".window-{here.window}"]
    here.close()
    assert DraftStore(folder).load("typed-here") == "this window"  # closing keeps the words


def test_a_draft_is_still_written_where_the_file_system_refuses_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui_chat.storage.drafts as drafts

    def refuse(descriptor: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")  # as some network mounts answer

    monkeypatch.setattr(drafts.fcntl, "flock", refuse)
    store = DraftStore(tmp_path / "drafts")
    store.save("conv", "words on a network mount")
    assert DraftStore(tmp_path / "drafts").load("conv") == "words on a network mount"


# ------------------------------------------------------------------ the app


async def exchange(pilot: Pilot[None], text: str, messages: int = 2) -> None:
    """Send `text` and wait until its reply has ended (`messages` in the conversation then)."""
    await send(pilot, text)
    screen = chat(pilot.app)  # type: ignore[arg-type]
    await wait_for(pilot, reply_finished(screen, messages), what=f"the reply to {text!r}")


async def saved_conversation_with_draft(
    tmp_path: Path, server: FakeOpenAIServer, draft: str
) -> str:
    """Run the app: send one message, type `draft` without sending it, quit with ctrl+q.
    Returns the conversation's id."""
    server.enqueue(Script(text="An answer."))
    app = make_app(tmp_path, server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await exchange(pilot, "a question")
        screen.composer.focus()
        await pilot.press(*draft)
        conversation_id = screen.conversation.id
        await pilot.press("ctrl+q")  # at once: no pause in typing has written it yet
    return conversation_id


async def test_a_draft_typed_before_ctrl_q_is_back_in_the_composer_at_the_next_start(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    conversation_id = await saved_conversation_with_draft(tmp_path, openai_server, "half a thought")
    assert draft_texts(tmp_path) == {f"{conversation_id}.txt": "half a thought"}
    again = make_app(tmp_path, openai_server.base_url)
    async with again.run_test(size=(100, 30)) as pilot:
        screen = chat(again)
        await wait_for(
            pilot,
            lambda: screen.conversation.id == conversation_id and screen.composer.text != "",
            what="the conversation and its draft",
        )
        assert screen.composer.text == "half a thought"


async def test_each_conversation_keeps_its_own_draft_and_sending_removes_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="First answer."))
    openai_server.enqueue(Script(text="Second answer."))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await exchange(pilot, "first conversation")
        first_id = screen.conversation.id
        await pilot.press(*"draft for the first")
        await pilot.press("ctrl+n")
        assert screen.composer.text == ""  # a new conversation starts blank
        await exchange(pilot, "second conversation")
        await pilot.press(*"draft for the second")

        listed = screen.query_one(Sidebar).option_list
        await wait_for(pilot, lambda: listed.option_count == 2, what="both in the list")
        listed.focus()
        listed.highlighted = next(
            i for i in range(2) if listed.get_option_at_index(i).id == first_id
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.conversation.id == first_id, what="the first open")
        assert screen.composer.text == "draft for the first"

        await exchange(pilot, screen.composer.text, 4)  # sent: it is no draft any more
        await wait_for(
            pilot,
            lambda: list(draft_texts(tmp_path).values()) == ["draft for the second"],
            what="only the second conversation's draft on disk",
        )
    saved = conversation_files(tmp_path)[first_id]
    assert saved["messages"][2]["content"] == "draft for the first"


async def test_a_new_conversation_left_unsent_comes_back_with_ctrl_n(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="An answer."))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await exchange(pilot, "a saved conversation")
        saved_id = screen.conversation.id
        await pilot.press("ctrl+n", *"an idea I have not sent")
        unsent_id = screen.conversation.id

        screen.open_conversation(saved_id)  # the user opens the saved one from the list
        await wait_for(pilot, lambda: screen.conversation.id == saved_id, what="the open")
        assert screen.composer.text == ""

        await pilot.press("ctrl+n")  # the unsent one comes back first...
        assert screen.conversation.id == unsent_id
        assert screen.composer.text == "an idea I have not sent"
        await pilot.press("ctrl+n")  # ...and ctrl+n again gives a blank conversation
        assert screen.conversation.id not in (saved_id, unsent_id)
        assert screen.composer.text == ""
    assert list(draft_texts(tmp_path).values()) == ["an idea I have not sent"]


class SlowDisk(DraftStore):
    """A draft store whose writes wait until the test lets them through, as on a slow disk."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.writes_may_go = threading.Event()

    def save(self, conversation_id: str, text: str) -> None:
        self.writes_may_go.wait(30)
        super().save(conversation_id, text)


async def test_ctrl_n_brings_back_an_unsent_draft_whose_file_is_still_being_written(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="An answer."))
    app = make_app(tmp_path, openai_server.base_url)
    disk = SlowDisk(app.services.paths.drafts_dir)
    app.services.drafts = disk
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        disk.writes_may_go.set()
        await exchange(pilot, "a saved conversation")
        saved_id = screen.conversation.id
        disk.writes_may_go.clear()  # from here on, no draft reaches the disk
        await pilot.press("ctrl+n", *"an idea I have not sent")
        unsent_id = screen.conversation.id
        screen.open_conversation(saved_id)
        await wait_for(pilot, lambda: screen.conversation.id == saved_id, what="the open")

        await pilot.press("ctrl+n")  # the leaving draft's file is not written yet
        assert screen.conversation.id == unsent_id
        assert screen.composer.text == "an idea I have not sent"
        disk.writes_may_go.set()  # the disk comes back: the staged text reaches its file
        await wait_for(
            pilot,
            lambda: list(draft_texts(tmp_path).values()) == ["an idea I have not sent"],
            what="the draft written once the disk lets it",
        )


async def test_an_unsent_new_conversation_is_where_the_next_start_opens(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    await saved_conversation_with_draft(tmp_path, openai_server, "")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press("ctrl+n", *"typed just before the connection dropped")
        await pilot.press("ctrl+q")
    again = make_app(tmp_path, openai_server.base_url)
    async with again.run_test(size=(100, 30)) as pilot:
        screen = chat(again)
        await wait_until_idle(pilot)  # the start-up open and list check are done
        assert screen.composer.text == "typed just before the connection dropped"
        assert screen.conversation.messages == []


async def test_a_disk_that_refuses_drafts_is_said_once_and_the_text_stays(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    drafts = drafts_folder(tmp_path)
    drafts.parent.mkdir(parents=True)
    drafts.write_text("a file where the folder should be", encoding="utf-8")
    app: TuiChatApp = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press(*"words to keep")
        await wait_for(
            pilot,
            lambda: any("draft" in n.message for n in notifications(app)),
            what="the warning",
        )
        flushes = 0
        flush = app.services.drafts.flush

        def counted_flush() -> None:
            nonlocal flushes
            flushes += 1
            flush()

        app.services.drafts.flush = counted_flush  # type: ignore[method-assign]
        await pilot.press(*" and more")
        # The pause in typing after " and more" tries the disk again, and it refuses again.
        await wait_for(pilot, lambda: flushes >= 1, what="the next draft write")
        await wait_until_idle(pilot)
        said = [n.message for n in notifications(app) if "draft" in n.message]
        assert len(said) == 1 and "Could not save the draft" in said[0]
        assert screen.composer.text == "words to keep and more"
        typed_in = screen.conversation.id
        await pilot.press("ctrl+n")  # away from them: the disk refuses them again...
        await pilot.pause()
        assert screen.composer.text == ""
        back = screen.blank_conversation()
        back.id = typed_in
        screen._show_conversation(back)  # ...yet back where they were typed, they are there
        assert screen.composer.text == "words to keep and more"


async def test_a_second_window_leaves_the_first_windows_unsent_conversation_alone(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    saved = plant(tmp_path, "an old question", "an old answer")
    first = make_app(tmp_path, openai_server.base_url)
    async with first.run_test(size=(100, 30)) as first_pilot:
        first_screen = chat(first)
        await wait_until_idle(first_pilot)
        await first_pilot.press("ctrl+n", *"the first window's idea")
        unsent_id = first_screen.conversation.id
        await wait_for(
            first_pilot,
            lambda: "the first window's idea" in draft_texts(tmp_path).values(),
            what="the first window's draft on disk",
        )

        second = make_app(tmp_path, openai_server.base_url)
        async with second.run_test(size=(100, 30)) as second_pilot:
            second_screen = chat(second)
            await wait_until_idle(second_pilot)  # at start: the other window's work stays there
            assert second_screen.conversation.id == saved.id
            assert second_screen.composer.text == ""
            await second_pilot.press("ctrl+n")  # from a saved one: no unsent one is this window's
            assert second_screen.conversation.id != unsent_id
            assert second_screen.composer.text == ""
            await second_pilot.press("ctrl+q")

        assert first_screen.conversation.id == unsent_id
        assert first_screen.composer.text == "the first window's idea"
        await first_pilot.press("ctrl+q")

    again = make_app(tmp_path, openai_server.base_url)  # the first window gone: its work is back
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until_idle(pilot)
        assert chat(again).conversation.id == unsent_id
        assert chat(again).composer.text == "the first window's idea"

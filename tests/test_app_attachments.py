"""Files in the app, at 80x24: `@` lists files as you type, Tab/Enter attach, the strip above
the composer shows and removes them, and a sent message carries them and shows one line each."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
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
    terminal_writes,
    visible_text,
    wait_for,
    wait_until_idle,
)
from image_files import padded, png
from openai_server import FakeOpenAIServer
from textual.pilot import Pilot

from tui_chat.config import ModelPrice
from tui_chat.ui.app import TuiChatApp

SIZE = (80, 24)
NOTES = "The build fails on step 3.\nSee the log.\n"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder tui-chat is started in, with a few files to attach."""
    folder = tmp_path / "work"
    (folder / "docs").mkdir(parents=True)
    (folder / "notes.txt").write_text(NOTES, encoding="utf-8")
    (folder / "notebook.md").write_text("# Ideas\n", encoding="utf-8")
    (folder / "docs" / "readme.md").write_text("Read me first.\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


def menu_entries(app: TuiChatApp) -> list[str]:
    menu = chat(app).path_menu
    return list(menu.entries) if menu.is_open else []


def attached_names(app: TuiChatApp) -> list[str]:
    return [w.attachment.name for w in chat(app).files.waiting]


async def send_and_wait(pilot: Pilot[None], text: str) -> None:
    """Send `text` as typed in the composer and wait for the reply to end."""
    assert isinstance(pilot.app, TuiChatApp)
    await send(pilot, text)
    await wait_for(pilot, reply_finished(chat(pilot.app)), what="the reply")


async def send_the_draft_after_a_restart(
    tmp_path: Path, server: FakeOpenAIServer, draft: str
) -> None:
    """Start the app again: the composer holds `draft`; Enter sends it with the notes."""
    again = make_app(tmp_path, server.base_url)
    async with again.run_test(size=SIZE) as pilot:
        screen = chat(again)
        await wait_for(pilot, lambda: screen.composer.text == draft, what="the draft back")
        await wait_until_idle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert [a.text for a in screen.conversation.messages[0].attachments] == [NOTES]


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[" " if c == " " else c for c in text])


async def pick(pilot: Pilot[None], typed: str, name: str) -> None:
    """Type `typed` (ending in `@` and the start of a name), then take `name`, the one file
    listed, with Tab; wait until it is attached."""
    assert isinstance(pilot.app, TuiChatApp)
    app = pilot.app
    await type_text(pilot, typed)
    await wait_for(pilot, lambda: menu_entries(app) == [name], what=f"{name} listed")
    await pilot.press("tab")
    await wait_for(pilot, lambda: name in attached_names(app), what=f"{name} attached")


async def test_at_lists_files_as_you_type_and_tab_attaches_keeping_the_words(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await type_text(pilot, "look at @no")
        await wait_for(
            pilot,
            lambda: menu_entries(app) == ["notebook.md", "notes.txt"],
            what="the files starting with no",
        )
        await type_text(pilot, "tes")
        await wait_for(pilot, lambda: menu_entries(app) == ["notes.txt"], what="filtered")
        await pilot.press("tab")
        await wait_for(pilot, lambda: attached_names(app) == ["notes.txt"], what="attached")
        assert screen.composer.text == "look at @notes.txt "
        assert not screen.path_menu.is_open
        strip = screen.attachment_strip
        assert strip.display
        shown = str(strip.get_option_at_index(0).prompt)
        assert shown.startswith(f"📎 notes.txt · {len(NOTES.encode())} B · ")
        assert "token" in shown
        # The status bar's draft figure counts the file with the words.
        await wait_for(
            pilot,
            lambda: screen.status_bar.figures.composer_tokens > 20,
            what="the file in ✎",
        )


async def test_a_folder_continues_into_it_and_enter_attaches_from_it(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await type_text(pilot, "@do")
        await wait_for(pilot, lambda: menu_entries(app) == ["docs/"], what="the folder")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: menu_entries(app) == ["docs/readme.md"], what="the folder's files"
        )
        assert screen.composer.text == "@docs/"
        await pilot.press("enter")  # takes the file: nothing is sent
        await wait_for(pilot, lambda: attached_names(app) == ["readme.md"], what="attached")
        assert screen.conversation.messages == []
        assert screen.composer.text == "@docs/readme.md "


async def test_esc_closes_the_list_keeping_the_text_and_enter_then_sends(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await type_text(pilot, "mail @nobody")
        await wait_for(pilot, lambda: screen.path_menu.is_open, what="the list")
        assert screen.path_menu.entries == []  # nothing matches: it says so
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.path_menu.is_open, what="closed")
        assert screen.composer.text == "mail @nobody"
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        # A @word that names no file stays text and attaches nothing.
        assert screen.conversation.messages[0].content == "mail @nobody"
        assert screen.conversation.messages[0].attachments == []


async def test_the_strip_takes_the_focus_and_its_key_removes_a_file(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        for name in ("notes.txt", "notebook.md"):
            await type_text(pilot, f"@{name[:6]}")
            await wait_for(pilot, lambda n=name: n in menu_entries(app), what=name)
            while screen.path_menu.chosen != name:
                await pilot.press("down")
            await pilot.press("tab")
            await wait_for(pilot, lambda n=name: n in attached_names(app), what=f"{name} in")
        assert attached_names(app) == ["notes.txt", "notebook.md"]
        await pilot.press("shift+tab")
        assert screen.focused is screen.attachment_strip
        await pilot.press("down", "delete")
        await wait_for(pilot, lambda: attached_names(app) == ["notes.txt"], what="one removed")
        assert any("Removed notebook.md" in n.message for n in notifications(app))
        await pilot.press("d")
        await wait_for(pilot, lambda: attached_names(app) == [], what="both removed")
        assert not screen.attachment_strip.display
        assert screen.focused is screen.composer
        # The words typed stay; the removed files' @paths in them do not bring them back.
        assert screen.composer.text == "@notes.txt @notebook.md "
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert screen.conversation.messages[0].attachments == []


def make_bad_file(folder: Path, kind: str) -> str:
    """A file (or a thing in its place) the app must refuse, and the @token that names it."""
    if kind == "binary":
        (folder / "blob.bin").write_bytes(b"\x00\x01\x02ELF" * 100)
        return "@blob.bin"
    if kind == "too large":
        (folder / "huge.log").write_text("x" * 2_000_001, encoding="utf-8")
        return "@huge.log"
    if kind == "image too large":
        (folder / "big.png").write_bytes(padded(png(4, 4), 20_000_001))
        return "@big.png"
    if kind == "fifo":
        os.mkfifo(folder / "pipe")
        return "@pipe"
    if kind == "device":
        return "@/dev/zero"
    if kind == "symlink loop":
        (folder / "loop-a").symlink_to(folder / "loop-b")
        (folder / "loop-b").symlink_to(folder / "loop-a")
        return "@loop-a"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("binary", "blob.bin"),
        ("too large", "huge.log"),
        ("image too large", "big.png"),
        ("fifo", "named pipe"),
        ("device", "device"),
        ("symlink loop", "loops"),
    ],
)
async def test_a_file_named_on_send_that_cannot_be_attached_is_said_and_nothing_is_lost(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer, kind: str, words: str
) -> None:
    token = make_bad_file(work, kind)
    text = f"what is in {token} ?"
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        screen.composer.set_text(text)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(n.title == "Not attached" for n in notifications(app)),
            what="the refusal",
        )
        await wait_until_idle(pilot)
        said = next(n.message for n in notifications(app) if n.title == "Not attached")
        assert words in said
        assert "\n" not in said
        # Nothing was sent, and the words are all still there.
        assert screen.composer.text == text
        assert screen.conversation.messages == []
        assert openai_server.chat_requests == []


async def test_a_file_gone_between_listing_and_taking_it_is_said_and_the_text_stays(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await type_text(pilot, "see @notes")
        await wait_for(pilot, lambda: menu_entries(app) == ["notes.txt"], what="listed")
        (work / "notes.txt").unlink()
        await pilot.press("tab")
        await wait_for(
            pilot,
            lambda: any(n.title == "Not attached" for n in notifications(app)),
            what="the refusal",
        )
        said = next(n.message for n in notifications(app) if n.title == "Not attached")
        assert said == "There is no file notes.txt."
        assert attached_names(app) == []
        assert screen.composer.text == "see @notes.txt "


async def test_a_name_with_escape_sequences_and_a_newline_is_shown_inert(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    name = "evil\x1b]52;c;aGk=\x07\nname.txt"
    (work / name).write_text("harmless words\n", encoding="utf-8")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await type_text(pilot, "@evil")
        await wait_for(pilot, lambda: menu_entries(app) == [name], what="listed")
        listed = str(screen.path_menu.get_option_at_index(0).prompt)
        await pilot.press("tab")
        await wait_for(pilot, lambda: len(attached_names(app)) == 1, what="attached")
        strip_line = str(screen.attachment_strip.get_option_at_index(0).prompt)
        for shown in (listed, strip_line):
            assert "\x1b" not in shown and "\x07" not in shown and "\n" not in shown
            assert "␛]52;c;aGk=␇ name.txt" in shown
        on_screen = visible_text(app)
        assert "\x1b" not in on_screen
        assert "␛]52" in on_screen


def pane_text(app: TuiChatApp) -> str:
    return "\n".join(chat(app).pane.visible_text())


async def test_a_sent_message_shows_a_line_per_file_and_a_unfolds_the_text(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    (work / "shot.png").write_bytes(png(64, 48))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await send_and_wait(pilot, "compare @notes.txt with @shot.png")
        sent = screen.conversation.messages[0]
        assert [a.name for a in sent.attachments] == ["notes.txt", "shot.png"]
        assert screen.composer.text == ""
        assert not screen.attachment_strip.display  # sent: nothing waits any more
        await wait_for(pilot, lambda: "▸ 📎 notes.txt" in pane_text(app), what="the file line")
        await wait_for(pilot, lambda: " tokens" in pane_text(app), what="its count")
        text = pane_text(app)
        assert "📷 shot.png · 64×48 · " in text
        assert "The build fails on step 3." not in text
        screen.pane.focus()
        await pilot.press("home", "a")
        await wait_for(
            pilot, lambda: "The build fails on step 3." in pane_text(app), what="unfolded"
        )
        assert "▾ 📎 notes.txt" in pane_text(app)
        await pilot.press("a")
        await wait_for(
            pilot, lambda: "The build fails on step 3." not in pane_text(app), what="folded"
        )


async def test_sent_files_are_saved_text_inline_and_image_by_hash_without_base64(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    image = png(640, 480)
    (work / "shot.png").write_bytes(image)
    (work / "second.txt").write_text("Second file.\n", encoding="utf-8")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until_idle(pilot)
        await send_and_wait(pilot, "read @notes.txt and @second.txt, then look at @shot.png.")
        await wait_until_idle(pilot)
    (saved,) = conversation_files(tmp_path).values()
    files = saved["messages"][0]["attachments"]
    assert [f["name"] for f in files] == ["notes.txt", "second.txt", "shot.png"]
    assert files[0]["text"] == NOTES
    assert files[1]["text"] == "Second file.\n"
    digest = hashlib.sha256(image).hexdigest()
    assert files[2]["sha256"] == digest
    assert "text" not in files[2]
    stored = tmp_path / "data" / "attachments" / f"{digest}.png"
    assert stored.read_bytes() == image
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    raw = next((tmp_path / "data" / "conversations").glob("*.toml")).read_text()
    assert base64.b64encode(image[:30]).decode()[:20] not in raw


async def test_a_file_left_waiting_at_quit_is_named_by_the_draft_and_sent_after_a_restart(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until_idle(pilot)
        await pick(pilot, "why? @notes", "notes.txt")
        await pilot.press("ctrl+q")
    await send_the_draft_after_a_restart(tmp_path, openai_server, "why? @notes.txt ")


async def test_two_text_files_and_an_image_reach_the_server_as_content_parts(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    image = png(320, 200)
    (work / "shot.png").write_bytes(image)
    (work / "second.txt").write_text("Second file.\n", encoding="utf-8")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        # One picked from the @ list, the others named in the text.
        await pick(pilot, "@notes", "notes.txt")
        await type_text(pilot, "and @second.txt with @shot.png")
        # As a user reads the screen before Enter: the whole name typed, the list is gone.
        await wait_for(pilot, lambda: not screen.completion.waiting, what="typing settled")
        await wait_until_idle(pilot)
        assert not screen.path_menu.is_open
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
    (request,) = openai_server.chat_requests
    parts = [part for part in request.parts if part.role == "user"]
    texts = [part.text or "" for part in parts if part.type == "text"]
    assert any(NOTES in text and 'name="notes.txt"' in text for text in texts)
    assert any("Second file.\n" in text and 'name="second.txt"' in text for text in texts)
    assert any("@notes.txt and @second.txt with @shot.png" in text for text in texts)
    (picture,) = [part for part in parts if part.type == "image_url"]
    assert picture.problem is None
    assert picture.media_type == "image/png"
    assert picture.data == image


async def test_a_server_that_refuses_images_is_said_in_a_sentence_and_the_files_are_kept(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    (work / "shot.png").write_bytes(png(64, 64))
    openai_server.refuse_images = True
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        screen.composer.set_text("what is in @shot.png and @notes.txt?")
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the failed reply")
        prompt, reply = screen.conversation.messages
        assert reply.finish_reason == "error"
        assert reply.error is not None and "\n" not in reply.error
        assert [a.name for a in prompt.attachments] == ["shot.png", "notes.txt"]
        await wait_until_idle(pilot)
    # Saved with the prompt: nothing the user gave is lost, and ctrl+r can retry it.
    (saved,) = conversation_files(tmp_path).values()
    assert [f["name"] for f in saved["messages"][0]["attachments"]] == ["shot.png", "notes.txt"]


async def test_edit_and_resend_brings_the_files_back_and_sends_them_again(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await send_and_wait(pilot, "summarise @notes.txt")
        original = screen.conversation.id
        screen.pane.focus()
        await pilot.press("home", "e")
        await wait_for(pilot, lambda: attached_names(app) == ["notes.txt"], what="back")
        assert screen.composer.text == "summarise @notes.txt"
        (work / "notes.txt").write_text("Changed since.\n", encoding="utf-8")
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply in the fork")
        assert screen.conversation.id != original
        # What was shown is what is sent: the file as attached, not as it is on disk now.
        assert [a.text for a in screen.conversation.messages[0].attachments] == [NOTES]


async def test_files_alone_can_be_sent_without_words(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await pick(pilot, "@notes", "notes.txt")
        screen.composer.load_text("")  # the words deleted, the file still waiting
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert [a.name for a in screen.conversation.messages[0].attachments] == ["notes.txt"]
    (request,) = openai_server.chat_requests
    assert any(NOTES in (part.text or "") for part in request.parts)


async def test_a_waiting_file_the_words_no_longer_name_is_kept_in_the_draft_at_quit(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await pick(pilot, "@notes", "notes.txt")
        screen.composer.set_text("why does it fail?")  # the @notes.txt typed over
        await pilot.press("ctrl+q")
    kept = f"why does it fail? @{work / 'notes.txt'}"
    await send_the_draft_after_a_restart(tmp_path, openai_server, kept)


async def test_a_waiting_image_is_counted_again_for_the_model_chosen_with_ctrl_o(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    (work / "shot.png").write_bytes(png(1280, 720))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await pick(pilot, "@shot", "shot.png")

        def strip_line() -> str:
            return str(screen.attachment_strip.get_option_at_index(0).prompt)

        # OpenAI's tile rule: gpt-4o-mini bills an image ~33 times what gpt-4o does.
        assert strip_line().endswith("· 36,835 tokens")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: app.screen is not screen, what="the model dialog")
        await pilot.press(*"gpt-4o", "enter")
        await wait_for(pilot, lambda: screen.conversation.model == "gpt-4o", what="switched")
        await wait_for(pilot, lambda: strip_line().endswith("· 1,105 tokens"), what="recounted")


async def test_waiting_files_stay_with_the_conversation_they_were_attached_in(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    planted = plant(tmp_path, "An earlier question", "An earlier answer")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: screen.conversation.id == planted.id, what="opened")
        await wait_until_idle(pilot)
        screen.composer.focus()
        await pick(pilot, "@notes", "notes.txt")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: screen.conversation.id != planted.id, what="a new one")
        assert attached_names(app) == []
        assert not screen.attachment_strip.display
        screen.sidebar.option_list.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.conversation.id == planted.id, what="back")
        assert attached_names(app) == ["notes.txt"]
        assert screen.composer.text == "@notes.txt "


async def test_next_send_cost_counts_the_waiting_files_before_sending(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    (work / "big.txt").write_text("many words here " * 2000, encoding="utf-8")
    price = ModelPrice(input=150.0, output=600.0, context_window=128_000)
    app = make_app(tmp_path, openai_server.base_url, prices={"gpt-4o-mini": price})
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: app.services.counter.ready, what="encodings")
        await wait_until_idle(pilot)
        await type_text(pilot, "@big")
        await wait_for(pilot, lambda: menu_entries(app) == ["big.txt"], what="listed")
        figures = screen.status_bar.figures
        before = (figures.composer_tokens, figures.next_cost_usd or 0.0)
        await pilot.press("tab")
        await wait_for(pilot, lambda: attached_names(app) == ["big.txt"], what="attached")
        await wait_for(
            pilot,
            lambda: screen.status_bar.figures.composer_tokens > before[0] + 6000,
            what="the file's ~6,000 tokens in ✎",
        )
        after = screen.status_bar.figures.next_cost_usd
        assert after is not None and after > before[1] + 6000 * 150 / 1e6 * 0.9
        assert "next $0.9" in visible_text(app) or "next $1" in visible_text(app)


async def test_tab_then_enter_in_one_burst_sends_the_file_once_and_leaves_nothing_waiting(
    tmp_path: Path, work: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await wait_until_idle(pilot)
        await type_text(pilot, "read @notes")
        await wait_for(pilot, lambda: menu_entries(app) == ["notes.txt"], what="listed")
        terminal_writes(app, "\t\r")  # Tab and Enter in one read, as over a slow SSH link
        await wait_for(pilot, reply_finished(screen), what="the reply")
        await wait_until_idle(pilot)
        assert [a.name for a in screen.conversation.messages[0].attachments] == ["notes.txt"]
        # The file read for Tab came back after its message went: it waits for nothing.
        assert attached_names(app) == []
        assert not screen.attachment_strip.display

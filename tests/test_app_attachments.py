"""Files in the app, at 80x24: `@` lists files as you type, Tab/Enter attach, the strip above
the composer shows and removes them, and a sent message carries them and shows one line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import chat, make_app, notifications, reply_finished, wait_for, wait_until_idle
from openai_server import FakeOpenAIServer
from textual.pilot import Pilot

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


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[" " if c == " " else c for c in text])


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
        await pilot.press("d")
        await wait_for(pilot, lambda: attached_names(app) == [], what="both removed")
        assert not screen.attachment_strip.display
        assert screen.focused is screen.composer
        # The words typed stay; the removed files' @paths in them do not bring them back.
        assert screen.composer.text == "@notes.txt @notebook.md "
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert screen.conversation.messages[0].attachments == []
        assert any("Removed notebook.md" in n.message for n in notifications(app))

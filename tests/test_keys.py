"""Keys as terminals send them, in the order they come, and as the user remapped them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import textual
from app_harness import chat, help_text, make_app, reply_finished, terminal_writes, wait_for
from openai_server import FakeOpenAIServer
from packaging.specifiers import SpecifierSet

from tui_chat.config import load_config
from tui_chat.ui.actions import ACTION_IDS, ACTIONS
from tui_chat.ui.screens.dialogs import TextInputDialog
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.textual_compat import CHECKED_TEXTUAL_VERSIONS

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ alt+Enter


async def test_alt_enter_as_terminals_send_it_breaks_the_line_and_sends_nothing(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        terminal_writes(app, "first")
        terminal_writes(app, "\x1b\r")  # alt+Enter from xterm, tmux, screen
        terminal_writes(app, "second")
        await wait_for(pilot, lambda: screen.composer.text == "first\nsecond", what="newline")
        assert not screen.conversation.messages
        assert not openai_server.chat_requests


async def test_alt_enter_sends_when_enter_is_the_newline(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url, enter_sends=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        terminal_writes(app, "one\rtwo")
        await wait_for(pilot, lambda: screen.composer.text == "one\ntwo", what="newline")
        terminal_writes(app, "\x1b\r")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert screen.conversation.messages[0].content == "one\ntwo"


# ------------------------------------------------------------------ keys in one read


async def test_keys_that_arrive_in_one_read_edit_the_composer_in_order(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        composer = chat(app).composer
        for burst, expected in [
            ("abc", "abc"),
            ("\x7fzz", "abzz"),  # Backspace, z, z
            ("\x1b[DQQ", "abzQQz"),  # Left, Q, Q
            ("\x01WW", "WWabzQQz"),  # ctrl+a (start of line), W, W
        ]:
            terminal_writes(app, burst)
            await wait_for(pilot, lambda e=expected: composer.text == e, what=repr(expected))
        assert composer.text == "WWabzQQz"


async def test_ctrl_u_and_a_new_title_in_one_read_rename_the_conversation(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        terminal_writes(app, "name me\r")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        await app.run_action("rename_conversation", screen)
        await wait_for(pilot, lambda: isinstance(app.screen, TextInputDialog), what="dialog")
        terminal_writes(app, "\x15Renamed again\r")  # ctrl+u, the title, Enter
        await wait_for(
            pilot, lambda: screen.conversation.title == "Renamed again", what="the new title"
        )


def draft_texts(tmp_path: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in (tmp_path / "data" / "drafts").glob("*.txt")]


async def test_words_typed_just_before_ctrl_q_in_one_read_are_kept_as_a_draft(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: chat(app).composer.has_focus, what="the composer")
        terminal_writes(app, "words before quitting\x11")  # ... then ctrl+q
        await wait_for(pilot, lambda: bool(draft_texts(tmp_path)), what="the draft")
    assert draft_texts(tmp_path) == ["words before quitting"]


async def test_words_typed_just_before_ctrl_n_stay_with_the_conversation_they_were_typed_in(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        terminal_writes(app, "first question\r")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        asked = screen.conversation.id
        terminal_writes(app, "a follow-up\x0e")  # ... then ctrl+n
        await wait_for(pilot, lambda: screen.conversation.id != asked, what="a new conversation")
        await wait_for(pilot, lambda: draft_texts(tmp_path) == ["a follow-up"], what="the draft")
        assert screen.composer.text == ""


# ------------------------------------------------------------------ the registry


async def test_a_remapped_key_works_and_help_and_palette_show_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url, keys={"toggle_sidebar": "f9"})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press("ctrl+b")  # no longer the key
        await pilot.pause()
        assert screen.sidebar.display
        await pilot.press("f9")
        await wait_for(pilot, lambda: not screen.sidebar.display, what="sidebar hidden by f9")

        (toggle,) = [c for c in app.get_system_commands(screen) if c.title == "Toggle sidebar"]
        assert "(f9)" in toggle.help and "ctrl+b" not in toggle.help

        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        row = next(
            line for line in help_text(app.screen).splitlines() if "conversation list" in line
        )
        assert row.split()[0] == "f9", row
        assert "ctrl+b" not in help_text(app.screen)


async def test_the_composer_send_key_can_be_remapped(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url, keys={"composer.send": "ctrl+s"})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await pilot.press(*"hi", "enter", *"there")  # Enter is left to the text area: a newline
        assert screen.composer.text == "hi\nthere"
        assert not screen.conversation.messages
        await pilot.press("ctrl+s")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert screen.conversation.messages[0].content == "hi\nthere"
        assert "ctrl+s send" in str(screen.composer.placeholder)


def test_a_mistyped_action_id_in_keys_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'theme = "tui-chat-dark"\n\n[keys]\ntoggle_sidebar = "f9"\n"sidebar.delet" = "x"\n',
        encoding="utf-8",
    )
    config, problems = load_config(path, action_ids=ACTION_IDS)
    (problem,) = problems
    assert (problem.path, problem.line) == (path, 5)
    assert "'sidebar.delet'" in str(problem) and "'sidebar.delete'" in str(problem)
    assert str(problem).startswith(f"{path}:5")
    assert config.keys == {"toggle_sidebar": "f9"}


def test_every_action_id_is_unique_keyed_ones_can_be_remapped_and_words_fit_80_columns() -> None:
    ids = [action.id for action in ACTIONS]
    assert len(ids) == len(set(ids))
    assert {action.id for action in ACTIONS if action.keys} == ACTION_IDS
    too_long = [a.description for a in ACTIONS if a.keys and len(a.description) > 42]
    assert not too_long, "these would wrap on the keys screen at 80 columns"


# ------------------------------------------------------------------ the Textual we checked


def test_installed_textual_is_the_version_the_input_fixes_were_checked_against() -> None:
    """tui_chat/ui/textual_compat.py corrects Textual's input path; a new Textual may fix it
    itself or move the private pieces it uses. Fail loudly, so someone looks."""
    installed = textual.__version__
    assert installed in CHECKED_TEXTUAL_VERSIONS, (
        f"Textual {installed} is installed; textual_compat.py was checked against "
        f"{CHECKED_TEXTUAL_VERSIONS}: re-check it, then add the version there and in pyproject"
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (requirement,) = [d for d in project["project"]["dependencies"] if d.startswith("textual")]
    allowed = SpecifierSet(requirement.removeprefix("textual"))
    assert all(version in allowed for version in CHECKED_TEXTUAL_VERSIONS), requirement
    assert "8.3" not in allowed and "8.2.7" not in allowed, (
        f"pyproject allows Textual versions nobody checked: {requirement}"
    )

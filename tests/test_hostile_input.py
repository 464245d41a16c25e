"""Hostile and odd input: escape sequences from a model or a file, huge pastes and replies, wide and
right-to-left text, titles that look like paths.

Escape sequences are checked on the bytes that reach a real terminal (the installed `tui-chat`
under a pty); size and layout through the real app driven by Pilot.
"""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from app_harness import FAKE_API_KEY, build_app, wait_for
from app_harness import chat as chat_screen
from app_harness import reply_finished as reply_done
from openai_server import FakeOpenAIServer, Script
from rich.cells import cell_len
from terminal_session import TerminalSession, session_env, wait_until
from textual import events

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

# Each sequence carries a payload no terminal app would write by itself, so finding it in the
# output can only mean the model's bytes went through.
OSC52_CLIPBOARD = "\x1b]52;c;SE9TVElMRQ==\x07"  # sets the clipboard to "HOSTILE"
OSC0_TITLE = "\x1b]0;PWNED-TITLE\x07"
CSI_CLEAR_AND_MOVE = "\x1b[2J\x1b[31337;4242H"
C1_CSI_MOVE = "\u009b31337;4243H"  # the one-character CSI some terminals honour in UTF-8
OSC8_LINK = "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"
BIDI_OVERRIDE = "\u202egnp.exe\u202c"
HOSTILE = (
    f"start {OSC52_CLIPBOARD}{OSC0_TITLE}{CSI_CLEAR_AND_MOVE}{C1_CSI_MOVE}{OSC8_LINK} "
    f"{BIDI_OVERRIDE} nul\x00byte bell\x07 finish"
)
MUST_NOT_REACH_THE_TERMINAL = {
    "OSC 52 clipboard": b"\x1b]52;c;SE9TVElMRQ",
    "OSC 0 title": b"\x1b]0;PWNED",
    "CSI cursor move": b"\x1b[31337;4242H",
    "CSI in a file name": b"\x1b[31337;4241H",
    "C1 CSI": "\u009b31337".encode(),
    "OSC 8 link": b"\x1b]8;;http://evil",
    "bidi override": "\u202e".encode(),
    "NUL": b"\x00",
}


def plant_hostile_file_names(folder: Path) -> None:
    """File names are chosen by whoever put the file there (a sync, a git pull)."""
    (folder / f"broken{OSC0_TITLE}name.toml").write_text("not toml = =\n", encoding="utf-8")
    old = "2020-01-01T00:00:00Z"
    (folder / "named\x1b[31337;4241Hhere.toml").write_text(
        f'schema = 1\ntitle = "old one"\ncreated = {old}\nupdated = {old}\n', encoding="utf-8"
    )


def reply_saved(tmp_path: Path, prompt: str) -> bool:
    for path in (tmp_path / "data" / "conversations").glob("*.toml"):
        if path.name.startswith("broken"):
            continue
        messages = tomllib.loads(path.read_text(encoding="utf-8")).get("messages", [])
        if (
            messages
            and messages[0]["content"] == prompt
            and messages[-1].get("finish_reason") == "stop"
        ):
            return True
    return False


@pytest.mark.slow
def test_escape_sequences_from_a_model_and_a_file_never_reach_the_terminal(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    env = session_env(tmp_path, openai_server)
    # A conversation file someone else wrote (a sync, a git pull) with the same payload.
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    )
    planted = Conversation.new(profile="local", model="gpt-4o-mini")
    planted.title = f"planted {OSC0_TITLE}{CSI_CLEAR_AND_MOVE}"
    planted.add(Message(role="user", content=f"from a file {HOSTILE}"))
    planted.add(Message(role="assistant", content=HOSTILE, finish_reason="stop"))
    store.save(planted)
    plant_hostile_file_names(store.folder)

    # Split into 5-character deltas, so sequences also arrive cut in pieces.
    openai_server.enqueue(Script(text=HOSTILE, chunk_chars=5))
    session = TerminalSession(env)
    try:
        session.wait_for_text("from a file start")  # the planted file opened at start
        session.type("\x0e")  # ctrl+n: a new conversation (typing waits, as a user looks)
        wait_until(lambda: "from a file" not in session.text(), session, "the new conversation")
        session.type("say something nasty\r")
        wait_until(lambda: reply_saved(tmp_path, "say something nasty"), session, "the reply")
        wait_until(
            lambda: "say something nasty" in (shown := session.text()) and "finish" in shown,
            session,
            "the reply on screen",
        )
        screen = session.text()
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    raw = bytes(session.raw)
    leaked = [name for name, payload in MUST_NOT_REACH_THE_TERMINAL.items() if payload in raw]
    assert leaked == [], f"reached the terminal: {leaked}"
    assert "PWNED" not in (session.screen.title or "")
    assert "start" in screen and "finish" in screen, screen  # the text itself is still shown
    assert FAKE_API_KEY.encode() not in raw
    # The reply is stored exactly as the model sent it (the file is the record; only display
    # is neutralised), apart from NUL, which the file format writes as an escape.
    replies = [
        saved["messages"][-1]["content"]
        for saved in (
            tomllib.loads(p.read_text(encoding="utf-8"))
            for p in (tmp_path / "data" / "conversations").glob("*.toml")
            if not p.name.startswith("broken")
        )
        if saved.get("messages")
    ]
    assert replies == [HOSTILE, HOSTILE]


PASTE_LINE = "2026-11-25 05:50:36 INFO worker[42] processed request id=abcdef0123 in 12ms\n"


@pytest.mark.slow
async def test_a_5_mb_paste_goes_into_the_composer_and_is_sent_whole(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    pasted = PASTE_LINE * (5_000_000 // len(PASTE_LINE))
    openai_server.enqueue(Script(text="Thanks for the log."))
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.focus()
        app.post_message(events.Paste(pasted))  # as the terminal driver does
        await wait_for(
            pilot, lambda: len(screen.composer.text) == len(pasted), timeout=30, what="the paste"
        )
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), timeout=30, what="the reply")
        await pilot.press("a")  # still responsive to keys
        await wait_for(pilot, lambda: screen.composer.text == "a", what="a keystroke")
        assert screen.conversation.messages[0].content == pasted
        assert openai_server.chat_requests[0].json["messages"][-1]["content"] == pasted
    (path,) = (tmp_path / "data" / "conversations").glob("*.toml")
    saved = tomllib.loads(path.read_text(encoding="utf-8"))
    assert saved["messages"][0]["content"] == pasted


def assert_layout_intact(screen: Any, width: int) -> None:
    """Every visible line of the pane fits its width; composer and status bar still show."""
    pane_width = screen.pane.scrollable_content_region.width
    for line in screen.pane.visible_text():
        assert cell_len(line) <= pane_width, line
    assert screen.composer.region.height >= 1 and screen.composer.region.width > 0
    assert screen.query_one("#status").region.height >= 1
    assert screen.pane.region.right <= width


@pytest.mark.slow
async def test_a_100000_line_reply_streams_saves_and_scrolls(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    text = "\n".join(f"line {i}" for i in range(100_000))
    openai_server.enqueue(Script(text=text, chunk_chars=20_000))
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.set_text("count to a hundred thousand")
        screen.composer.focus()
        await pilot.press("enter")
        # 84 s on a loaded 2-core machine: the wait is for a hang, not a speed limit.
        await wait_for(pilot, reply_done(screen), timeout=600, what="the reply")
        assert screen.conversation.messages[1].content == text
        await wait_for(
            pilot,
            lambda: any("line 99999" in line for line in screen.pane.visible_text()),
            what="the end of the reply on screen",
        )
        assert_layout_intact(screen, 100)
        screen.pane.focus()
        await pilot.press("home")
        await wait_for(
            pilot,
            lambda: any("count to a hundred" in line for line in screen.pane.visible_text()),
            what="the top of the conversation",
        )
    (path,) = (tmp_path / "data" / "conversations").glob("*.toml")
    assert tomllib.loads(path.read_text(encoding="utf-8"))["messages"][1]["content"] == text


WIDE_AND_ODD = (
    "x" * 3000
    + "\n"
    + "😀👩‍👩‍👧‍👦🇫🇷 漢字のテスト、全角文字。 한국어 텍스트 "
    + "e\u0301 a\u0308 Z\u0351\u0323\u0331\u0300 "
    + "שלום עולם مرحبا بالعالم "
    + "https://example.com/"
    + "a/" * 400
    + "\n"
    + "`"
    + "y" * 500
    + "`"
)


async def test_long_lines_wide_combining_and_rtl_text_keep_the_layout(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=WIDE_AND_ODD, chunk_chars=7))
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat_screen(app)
        screen.composer.set_text("漢字 " + "z" * 2000)
        screen.composer.focus()
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), timeout=30, what="the reply")
        assert screen.conversation.messages[1].content == WIDE_AND_ODD
        await pilot.pause()
        assert_layout_intact(screen, 80)
        screen.pane.focus()
        await pilot.press("home")
        await pilot.pause()
        assert_layout_intact(screen, 80)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert_layout_intact(screen, 60)
    (path,) = (tmp_path / "data" / "conversations").glob("*.toml")
    saved = tomllib.loads(path.read_text(encoding="utf-8"))
    assert saved["messages"][1]["content"] == WIDE_AND_ODD


def every_file(root: Path) -> set[Path]:
    return {Path(folder) / name for folder, _, names in os.walk(root) for name in names}


async def test_titles_with_slashes_dots_nul_and_newlines_never_choose_the_file(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    # The app's folders one level below tmp_path: every file outside them that a title climbing
    # out of data/conversations could reach is in tmp_path, watched here, not among the other
    # tests' leftovers (walking those took a minute, and grows with the suite).
    sandbox = tmp_path / "outside" / "sandbox"
    sandbox.mkdir(parents=True)
    before_outside = every_file(tmp_path) - every_file(sandbox)
    evil = "../../../sandbox/evil\x00name\n/etc/passwd\\..\\x"
    app = build_app(sandbox, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.set_text(evil)
        screen.composer.focus()
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), what="the reply")
        conversation = screen.conversation
        conversation.title = evil  # as a hand edit or a rename could set it
        screen.save(conversation)
    conversations = sandbox / "data" / "conversations"
    files = sorted(p.name for p in conversations.iterdir())
    assert files == [f"{conversation.id}.toml"]
    assert "/" not in conversation.id and ".." not in conversation.id
    saved = tomllib.loads((conversations / files[0]).read_text(encoding="utf-8"))
    assert saved["title"] == evil
    # Nothing was written anywhere else: only the conversation and the index cache, in data/.
    written = {p.relative_to(sandbox).parts[:2] for p in every_file(sandbox)}
    assert written <= {("data", "conversations"), ("data", "cache")}, written
    assert every_file(tmp_path) - every_file(sandbox) == before_outside


def test_an_id_field_inside_the_file_never_chooses_where_it_is_saved(tmp_path: Path) -> None:
    paths = AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    store = ConversationStore(paths)
    conversation = Conversation(id="plain", title="x", created=datetime(2026, 1, 1, tzinfo=UTC))
    conversation.add(Message(role="user", content="hello"))
    store.save(conversation)
    path = paths.conversations_dir / "plain.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('id = "plain"', 'id = "../../escaped"'),
        encoding="utf-8",
    )
    loaded = store.load("plain")
    assert loaded.id == "plain"
    loaded.add(Message(role="assistant", content="hi", finish_reason="stop"))
    store.save(loaded)
    assert sorted(p.name for p in paths.conversations_dir.iterdir()) == ["plain.toml"]
    assert not (tmp_path / "escaped.toml").exists()
    assert not (paths.data_dir / "escaped.toml").exists()


@pytest.mark.slow
def test_keys_typed_in_one_burst_after_ctrl_n_go_to_the_new_conversation(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Over SSH, keystrokes arrive in bursts: ctrl+n, a message and Enter can come in one read."""
    env = session_env(tmp_path, openai_server)
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations")
        session.type("first topic\r")
        session.wait_for_text("You said: first topic")
        for topic in ("second topic", "third topic"):
            session.type(f"\x0e{topic}\r")  # one write: one burst
            session.wait_for_text(f"You said: {topic}")
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    firsts = sorted(
        tomllib.loads(p.read_text(encoding="utf-8"))["messages"][0]["content"]
        for p in (tmp_path / "data" / "conversations").glob("*.toml")
    )
    assert firsts == ["first topic", "second topic", "third topic"]


@pytest.mark.slow
def test_cli_list_and_export_to_a_terminal_are_inert_and_to_a_pipe_exact(tmp_path: Path) -> None:
    import subprocess

    import pexpect
    from terminal_session import installed_command

    paths = AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    planted = Conversation.new(profile="local", model="gpt-4o-mini")
    planted.title = f"title {OSC0_TITLE}{CSI_CLEAR_AND_MOVE}"
    planted.add(Message(role="user", content=HOSTILE))
    ConversationStore(paths).save(planted)
    plant_hostile_file_names(paths.conversations_dir)
    env = {**os.environ, "TUI_CHAT_DATA_DIR": str(paths.data_dir)}
    env["TUI_CHAT_CONFIG"] = str(paths.config_file)
    for args in (["list"], ["export", planted.id], ["export", f"broken{OSC0_TITLE}name"]):
        child = pexpect.spawn(installed_command(), args, env=env, timeout=30)
        shown = child.read()
        child.close()
        assert b"title" in shown or b"start" in shown or b"not valid TOML" in shown, shown
        leaked = [name for name, payload in MUST_NOT_REACH_THE_TERMINAL.items() if payload in shown]
        assert leaked == [], f"`tui-chat {' '.join(args)}` sent {leaked} to the terminal"
    piped = subprocess.run(
        [installed_command(), "export", planted.id, "--format", "json"],
        env=env,
        capture_output=True,
        check=True,
    )
    assert json.loads(piped.stdout)["messages"][0]["content"] == HOSTILE


@pytest.mark.slow
def test_opening_a_broken_file_with_a_hostile_name_says_why_inertly(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    env = session_env(tmp_path, openai_server)
    folder = tmp_path / "data" / "conversations"
    folder.mkdir(parents=True)
    (folder / f"broken{OSC0_TITLE}name.toml").write_text("not toml = =\n", encoding="utf-8")
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations (1)")
        # Each key waits for the footer to show where focus went: typed in one burst, Enter
        # could land before the list had focus (seen once in CI, the filter box took it).
        session.type("\x1b[Z")  # shift+tab: the message pane
        session.wait_for_text("Prev msg")
        session.type("\x1b[Z")  # shift+tab: the conversation list
        session.wait_for_text("Rename")
        session.type("\r")
        screen = session.wait_for_text("Cannot open this file")
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    assert "not valid TOML" in screen.replace("\n", " ")
    assert b"\x1b]0;PWNED" not in bytes(session.raw)
    assert (folder / f"broken{OSC0_TITLE}name.toml").read_text() == "not toml = =\n"

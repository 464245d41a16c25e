"""The installed `tui-chat` under a real pseudo-terminal at 80x24, as a user over SSH runs it."""

from __future__ import annotations

import base64
import os
import signal
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, config_env

# Each test runs the installed tui-chat under a pty.
pytestmark = pytest.mark.slow

KEY_ENV = "TUI_CHAT_E2E_KEY"
KEY = "sk-e2e-DO-NOT-LEAK-9a8b7c6d"


def _saved_conversations(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "data" / "conversations"
    return [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))]


@pytest.fixture
def session_env(tmp_path: Path, openai_server: FakeOpenAIServer) -> dict[str, str]:
    return config_env(tmp_path, openai_server.base_url, KEY_ENV, KEY)


def test_chat_in_a_real_terminal_shows_reply_and_saves_it(
    tmp_path: Path, openai_server: FakeOpenAIServer, session_env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(text="Pong from the **test server**."))
    session = TerminalSession(session_env)
    try:
        session.wait_for_text("Conversations")
        session.type("ping over ssh")
        session.type("\r")
        screen = session.wait_for_text("Pong from the")
        assert "ping over ssh" in screen
        session.type("\x11")  # ctrl+q
        assert session.wait_exit() == 0
    finally:
        session.close()
    (saved,) = _saved_conversations(tmp_path)
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant"]
    assert saved["messages"][0]["content"] == "ping over ssh"
    assert saved["messages"][1]["content"] == "Pong from the **test server**."
    assert KEY not in session.raw.decode("utf-8", "replace")


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_dropped_ssh_session_saves_partial_reply_marked_interrupted(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    session_env: dict[str, str],
    signum: signal.Signals,
) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    openai_server.enqueue(Script(text=words, chunk_chars=6, delay_per_chunk=0.05))
    session = TerminalSession(session_env)
    try:
        session.wait_for_text("Conversations")
        session.type("tell me a long story\r")
        session.wait_for_text("word2")  # the reply is streaming (it takes ~20 s in all)
        session.process.kill(signum)
        assert session.wait_exit() is not None, "the app did not exit after the signal"
    finally:
        session.close()
    (saved,) = _saved_conversations(tmp_path)
    user, reply = saved["messages"]
    assert user["content"] == "tell me a long story"
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"].startswith("word0 word1 word2")
    assert len(reply["content"]) < len(words)


def test_words_typed_when_the_ssh_session_drops_are_in_the_composer_at_the_next_start(
    tmp_path: Path, openai_server: FakeOpenAIServer, session_env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(text="Answered at last."))
    session = TerminalSession(session_env)
    try:
        session.wait_for_text("Conversations")
        session.type("a question I was still writing")
        session.wait_for_text("still writing")  # on screen; the hang-up follows at once
        session.process.kill(signal.SIGHUP)
        assert session.wait_exit() is not None, "the app did not exit after SIGHUP"
    finally:
        session.close()
    restarted = TerminalSession(session_env)
    try:
        restarted.wait_for_text("unsent message")  # the app says so, over the composer...
        restarted.type("\r")  # ...which holds the words: Enter sends them
        restarted.wait_for_text("Answered at last.")
        restarted.type("\x11")
        assert restarted.wait_exit() == 0
    finally:
        restarted.close()
    (saved,) = _saved_conversations(tmp_path)
    assert saved["messages"][0]["content"] == "a question I was still writing"


def test_ctrl_e_edits_the_message_in_editor_and_y_copies_over_osc52(
    tmp_path: Path, openai_server: FakeOpenAIServer, session_env: dict[str, str]
) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "written in the editor" > "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    openai_server.enqueue(Script(text="Copied reply text."))
    session = TerminalSession({**session_env, "EDITOR": str(editor), "VISUAL": ""})
    try:
        session.wait_for_text("Conversations")
        session.type("\x05")  # ctrl+e: the app suspends, the editor runs, the app resumes
        session.wait_for_text("written in the editor")
        session.type("\r")
        session.wait_for_text("Copied reply text.")
        session.type("\x1b[Z")  # shift+tab: from the composer back to the message pane
        session.wait_for_text("Prev msg")  # the pane's keys in the footer: it has focus
        session.type("\x1b[F")  # end: the last message
        session.type("y")
        expected = base64.b64encode(b"Copied reply text.").decode()
        deadline = time.monotonic() + 10
        while f"\x1b]52;c;{expected}" not in session.raw.decode("latin-1"):
            assert time.monotonic() < deadline, "no OSC 52 sequence with the reply was written"
            session.pump()
            time.sleep(0.05)
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    (saved,) = _saved_conversations(tmp_path)
    assert saved["messages"][0]["content"] == "written in the editor"


def _drafts(tmp_path: Path) -> list[str]:
    folder = tmp_path / "data" / "drafts"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]


def _one_write(session: TerminalSession, data: bytes) -> None:
    """Bytes in a single write to the pty, as a paste, tmux send-keys or SSH delivers them."""
    assert os.write(session.process.child_fd, data) == len(data)


def _wait_for_screen(session: TerminalSession, check: Callable[[str], bool], what: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        screen = session.text()
        if check(screen):
            return screen
        time.sleep(0.05)
    raise AssertionError(f"never saw {what} on screen:\n{session.text()}")


def test_alt_enter_from_the_terminal_breaks_the_line_and_sends_nothing(
    tmp_path: Path, openai_server: FakeOpenAIServer, session_env: dict[str, str]
) -> None:
    session = TerminalSession(session_env)
    try:
        session.wait_for_text("Conversations")
        session.type("first line")
        session.wait_for_text("first line")
        _one_write(session, b"\x1b\r")  # alt+Enter as xterm, tmux and screen send it
        session.type("second line")
        screen = session.wait_for_text("second line")
        rows = screen.splitlines()
        first = next(i for i, row in enumerate(rows) if "first line" in row)
        assert "second line" in rows[first + 1], screen  # the next row of the composer
        session.type("\x11")  # ctrl+q: the unsent text is kept as a draft
        assert session.wait_exit() == 0
    finally:
        session.close()
    assert _drafts(tmp_path) == ["first line\nsecond line"]
    assert not openai_server.chat_requests
    assert _saved_conversations(tmp_path) == []


def test_keys_written_at_once_edit_the_composer_in_the_order_typed(
    tmp_path: Path, session_env: dict[str, str]
) -> None:
    session = TerminalSession(session_env)
    try:
        session.wait_for_text("Conversations")
        session.type("abc")
        session.wait_for_text("abc")
        for burst, expected in [
            (b"\x7fzz", "abzz"),  # Backspace, z, z
            (b"\x1b[DQQ", "abzQQz"),  # Left, Q, Q
            (b"\x01WW", "WWabzQQz"),  # ctrl+a, W, W
        ]:
            _one_write(session, burst)
            session.wait_for_text(expected)
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    assert _drafts(tmp_path) == ["WWabzQQz"]


def test_ctrl_u_and_a_title_written_at_once_rename_the_conversation(
    tmp_path: Path, openai_server: FakeOpenAIServer, session_env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(text="Noted."))
    session = TerminalSession(session_env)
    try:
        session.wait_for_text("Conversations")
        session.type("name me\r")
        session.wait_for_text("Noted.")
        session.type("\x10")  # ctrl+p: the command palette
        session.wait_for_text("Search for commands")
        session.type("rename conversation")
        _wait_for_screen(session, lambda s: "Rename the open conversation" in s, "the command")
        session.type("\r")
        session.wait_for_text("Enter to save")
        _one_write(session, b"\x15Renamed again\r")  # ctrl+u, the new title, Enter
        _wait_for_screen(session, lambda s: "Enter to save" not in s, "the dialog closed")
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    (saved,) = _saved_conversations(tmp_path)
    assert saved["title"] == "Renamed again"

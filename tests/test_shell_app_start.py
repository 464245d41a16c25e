"""Starting the app from the shell, under a real pty at 80x24: `tui-chat open ID`, `tui-chat -c`
and text piped into `tui-chat` (keys then come from the terminal)."""

from __future__ import annotations

import shlex
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_harness import data_paths
from openai_server import FakeOpenAIServer
from terminal_session import (
    TerminalSession,
    installed_command,
    run_installed,
    session_env,
    wait_until,
)

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.storage.last_open import LastOpen
from tui_chat.storage.store import ConversationStore

pytestmark = pytest.mark.slow  # each test runs the installed tui-chat under a pty

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path, openai_server: FakeOpenAIServer) -> dict[str, str]:
    return session_env(tmp_path, openai_server)


def plant(tmp_path: Path, title: str, minutes: int) -> Conversation:
    """A saved conversation, updated `minutes` after T0."""
    conversation = Conversation.new(profile="local", model="gpt-4o-mini")
    conversation.add(Message(role="user", content=f"question of {title}"))
    conversation.add(Message(role="assistant", content=f"answer of {title}", finish_reason="stop"))
    conversation.updated = T0 + timedelta(minutes=minutes)
    ConversationStore(data_paths(tmp_path)).save(conversation)
    return conversation


def saved(tmp_path: Path) -> list[dict[str, Any]]:
    folder = tmp_path / "data" / "conversations"
    return [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))]


def quit_app(session: TerminalSession) -> None:
    session.type("\x11")  # ctrl+q
    assert session.wait_exit() == 0


@pytest.mark.parametrize(
    ("how", "last_open", "shown", "hidden"),
    [
        # open ID: that one, not the one open at the last exit
        ("open", "newest", "older", "newest"),
        # -c: the most recently updated, not the one open at the last exit
        ("-c", "older", "newest", "older"),
    ],
)
def test_open_and_continue_show_the_conversation_asked_for(
    tmp_path: Path, env: dict[str, str], how: str, last_open: str, shown: str, hidden: str
) -> None:
    planted = {"older": plant(tmp_path, "older", 1), "newest": plant(tmp_path, "newest", 2)}
    LastOpen(data_paths(tmp_path).cache_dir).write(planted[last_open].id)
    args = ["open", planted["older"].id] if how == "open" else ["-c"]
    session = TerminalSession(env, command=[installed_command(), *args])
    try:
        screen = session.wait_for_text(f"answer of {shown}")
        assert f"answer of {hidden}" not in screen
        quit_app(session)
    finally:
        session.close()


def test_open_an_unknown_id_is_one_sentence(env: dict[str, str]) -> None:
    done = run_installed(env, "open", "20260101-000000-dead")
    assert done.returncode == 1
    assert done.stderr == (
        "tui-chat: There is no conversation '20260101-000000-dead' in conversations.\n"
    )


def test_piped_text_waits_in_the_composer_and_enter_sends_it_with_the_typed_question(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    plant(tmp_path, "earlier", 1)
    diff = "diff --git a/app.py b/app.py\n+print('hello')\n"
    pipeline = f"printf %s {shlex.quote(diff)} | {shlex.quote(installed_command())}"
    session = TerminalSession(env, command=["/bin/sh", "-c", pipeline])
    try:
        screen = session.wait_for_text("+print('hello')")
        assert "diff --git a/app.py b/app.py" in screen
        assert "answer of earlier" not in screen  # a new conversation, not the last one
        session.type("what does it change?")  # keys come from the terminal
        session.wait_for_text("what does it change?")
        session.type("\r")
        wait_until(
            lambda: len(openai_server.chat_requests) == 1 and len(saved(tmp_path)) == 2,
            session,
            "the piped text and the question sent",
        )
        session.wait_for_text("You said: diff --git")
        quit_app(session)
    finally:
        session.close()
    sent = openai_server.chat_requests[0].json["messages"][-1]["content"]
    assert sent == diff + "what does it change?"


def test_piped_text_with_no_terminal_at_all_is_one_sentence(env: dict[str, str]) -> None:
    done = run_installed(env, stdin="some text", no_terminal=True)
    assert done.returncode == 1
    assert done.stderr == (
        "tui-chat: the app needs a terminal to show itself and read keys, and there is none: "
        "use `tui-chat ask` to send piped text from a script.\n"
    )


def test_escape_sequences_in_piped_or_pasted_text_are_shown_inert_never_acted_on(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    # A log piped in, and a paste, each carrying what would clear the screen, set the title
    # and the clipboard if it reached the terminal.
    piped = "log start \x1b[2J\x1b]0;PIPED\x07\x1b]52;c;cGlwZWQ=\x07 log end\n"
    pasted = "paste start \x1b[H\x1b]52;c;cGFzdGVk\x07 paste end"
    pipeline = f"printf %s {shlex.quote(piped)} | {shlex.quote(installed_command())}"
    session = TerminalSession(env, command=["/bin/sh", "-c", pipeline])
    try:
        session.wait_for_text("log end")
        session.type(f"\x1b[200~{pasted}\x1b[201~")  # a bracketed paste, as terminals send it
        screen = session.wait_for_text("paste end")
        assert "␛[2J" in screen and "log start" in screen  # shown, as visible pictures
        session.type("\r")
        wait_until(lambda: len(openai_server.chat_requests) == 1, session, "the message sent")
        quit_app(session)
    finally:
        session.close()
    raw = bytes(session.raw)
    for payload in (b"\x1b[2J", b"\x1b]0;PIPED", b"\x1b]52;c;cGlwZWQ=", b"\x1b]52;c;cGFzdGVk"):
        assert payload not in raw, payload
    assert session.screen.title != "PIPED"
    # What was sent is what was shown: the pictures, not the raw control bytes.
    sent = openai_server.chat_requests[0].json["messages"][-1]["content"]
    assert "\x1b" not in sent and "log start ␛[2J" in sent and "paste end" in sent

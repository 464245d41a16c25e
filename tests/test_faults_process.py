"""Fault injection, the process: `kill -9` mid-reply, and a disk that fills up under a running app.

The installed `tui-chat` runs under a real pseudo-terminal (TerminalSession) against the test
server, as a user over SSH runs it.
"""

from __future__ import annotations

import resource
import tomllib
from pathlib import Path
from typing import Any

import pytest
from app_harness import FAKE_API_KEY
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, session_env, wait_until

# Each test runs the installed tui-chat under a pty.
pytestmark = pytest.mark.slow


def conversation_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "conversations").glob("*.toml"))


def read_only_file(tmp_path: Path) -> dict[str, Any]:
    (path,) = conversation_files(tmp_path)
    return tomllib.loads(path.read_text(encoding="utf-8"))


def periodic_save_holds_reply_text(tmp_path: Path) -> bool:
    files = conversation_files(tmp_path)
    if len(files) != 1:
        return False
    try:
        messages = tomllib.loads(files[0].read_text(encoding="utf-8")).get("messages", [])
    except (OSError, tomllib.TOMLDecodeError):
        return False  # never happens with atomic writes; the assertion after the kill says so
    return len(messages) == 2 and bool(messages[1].get("content"))


def test_kill_9_mid_reply_keeps_what_the_periodic_save_wrote_and_reopens(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    words = " ".join(f"word{i}" for i in range(600))
    openai_server.enqueue(Script(text=words, chunk_chars=6, delay_per_chunk=0.03))
    env = session_env(tmp_path, openai_server)
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations")
        session.type("a long story please\r")
        session.wait_for_text("word1")
        # The periodic save (every 3 s while streaming) has written part of the reply.
        wait_until(lambda: periodic_save_holds_reply_text(tmp_path), session, "a periodic save")
        session.process.kill(9)
        session.wait_exit()
    finally:
        session.close()

    saved = read_only_file(tmp_path)  # valid TOML, or this raises
    prompt, reply = saved["messages"]
    assert prompt["content"] == "a long story please"
    assert words.startswith(reply["content"]) and len(reply["content"]) < len(words)
    assert list((tmp_path / "data" / "conversations").glob(".*.tmp")) == []

    # Start again: the conversation opens with the prompt and the text saved before the kill.
    restarted = TerminalSession(env)
    try:
        restarted.wait_for_text("a long story please")  # the list, then the opened reply:
        screen = restarted.wait_for_text("word0")
        assert "interrupted" in screen  # a reply the killed app never finished is marked
        restarted.type("\x11")
        assert restarted.wait_exit() == 0
    finally:
        restarted.close()
    again = read_only_file(tmp_path)
    assert again["messages"][0]["content"] == "a long story please"
    assert words.startswith(again["messages"][1]["content"])


def test_disk_full_under_a_running_app_is_said_and_nothing_is_lost_once_space_returns(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """The disk fills up (RLIMIT_FSIZE set on the running process: every write fails as on a
    full disk), the user is told, keeps chatting, and the next save after space returns writes
    everything."""
    if not hasattr(resource, "prlimit"):
        pytest.skip("prlimit is Linux-only")
    env = session_env(tmp_path, openai_server)
    session = TerminalSession(env, columns=120, lines=40)
    try:
        session.wait_for_text("Conversations")
        session.type("first message\r")
        session.wait_for_text("You said: first message")
        wait_until(lambda: len(conversation_files(tmp_path)) == 1, session, "the first save")

        pid = session.process.pid
        unlimited = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, unlimited[1]))
        session.type("written on a full disk\r")
        session.wait_for_text("You said: written on a full disk")
        screen = session.wait_for_text("Could not save")
        assert "nothing was lost" in screen.replace("\n", " ") or "still here" in screen
        assert "written on a full disk" not in conversation_files(tmp_path)[0].read_text()

        resource.prlimit(pid, resource.RLIMIT_FSIZE, unlimited)
        session.type("space is back\r")
        session.wait_for_text("You said: space is back")
        wait_until(
            lambda: "You said: space is back" in conversation_files(tmp_path)[0].read_text(),
            session,
            "the save after space returned",
        )
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    contents = [m["content"] for m in read_only_file(tmp_path)["messages"]]
    assert contents == [
        "first message",
        "You said: first message",
        "written on a full disk",
        "You said: written on a full disk",
        "space is back",
        "You said: space is back",
    ]
    assert list((tmp_path / "data" / "conversations").glob(".*.tmp")) == []
    assert FAKE_API_KEY.encode() not in session.raw

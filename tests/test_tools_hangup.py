"""A hang-up while a tool call waits for the user's approval, under a real pty with the
installed `tui-chat` and an MCP server configured as a user would: the process ends within
seconds, the conversation is saved and the pending call is marked interrupted."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer
from terminal_session import TerminalSession, config_env
from tool_harness import configure, tools_test_server

from tui_chat.flow.tool_round import INTERRUPTED

pytestmark = pytest.mark.slow

KEY_ENV = "TUI_CHAT_TOOLS_HANGUP_KEY"


def test_hang_up_while_a_call_waits_for_approval_saves_it_marked(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    env = config_env(tmp_path, openai_server.base_url, KEY_ENV, "sk-hangup-test-not-a-key")
    configure(env, tools_test_server())
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations", timeout=60)
        session.type('Say hi through the tool.\ncall echo {"text": "hi"}\r')  # \n: ctrl+j
        session.wait_for_text("Run a tool?", timeout=90)
        session.hang_up()
        assert session.gone_within(5.0), "the process outlived its terminal"
    finally:
        session.close()
    (saved,) = (Path(env["TUI_CHAT_DATA_DIR"]) / "conversations").glob("*.toml")
    prompt, asked = tomllib.loads(saved.read_text(encoding="utf-8"))["messages"]
    assert prompt["content"] == 'Say hi through the tool.\ncall echo {"text": "hi"}'
    (call,) = asked["tool_calls"]
    assert (call["name"], call["arguments"], call["status"], call["result"]) == (
        "echo",
        '{"text": "hi"}',
        "interrupted",
        INTERRUPTED,
    )

"""An MCP server reached over streamable HTTP (`url` + `headers` in config.toml), as a user
would configure one: its tools are listed and called with the user's approval, the header (a
key, often) reaches the server and nowhere else, and an address that refuses or never answers
gets one sentence while chat goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import build_app, chat, notifications, send, wait_for, wait_until_idle
from openai_server import FakeOpenAIServer
from terminal_session import TerminalSession, config_env, wait_until
from tool_harness import configure, free_port, http_tools_server, silent_listener

from tui_chat.config import McpServer
from tui_chat.tools import ToolBox

pytestmark = pytest.mark.slow  # a real MCP server process, a real terminal

KEY_ENV = "TUI_CHAT_TOOLS_HTTP_KEY"
SECRET = "mcp-header-secret-4c1d"  # what the header holds: it must show nowhere


def test_an_http_server_lists_and_runs_tools_and_its_header_stays_out_of_sight(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    record = tmp_path / "server" / "headers.txt"
    record.parent.mkdir()
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    env = config_env(app_dir, openai_server.base_url, KEY_ENV, "sk-http-tools-not-a-key")
    with http_tools_server(record) as url:
        headers = {"Authorization": f"Bearer {SECRET}"}
        configure(env, McpServer(name="web", url=url, headers=headers))
        session = TerminalSession(env)
        try:
            session.wait_for_text("Conversations", timeout=60)
            session.type('call echo {"text": "over http"}\r')
            session.wait_for_text("Run a tool?", timeout=90)
            session.wait_for_text("echo from MCP server web wants to run with:")
            session.type("y")
            session.wait_for_text("Tools said: echo: over http", timeout=60)
            session.type("\x10")  # ctrl+p: the palette's "Tools" lists them
            session.wait_for_text("Search for commands", timeout=30)
            session.type("Tools")
            wait_until(lambda: "Tools" in session.text(), session, "the palette entry")
            session.type("\r")
            session.wait_for_text("web · echo — Say `text` back.", timeout=60)
            session.type("\x1b")
            session.type("\x11")  # ctrl+q
            assert session.wait_exit(30) == 0
        finally:
            session.close()
    # The header reached the server with each request, as configured.
    sent = record.read_text(encoding="utf-8").splitlines()
    assert sent and set(sent) == {f"Bearer {SECRET}"}
    # And nowhere else: not on the terminal, not in any file the app wrote.
    assert SECRET.encode() not in session.raw
    written = [p for p in app_dir.rglob("*") if p.is_file() and p.name != "config.toml"]
    assert any(p.suffix == ".toml" for p in written)  # the conversation was saved
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path


async def test_an_http_address_that_refuses_or_never_answers_gets_one_sentence() -> None:
    said: list[str] = []
    headers = {"Authorization": f"Bearer {SECRET}"}
    with silent_listener() as hung:
        refused = f"http://127.0.0.1:{free_port()}/mcp"
        box = ToolBox(
            {
                "refused": McpServer(name="refused", url=refused, headers=headers),
                "hung": McpServer(name="hung", url=hung, headers=headers, startup_timeout=2),
            },
            notice=said.append,
        )
        try:
            assert await box.tools() == []
        finally:
            await box.aclose()
    assert sorted(said) == [
        "MCP server 'hung' did not start within 2 s; chat goes on without its tools.",
        "MCP server 'refused' could not start (All connection attempts failed); chat goes on"
        " without its tools.",
    ]


async def test_chat_goes_on_when_the_http_server_is_not_there(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    server = McpServer(name="web", url=url, headers={"Authorization": f"Bearer {SECRET}"})
    app = build_app(tmp_path, openai_server, mcp_servers=[server])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await send(pilot, "hello")
        screen = chat(app)
        await wait_for(
            pilot,
            lambda: len(screen.conversation.messages) == 2 and not screen.streaming,
            what="a plain answer",
        )
        notices = [n.message for n in notifications(app)]
        assert any(n.startswith("MCP server 'web' could not start (") for n in notices)
        assert all(SECRET not in n for n in notices)
        assert screen.conversation.messages[-1].content == "You said: hello"
    assert "tools" not in openai_server.chat_requests[-1].json

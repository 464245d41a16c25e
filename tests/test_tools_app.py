"""Tools in the app at 80x24, as a user meets them: a server configured the way they would, a
prompt that makes the test server call a tool, the approval dialog, the collapsed call lines."""

from __future__ import annotations

import json
import re

import pytest
from app_harness import (
    build_app,
    chat,
    conversation_files,
    help_text,
    notifications,
    run_palette_command,
    send,
    visible_text,
    wait_for,
    wait_until_idle,
)
from openai_server import FakeOpenAIServer
from textual.pilot import Pilot
from tool_harness import exits_at_once, time_server, tools_test_server

from tui_chat.config import load_config
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.screens.tool_approval import ToolApprovalDialog
from tui_chat.ui.screens.tools_list import ToolsScreen

pytestmark = pytest.mark.slow  # real MCP server processes

ASK_TIME = 'call get_current_time {"timezone": "Europe/Paris"}'


def pane(screen: ChatScreen) -> str:
    return "\n".join(screen.pane.visible_text())


async def send_and_await_approval(pilot: Pilot[None], prompt: str) -> ToolApprovalDialog:
    """Once the app is idle, send `prompt` (whose `call` line makes the model call a tool) and
    wait for the approval dialog."""
    await wait_until_idle(pilot)
    await send(pilot, prompt)
    return await approval_dialog(pilot)


async def approval_dialog(pilot: Pilot[None]) -> ToolApprovalDialog:
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, ToolApprovalDialog),
        timeout=60,
        what="the approval dialog",
    )
    dialog = pilot.app.screen
    assert isinstance(dialog, ToolApprovalDialog)
    return dialog


def replies_done(screen: ChatScreen, count: int) -> bool:
    return len(screen.conversation.messages) == count and not screen.streaming


async def test_y_runs_the_call_once_and_the_pane_shows_it_collapsed(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    app = build_app(tmp_path, openai_server, mcp_servers=[time_server()])
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await send_and_await_approval(pilot, ASK_TIME)
        shown = visible_text(app)
        assert dialog.spec.name == "get_current_time"
        assert "get_current_time from MCP server time wants to run" in shown
        assert '"timezone": "Europe/Paris"' in shown
        assert "y run once · a always (saved to config) · n decline · Esc stop" in shown
        await pilot.press("y")
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 3), what="the answer after the tool")
        await wait_until_idle(pilot)
        text = pane(screen)
        # Folded: the call is one line under the reply that made it, then the answer.
        assert re.search(r"▸ ⚙ get_current_time · ✓ done · .*\n▏\n▏ Assistant", text)
        assert "Tools said: {" in text
        # Enter on that reply shows the result under its call; again folds it.
        screen.pane.focus()
        screen.pane.selected_index = 1
        await pilot.press("enter")
        shown = '┃   {\n┃     "timezone": "Europe/Paris",'  # ┃: selected; under its call
        await wait_for(pilot, lambda: shown in pane(screen), what="the result shown")
        assert "┃ ▾ ⚙ get_current_time · ✓ done · " in pane(screen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shown not in pane(screen), what="folded")
        assert "┃ ▸ ⚙ get_current_time · ✓ done · " in pane(screen)
    (saved,) = conversation_files(tmp_path).values()
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant", "assistant"]
    assert json.loads(saved["messages"][1]["tool_calls"][0]["result"])["timezone"] == (
        "Europe/Paris"
    )


async def test_a_saves_always_and_the_next_call_runs_unasked(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    server = time_server()
    config_file = tmp_path / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f"[mcp_servers.time]\ncommand = {json.dumps(server.command)}\n")
    app = build_app(tmp_path, openai_server, mcp_servers=[server])
    async with app.run_test(size=(80, 24)) as pilot:
        await send_and_await_approval(pilot, ASK_TIME)
        await pilot.press("a")
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 3), what="the first answer")
        await send(pilot, ASK_TIME)
        await wait_for(pilot, lambda: replies_done(screen, 6), what="the second, unasked")
    config, problems = load_config(config_file)
    assert problems == []
    assert config.mcp_servers["time"].approval("get_current_time") == "always"


async def test_the_dialog_keys_come_from_keys_in_config_and_show_as_remapped(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    keys = {"tool_approval.once": "o", "tool_approval.decline": "x"}
    app = build_app(tmp_path, openai_server, mcp_servers=[tools_test_server()], keys=keys)
    async with app.run_test(size=(80, 24)) as pilot:
        await send_and_await_approval(pilot, 'call echo {"text": "hi"}')
        shown = visible_text(app)
        assert "o run once" in shown and "x decline" in shown and "y run once" not in shown
        await pilot.press("y")  # no longer the key: still asked
        await pilot.pause()
        assert isinstance(app.screen, ToolApprovalDialog)
        await pilot.press("o")
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 3), what="the answer")
        assert "⚙ echo · ✓ done" in pane(screen)
        screen.composer.focus()
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the keys screen")
        shown = help_text(app.screen)
        assert "Tool approval (before a tool runs)" in shown
        assert re.search(r"\n  o +run the tool call, this once\n", shown)
        assert re.search(r"\n  x +decline the call \(the model is told\)\n", shown)


async def test_n_declines_and_the_model_is_told(tmp_path, openai_server: FakeOpenAIServer) -> None:
    app = build_app(tmp_path, openai_server, mcp_servers=[tools_test_server()])
    async with app.run_test(size=(80, 24)) as pilot:
        await send_and_await_approval(pilot, 'call echo {"text": "hi"}')
        await pilot.press("n")
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 3), what="the answer")
        assert '⚙ echo · ⊘ declined · {"text": "hi"}' in pane(screen)
    sent = openai_server.chat_requests[-1].json["messages"][-1]
    assert sent["role"] == "tool" and "declined" in sent["content"]


async def test_esc_at_the_dialog_stops_the_reply_and_keeps_the_call_marked(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    app = build_app(tmp_path, openai_server, mcp_servers=[tools_test_server()])
    async with app.run_test(size=(80, 24)) as pilot:
        await send_and_await_approval(pilot, 'call echo {"text": "hi"}')
        await pilot.press("escape")
        screen = chat(app)
        await wait_for(pilot, lambda: not screen.streaming, what="the reply stopped")
        await wait_until_idle(pilot)
        assert '⚙ echo · ■ interrupted · {"text": "hi"}' in pane(screen)
    (saved,) = conversation_files(tmp_path).values()
    assert saved["messages"][1]["tool_calls"][0]["status"] == "interrupted"
    assert len(openai_server.chat_requests) == 1  # nothing more was asked


async def test_a_server_that_cannot_start_is_said_and_chat_goes_on(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    app = build_app(tmp_path, openai_server, mcp_servers=[exits_at_once()])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await send(pilot, "hello")
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 2), what="a plain answer")
        notices = [n.message for n in notifications(app)]
        assert "Starting the MCP servers for their tools…" in notices
        assert any(
            "MCP server 'exits' could not start (boom: no config file)" in n for n in notices
        )
        assert "You said: hello" in pane(screen)
    assert "tools" not in openai_server.chat_requests[-1].json


async def test_regenerate_asks_again_for_the_whole_answer_calls_included(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    app = build_app(tmp_path, openai_server, mcp_servers=[tools_test_server()])
    async with app.run_test(size=(80, 24)) as pilot:
        await send_and_await_approval(pilot, 'call echo {"text": "one"}')
        await pilot.press("y")
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 3), what="the first answer")
        screen.composer.focus()
        await pilot.press("ctrl+r")
        await approval_dialog(pilot)  # the model calls the tool again: asked again
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: replies_done(screen, 3) and len(openai_server.chat_requests) == 4,
            what="the regenerated answer",
        )
        roles = [m.role for m in screen.conversation.messages]
        assert roles == ["user", "assistant", "assistant"]
        assert screen.conversation.messages[-1].content == "Tools said: echo: one"


async def test_tools_palette_lists_them_and_switches_one_off_for_the_conversation(
    tmp_path, openai_server: FakeOpenAIServer
) -> None:
    app = build_app(tmp_path, openai_server, mcp_servers=[time_server(), exits_at_once()])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await send(pilot, "hello")  # a saved conversation to switch tools off in
        screen = chat(app)
        await wait_for(pilot, lambda: replies_done(screen, 2), what="the first answer")
        await run_palette_command(pilot, "Tools", "Tools")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ToolsScreen), timeout=60, what="the list"
        )
        await pilot.pause()
        shown = visible_text(app)
        assert "time · get_current_time — Get current time in a specifi…" in shown
        assert "time · convert_time — Convert time between timezones" in shown
        assert "MCP server 'exits' could not start" in shown
        await pilot.press("space")  # the first: get_current_time
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.conversation.tools_off != [], what="switched off")
        assert screen.conversation.tools_off == ["time/get_current_time"]
        await send(pilot, ASK_TIME)
        await wait_for(pilot, lambda: replies_done(screen, 5), what="the answer")
        assert not isinstance(app.screen, ToolApprovalDialog)  # nothing was asked
    offered = [t["function"]["name"] for t in openai_server.chat_requests[1].json["tools"]]
    assert offered == ["convert_time"]
    told = openai_server.chat_requests[2].json["messages"][-1]["content"]
    assert told == "There is no tool named 'get_current_time'."
    (saved,) = conversation_files(tmp_path).values()
    assert saved["tools_off"] == ["time/get_current_time"]

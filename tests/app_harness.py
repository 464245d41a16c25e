"""Builds a real TuiChatApp on temporary folders, talking to the test server, for Pilot tests.

The helpers every test module shares live here (and the pty ones in terminal_session.py), so no
test module imports from another test module or from conftest.
"""

from __future__ import annotations

import asyncio
import html
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_server import FakeOpenAIServer
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.widgets import Static

from tui_chat.config import Config, McpServer, ModelPrice, Profile
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.services import Services

# Shaped like a real key so redaction of key-like strings is exercised too; never valid.
FAKE_API_KEY = "sk-test-DO-NOT-LEAK-4f3c2b1a"
FAKE_API_KEY_ENV = "TUI_CHAT_TEST_API_KEY"


def make_app(
    tmp_path: Path,
    base_url: str,
    *,
    enter_sends: bool = True,
    model: str = "gpt-4o-mini",
    theme: str | None = "tui-chat-dark",
    api_key: str | None = FAKE_API_KEY,
    prices: dict[str, ModelPrice] | None = None,
    keys: dict[str, str] | None = None,
    mcp_servers: list[McpServer] | None = None,
    **profile_overrides: Any,
) -> TuiChatApp:
    """An app whose files live in tmp_path and whose only profile points at the test server
    (and, with `mcp_servers`, whose config names those MCP servers)."""
    paths = data_paths(tmp_path)
    values: dict[str, Any] = {
        "name": "test",
        "base_url": base_url,
        "api_key": api_key,
        "api_key_env": "TUI_CHAT_TEST_NO_SUCH_VAR",
        "default_model": model,
        "models": ("gpt-4o-mini", "gpt-4o"),
    }
    values.update(profile_overrides)
    profile = Profile(**values)
    config = Config(
        default_profile="test",
        theme=theme,
        enter_sends=enter_sends,
        profiles={"test": profile},
        prices=dict(prices or {}),
        keys=dict(keys or {}),
        mcp_servers={server.name: server for server in mcp_servers or ()},
    )
    return TuiChatApp(Services.create(paths, config, []))


def build_app(tmp_path: Path, server: FakeOpenAIServer, **profile: Any) -> TuiChatApp:
    """The real app on temporary folders, one profile pointed at the test server."""
    return make_app(tmp_path, server.base_url, **profile)


def data_paths(tmp_path: Path) -> AppPaths:
    """The folders make_app's app uses under tmp_path."""
    return AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")


def plant(tmp_path: Path, *texts: str) -> Conversation:
    """A saved conversation, as an earlier session left it (user and assistant in turn)."""
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    for index, text in enumerate(texts):
        role = "user" if index % 2 == 0 else "assistant"
        conversation.add(
            Message(role=role, content=text, finish_reason="stop" if index % 2 else None)
        )
    ConversationStore(data_paths(tmp_path)).save(conversation)
    return conversation


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], *, timeout: float = 30.0, what: str = ""
) -> None:
    """Let the app run until `condition()` holds; fail with `what` if it never does. The
    default wait is long: 2 busy cores shared by other test runs made 10 s too short."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)
    await pilot.pause()


def terminal_writes(app: TuiChatApp, data: str) -> None:
    """Give the app `data` as a terminal sends it in one write: the bytes go through Textual's
    own input parser and every key lands in the app's queue at once, as one read delivers them
    (Pilot's `press` waits between keys, which hides what a burst of keys does)."""
    parser = XTermParser()
    # The empty feed ends the input: an escape sequence left open is read as the driver reads
    # it when no more bytes come (after its escape delay).
    for event in [*parser.feed(data), *parser.feed("")]:
        app.post_message(event)


async def wait_until_idle(pilot: Pilot[None], *, timeout: float = 30.0) -> None:
    """Let the app finish what it started: start-up's background work begun, no worker running
    (list, open, search, drafts, reply), the message pane repainted. What a test then sees no
    longer depends on how busy the machine was."""
    app = pilot.app
    assert isinstance(app, TuiChatApp)

    def idle() -> bool:
        screen = chat(app)
        return (
            screen.listing.start_up.background_started
            and not any(worker.is_running for worker in app.workers)
            and not screen.pane.repaint_pending
        )

    await wait_for(pilot, idle, timeout=timeout, what="the app to be idle")


async def run_palette_command(pilot: Pilot[None], query: str, title: str) -> None:
    """ctrl+p, type `query`, and press Enter once the palette's highlighted hit is `title`
    (the palette searches in a worker: Enter before the hit arrives runs nothing)."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="palette")
    await pilot.press(*query)

    def highlighted() -> str:
        hits = pilot.app.screen.query_one(CommandList)
        if hits.highlighted is None or not hits.option_count:
            return ""
        return str(hits.get_option_at_index(hits.highlighted).prompt)

    await wait_for(pilot, lambda: highlighted().startswith(title), what=f"{title!r} in the palette")
    await pilot.press("enter")


def chat(app: TuiChatApp) -> ChatScreen:
    """The app's main screen, whatever dialog is on top of it."""
    return next(s for s in app.screen_stack if isinstance(s, ChatScreen))


def reply_streamed(screen: ChatScreen, chars: int) -> Callable[[], bool]:
    """A condition: the first reply has more than `chars` characters so far (still streaming,
    for a test that stops or inspects it mid-way)."""

    def check() -> bool:
        messages = screen.conversation.messages
        return len(messages) == 2 and len(messages[1].content) > chars

    return check


def reply_finished(screen: ChatScreen, count: int = 2) -> Callable[[], bool]:
    """A condition: the conversation has `count` messages and the last reply has ended."""

    def check() -> bool:
        messages = screen.conversation.messages
        return (
            len(messages) == count
            and messages[-1].role == "assistant"
            and messages[-1].finish_reason is not None
            and not screen.streaming
        )

    return check


async def send(pilot: Pilot[None], text: str) -> None:
    """Type `text` into the composer (set at once, as a paste) and press Enter."""
    assert isinstance(pilot.app, TuiChatApp)
    screen = chat(pilot.app)
    screen.composer.focus()
    screen.composer.set_text(text)
    await pilot.press("enter")


def conversation_files(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Every saved conversation file under tmp_path's data folder, parsed, by id."""
    folder = tmp_path / "data" / "conversations"
    return {
        p.stem: tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))
    }


def visible_text(app: TuiChatApp) -> str:
    """The characters on the app's screen as the terminal shows them (from a screenshot),
    dialogs included."""
    svg = app.export_screenshot()
    rows = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    return html.unescape("".join(rows)).replace("\xa0", " ")


def help_text(screen: object) -> str:
    """The keys screen's text as the user reads it."""
    assert isinstance(screen, HelpScreen)
    return str(screen.query_one("#help-text", Static).render())


def notifications(app: App[Any]) -> list[Notification]:
    """The toasts the app shows now. Textual has no public reader: `App._notifications` is
    private (checked against 8.2.8, the version pyproject pins), so tests read it here only."""
    return list(app._notifications)

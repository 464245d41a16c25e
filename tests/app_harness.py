"""Builds a real TuiChatApp on temporary folders, talking to the test server, for Pilot tests."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual._xterm_parser import XTermParser
from textual.pilot import Pilot

from tui_chat.config import Config, ModelPrice, Profile
from tui_chat.paths import AppPaths
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.services import Services

TEST_KEY = "sk-test-DO-NOT-LEAK-4f3c2b1a"


def make_app(
    tmp_path: Path,
    base_url: str,
    *,
    enter_sends: bool = True,
    model: str = "gpt-4o-mini",
    theme: str | None = "tui-chat-dark",
    api_key: str | None = TEST_KEY,
    prices: dict[str, ModelPrice] | None = None,
    keys: dict[str, str] | None = None,
    **profile_overrides: Any,
) -> TuiChatApp:
    """An app whose files live in tmp_path and whose only profile points at the test server."""
    paths = AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
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
    )
    return TuiChatApp(Services.create(paths, config, []))


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], *, timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until `condition()` holds; fail with `what` if it never does."""
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


def chat(app: TuiChatApp) -> ChatScreen:
    """The app's main screen, whatever dialog is on top of it."""
    return next(s for s in app.screen_stack if isinstance(s, ChatScreen))


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

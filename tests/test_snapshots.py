"""Snapshots of the screens that matter, pinned as SVG (pytest-textual-snapshot).

The clock is frozen (message times, streaming figures) and the time zone is UTC so a snapshot
changes only when what the user would see changes. Update with `pytest --snapshot-update` and
look at the diff report before committing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from app_harness import chat, make_app, reply_finished, reply_streamed, wait_for, wait_until_idle
from image_files import png
from openai_server import FakeOpenAIServer, Script
from textual.pilot import Pilot
from tool_harness import tools_test_server

from tui_chat.domain import Conversation, Message, ToolCall, Usage
from tui_chat.flow.tool_round import DECLINED
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.screens.tool_approval import ToolApprovalDialog

FROZEN = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)

CODE_REPLY = """Here is an iterative version, which runs in O(n) time:

```python
def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
```

| n | fib(n) |
|---|--------|
| 10 | 55 |
| 20 | 6765 |

- no recursion, so no stack limit
- works for **large** `n`
"""


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("tui_chat.domain.conversation.utc_now", lambda: FROZEN)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def frozen_app(tmp_path: Path, server: FakeOpenAIServer, **options: object) -> TuiChatApp:
    app = make_app(tmp_path, server.base_url, **options)  # type: ignore[arg-type]
    app.services.clock = lambda: 1000.0
    return app


def save_conversations(tmp_path: Path, *conversations: Conversation) -> None:
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    )
    for conversation in conversations:
        store.save(conversation)


def fib_conversation(conversation_id: str = "20250115-093000-f1b0") -> Conversation:
    conversation = Conversation(
        id=conversation_id,
        title="Fibonacci in Python",
        created=FROZEN,
        updated=FROZEN,
        profile="test",
        model="gpt-4o-mini",
        system="You are a concise senior Python engineer.",
    )
    conversation.messages = [
        Message(
            role="user", content="Write fib in Python, iteratively.", created=FROZEN, usage=None
        ),
        Message(
            role="assistant",
            content=CODE_REPLY,
            created=FROZEN,
            model="gpt-4o-mini",
            finish_reason="stop",
            cost_usd=0.0000412,
            usage=Usage(prompt_tokens=31, completion_tokens=112),
        ),
    ]
    return conversation


async def settled(pilot: Pilot[None]) -> None:
    """Wait for the background loads (list, encodings, prices) so the screen is final."""
    app = pilot.app
    assert isinstance(app, TuiChatApp)
    await wait_for(pilot, lambda: app.services.counter.ready, what="encodings")
    await wait_until_idle(pilot)
    await steady_cursor(pilot)


async def steady_cursor(pilot: Pilot[None]) -> None:
    """The last step before a picture: the composer focused with a cursor that does not blink,
    and no toasts, so the picture does not depend on the moment it is taken."""
    app = pilot.app
    assert isinstance(app, TuiChatApp)
    composer = chat(app).composer
    composer.cursor_blink = False
    if app.screen is chat(app):
        composer.focus()
        await wait_for(pilot, lambda: composer.has_focus, what="the composer's focus")
    app.clear_notifications()
    # The toasts go from the screen a refresh later (a dialog pushed just before may still
    # carry the one raised when the reply started): wait until none is drawn.
    await wait_for(pilot, lambda: not app.screen.query("Toast"), what="no toast on screen")
    await pilot.pause()


async def conversation_opened(pilot: Pilot[None]) -> None:
    """Settled, with the saved two-message conversation open in the pane."""
    await settled(pilot)
    await wait_for(
        pilot, lambda: len(pilot.app.screen.conversation.messages) == 2, what="the conversation"
    )
    await wait_until_idle(pilot)
    await steady_cursor(pilot)


def test_empty_state_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=settled
    )


@pytest.mark.parametrize("theme", ["tui-chat-dark", "tui-chat-light", "ansi-16"])
def test_conversation_with_code_blocks(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer, theme: str
) -> None:
    save_conversations(tmp_path, fib_conversation())

    assert snap_compare(
        frozen_app(tmp_path, openai_server, theme=theme),
        terminal_size=(100, 34),
        run_before=conversation_opened,
    )


def test_80x24_layout_with_a_conversation(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    older = fib_conversation("20250114-080000-0a0a")
    older.title = "Older chat about tmux"
    save_conversations(tmp_path, older, fib_conversation())

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=conversation_opened
    )


def test_reply_with_folded_thinking_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    conversation = fib_conversation()
    conversation.messages[1].content = "Two variables, one loop:\n\n```python\na, b = b, a + b\n```"
    conversation.messages[1].thinking = "They want it iterative.\nTwo variables, one loop."
    conversation.messages[1].thinking_seconds = 12.4
    conversation.messages[1].thinking_tokens = 840
    save_conversations(tmp_path, conversation)

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=conversation_opened
    )


def test_reply_mid_stream(snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Script(text=CODE_REPLY, chunk_chars=8, stall_after_chunks=30))

    async def streaming(pilot: Pilot[None]) -> None:
        await settled(pilot)
        screen = pilot.app.screen
        screen.composer.set_text("Write fib in Python, iteratively.")
        await pilot.press("enter")
        await wait_for(
            pilot,
            reply_streamed(screen, 30 * 8 - 1),
            what="30 chunks",
        )
        # The pane repaints at most ~20 times a second; the reply stalls, so its worker runs on.
        await wait_for(pilot, lambda: not screen.pane.repaint_pending, what="the repaint")
        await steady_cursor(pilot)

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(100, 30), run_before=streaming
    )


# Error sentences name the server (host:port), so this test's server listens on a fixed port.
FIXED_PORT = 47123


@pytest.fixture
def fixed_port_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer(port=FIXED_PORT).start()
    try:
        yield server
    finally:
        server.stop()


def test_error_shown_inline(
    snap_compare, tmp_path: Path, fixed_port_server: FakeOpenAIServer
) -> None:
    openai_server = fixed_port_server
    openai_server.enqueue(
        Script(
            status=404,
            error_message="The model `gpt-9` does not exist",
            error_code="model_not_found",
            error_type="invalid_request_error",
        )
    )

    async def failed(pilot: Pilot[None]) -> None:
        await settled(pilot)
        screen = pilot.app.screen
        screen.composer.set_text("Hello, gpt-9?")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                len(screen.conversation.messages) == 2
                and screen.conversation.messages[1].finish_reason == "error"
                and not screen.streaming
            ),
            what="the error",
        )
        await wait_until_idle(pilot)
        await steady_cursor(pilot)

    assert snap_compare(
        frozen_app(tmp_path, openai_server, model="gpt-9"),
        terminal_size=(100, 30),
        run_before=failed,
    )


def test_help_screen_lists_keys_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    async def help_open(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
        await pilot.pause()

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=help_open
    )


def tool_conversation() -> Conversation:
    """A question answered with two tool calls, one run and one declined."""
    paris_time = '{\n  "timezone": "Europe/Paris",\n  "datetime": "2025-01-15T10:30:00+01:00"\n}'
    conversation = Conversation(
        id="20250115-093000-7001",
        title="Time in Paris and Tokyo",
        created=FROZEN,
        updated=FROZEN,
        profile="test",
        model="gpt-4o-mini",
    )
    asked = Message(
        role="assistant",
        content="",
        created=FROZEN,
        model="gpt-4o-mini",
        finish_reason="tool_calls",
        usage=Usage(prompt_tokens=120, completion_tokens=40),
        tool_calls=[
            ToolCall(
                "call_1",
                "get_current_time",
                '{"timezone": "Europe/Paris"}',
                "done",
                0.25,
                result=paris_time,
            ),
            ToolCall(
                "call_2",
                "get_current_time",
                '{"timezone": "Asia/Tokyo"}',
                "declined",
                result=DECLINED,
            ),
        ],
    )
    conversation.messages = [
        Message(role="user", content="What time is it in Paris and Tokyo?", created=FROZEN),
        asked,
        Message(
            role="assistant",
            content="It is 10:30 in Paris; you declined the Tokyo lookup.",
            created=FROZEN,
            model="gpt-4o-mini",
            finish_reason="stop",
            usage=Usage(prompt_tokens=180, completion_tokens=14),
        ),
    ]
    return conversation


def test_tool_calls_collapsed_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    save_conversations(tmp_path, tool_conversation())

    async def opened(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await wait_for(
            pilot, lambda: len(chat(pilot.app).conversation.messages) == 3, what="the calls"
        )
        await wait_until_idle(pilot)
        await steady_cursor(pilot)

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=opened
    )


def test_tool_results_unfolded_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    save_conversations(tmp_path, tool_conversation())

    async def unfolded(pilot: Pilot[None]) -> None:
        await settled(pilot)
        screen = chat(pilot.app)
        await wait_for(pilot, lambda: len(screen.conversation.messages) == 3, what="the calls")
        await wait_until_idle(pilot)
        screen.pane.focus()
        screen.pane.selected_index = 1  # the reply that made the calls
        await pilot.press("enter")
        await wait_until_idle(pilot)
        await steady_cursor(pilot)

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=unfolded
    )


@pytest.mark.slow  # a real MCP server process
def test_tool_approval_dialog_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    async def asking(pilot: Pilot[None]) -> None:
        await settled(pilot)
        screen = chat(pilot.app)
        screen.composer.set_text('Say hi through the tool.\ncall echo {"text": "hi"}')
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, ToolApprovalDialog),
            timeout=60,
            what="the approval dialog",
        )
        await wait_for(pilot, lambda: not screen.pane.repaint_pending, what="the repaint")
        await steady_cursor(pilot)

    app = frozen_app(tmp_path, openai_server, mcp_servers=[tools_test_server()])
    assert snap_compare(app, terminal_size=(80, 24), run_before=asking)


@pytest.fixture
def files_to_attach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tui-chat started in a folder holding a text file and a screenshot."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("The build fails on step 3.\nSee the log.\n")
    (folder / "shot.png").write_bytes(png(1280, 720))
    monkeypatch.chdir(folder)
    return folder


async def attach_by_typing(pilot: Pilot[None], *names: str) -> None:
    """Type `@` and each name's start, and take it with Tab, one file after the other."""
    screen = chat(pilot.app)  # type: ignore[arg-type]
    for count, name in enumerate(names, start=1):
        await pilot.press("@", *name[:4])
        await wait_for(pilot, lambda n=name: screen.path_menu.chosen == n, what=name)
        await pilot.press("tab")
        await wait_for(pilot, lambda c=count: len(screen.files.waiting) == c, what="attached")


def test_files_waiting_above_the_composer_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer, files_to_attach: Path
) -> None:
    async def attached(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press(*"what fails?", "space")
        await attach_by_typing(pilot, "notes.txt", "shot.png")
        await wait_until_idle(pilot)
        await steady_cursor(pilot)

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=attached
    )


def test_a_sent_message_with_files_at_80x24(
    snap_compare, tmp_path: Path, openai_server: FakeOpenAIServer, files_to_attach: Path
) -> None:
    async def sent(pilot: Pilot[None]) -> None:
        await settled(pilot)
        screen = chat(pilot.app)  # type: ignore[arg-type]
        screen.composer.set_text("Why does @notes.txt fail? See @shot.png")
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        await wait_for(
            pilot,
            lambda: (
                screen.files.count_of(screen.conversation.messages[0].attachments[0]) is not None
            ),
            what="counted",
        )
        await wait_until_idle(pilot)
        await steady_cursor(pilot)

    assert snap_compare(
        frozen_app(tmp_path, openai_server), terminal_size=(80, 24), run_before=sent
    )

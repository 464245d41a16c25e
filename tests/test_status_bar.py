"""The status bar stays one line at every width: 80x24 over SSH gives the message pane every row.

The app tests drive the real app at 80x24 against the test server; the width sweeps call the
bar's line-building directly, since they ask the same question at a hundred widths.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_harness import chat, make_app, reply_finished, send, wait_for
from openai_server import FakeOpenAIServer, Script
from textual.pilot import Pilot

from tui_chat.config import ModelPrice
from tui_chat.domain import Conversation, Message, Spend
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.widgets.status_bar import StatusBar, StatusFigures, status_line

PRICES = {"gpt-4o-mini": ModelPrice(input=0.15, output=0.6, context_window=128_000)}
GAUGE = re.compile(r"[█░]{4,}")  # the context gauge, at least its leanest form
# The live speed and clock: "▶ 93 tok 41/s 3.2s", "▶ 41 tok/s 3.2s", "▶ 41/s 12s"...
LIVE = re.compile(r"▶ .*?\d+( tok)?/s( ·)? \d+(\.\d)?s")


def status_text(app: TuiChatApp) -> str:
    """The status bar's line as the user reads it."""
    bar = chat(app).query_one(StatusBar)
    return "".join(segment.text for segment in bar.render_line(0)).strip()


@contextlib.asynccontextmanager
async def counting_app_at_80x24(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> AsyncIterator[tuple[TuiChatApp, Pilot[None], ChatScreen]]:
    """The app at 80x24 with known prices, once its encodings count exactly."""
    app = make_app(tmp_path, openai_server.base_url, prices=PRICES)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.services.counter.ready, what="encodings")
        yield app, pilot, chat(app)


def assert_one_line_under_the_composer(screen: ChatScreen, rows: int) -> None:
    """The bar is one row; the pane gets every row the composer, bar and footer leave."""
    bar = screen.query_one(StatusBar)
    assert bar.size.height == 1
    assert screen.pane.size.height == rows - screen.composer.outer_size.height - 1 - 1


async def start_a_stalled_reply(pilot: Pilot[None], openai_server: FakeOpenAIServer) -> None:
    """Send a message whose reply streams a little text and then hangs until Esc."""
    app = pilot.app
    assert isinstance(app, TuiChatApp)
    screen = chat(app)
    openai_server.enqueue(
        Script(text="Counting up: " + "one two three " * 40, stall_after_chunks=8)
    )
    await send(pilot, "count for me")
    await wait_for(
        pilot,
        lambda: (
            screen.live_figures.figures.streaming and screen.live_figures.figures.reply_tokens > 0
        ),
        what="the reply's first text",
    )
    await wait_for(pilot, lambda: LIVE.search(status_text(app)) is not None, what="live figures")


async def test_at_80x24_the_status_bar_is_one_line_with_the_key_figures(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    async with counting_app_at_80x24(tmp_path, openai_server) as (app, pilot, screen):
        await send(pilot, "hello there")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        await wait_for(
            pilot, lambda: screen.live_figures.figures.spent.known_usd > 0, what="the spend"
        )
        await pilot.press(*"and a follow-up")
        await wait_for(
            pilot, lambda: screen.live_figures.figures.composer_tokens > 0, what="the draft count"
        )
        await pilot.pause()

        idle = status_text(app)
        assert_one_line_under_the_composer(screen, 24)
        assert re.search(r"✎ \d+", idle), idle  # the draft's tokens
        assert re.search(r"ctx \d+/128k", idle), idle  # context used of the window
        assert GAUGE.search(idle) and "%" in idle, idle
        assert re.search(r"next <?\$", idle), idle  # what the next send costs
        assert "…" not in idle  # nothing cut off
        pane_rows = screen.pane.size.height

        screen.composer.clear()
        await start_a_stalled_reply(pilot, openai_server)
        streaming = status_text(app)
        assert_one_line_under_the_composer(screen, 24)
        assert screen.pane.size.height == pane_rows  # streaming does not take a row
        assert LIVE.search(streaming) and "tok/s" in streaming, streaming
        assert re.search(r"✎ \d+", streaming), streaming
        assert re.search(r"\d+/128k", streaming) and GAUGE.search(streaming), streaming
        assert "$" in streaming and "…" not in streaming, streaming

        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen, 4), what="the stopped reply")


# Down to 48 columns beside the sidebar (a 20-cell bar); at 40 the user hides the sidebar.
@pytest.mark.parametrize(
    ("columns", "sidebar"), [(72, True), (64, True), (56, True), (48, True), (40, False)]
)
async def test_narrower_terminals_drop_figures_instead_of_wrapping(
    tmp_path: Path, openai_server: FakeOpenAIServer, columns: int, sidebar: bool
) -> None:
    async with counting_app_at_80x24(tmp_path, openai_server) as (app, pilot, screen):
        await start_a_stalled_reply(pilot, openai_server)
        if not sidebar:
            await pilot.press("ctrl+b")
        assert screen.sidebar.display is sidebar
        await pilot.resize_terminal(columns, 24)
        await wait_for(pilot, lambda: screen.size.width == columns, what="the resize")
        await pilot.pause()

        bar = screen.query_one(StatusBar)
        assert_one_line_under_the_composer(screen, 24)
        assert len(status_text(app)) <= bar.content_size.width
        assert LIVE.search(status_text(app)), status_text(app)  # the live figures stay first

        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen), what="the stopped reply")
        await pilot.pause()
        assert_one_line_under_the_composer(screen, 24)
        assert status_text(app).startswith("✎")  # the draft's count leads once idle


# ------------------------------------------------------------- the line at every width
IDLE = StatusFigures(
    model="gpt-4o-mini",
    profile="openai",
    composer_tokens=12,
    prompt_tokens=1_234,
    counts_approximate=False,
    context_window=128_000,
    next_cost_usd=0.000185,
    spent=Spend(0.0312),
)
STREAMING = IDLE.with_changes(
    streaming=True, reply_tokens=93, tokens_per_second=41.0, elapsed_seconds=3.2
)
WAITING = STREAMING.with_changes(waiting_note="thinking", reply_tokens=0, elapsed_seconds=0.4)

# What the user sees of each figure, from the least important to the most.
SHOWN = {
    "profile": lambda line: "@ openai" in line,
    "model": lambda line: "gpt-4o-mini" in line,
    "spent": lambda line: "spent $0.03" in line,
    "percent": lambda line: "1%" in line,
    "next send": lambda line: "$0.0002" in line,
    "gauge": lambda line: GAUGE.search(line) is not None,
    "context": lambda line: "1.2k/128k" in line,
}


@pytest.mark.parametrize("figures", [IDLE, STREAMING, WAITING], ids=["idle", "stream", "wait"])
def test_the_line_fits_every_width_and_figures_go_least_important_first(
    figures: StatusFigures,
) -> None:
    shown_before = set(SHOWN)
    for width in range(200, 9, -1):
        line = status_line(figures, width).plain
        assert len(line) <= width, (width, line)
        shown = {name for name, test in SHOWN.items() if test(line)}
        assert shown <= shown_before, f"{shown - shown_before} came back at {width}: {line}"
        shown_before = shown
        # A figure goes only after every less important one has gone.
        names = list(SHOWN)
        kept = [names.index(name) for name in shown]
        if kept:
            assert set(names[min(kept) :]) <= shown, (width, line)


def test_at_wide_terminals_everything_shows_with_labels() -> None:
    line = status_line(STREAMING, 158).plain  # a 200-column terminal beside the wide sidebar
    assert line == (
        "▶ 93 tok · 41 tok/s · 3.2s │ ✎ draft 12 tok │ context 1.2k/128k ░░░░░░░░ 1% │ "
        "next send $0.0002 │ spent $0.03 │ gpt-4o-mini @ openai"
    )


def test_at_80_columns_idle_and_streaming_keep_the_figures_that_matter() -> None:
    bar_width = 80 - 26 - 2  # the narrow sidebar and the bar's padding
    assert status_line(IDLE, bar_width).plain == "✎ 12 │ ctx 1.2k/128k ░░░░░░░░ 1% │ next $0.0002"
    assert status_line(STREAMING, bar_width).plain == (
        "▶ 41 tok/s 3.2s │ ✎ 12 │ 1.2k/128k ░░░░░ │ $0.0002"
    )


def test_the_layout_holds_still_while_the_speed_and_clock_tick() -> None:
    """The bar picks its layout for the widest figures a reply plausibly reaches, so labels do
    not flicker on and off as a digit comes and goes."""

    def shape(line: str) -> str:
        return re.sub(r"\d+(\.\d+)?k?", "N", line)

    for width in range(30, 120):
        shapes = {
            shape(status_line(STREAMING.with_changes(**moment), width).plain)
            for moment in (
                {"tokens_per_second": 5.0, "elapsed_seconds": 0.1, "reply_tokens": 3},
                {"tokens_per_second": 99.0, "elapsed_seconds": 9.9, "reply_tokens": 999},
                {"tokens_per_second": 60.0, "elapsed_seconds": 42.0, "reply_tokens": 2_500},
            )
        }
        assert len(shapes) == 1, (width, shapes)


async def test_the_clock_ticks_while_nothing_arrives(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """A model thinking before its first token (or a stalled stream) must not look frozen."""
    openai_server.enqueue(Script(text="Done thinking.", delay_before_response=4))
    app = make_app(tmp_path, openai_server.base_url, prices=PRICES)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await send(pilot, "think hard")
        waiting = re.compile(r"▶ waiting… (\d+\.\d)s")
        await wait_for(pilot, lambda: waiting.search(status_text(app)) is not None, what="wait")
        first = float(waiting.search(status_text(app)).group(1))  # type: ignore[union-attr]

        def later() -> bool:
            shown = waiting.search(status_text(app))
            return shown is not None and float(shown.group(1)) >= first + 1.0

        await wait_for(pilot, later, what="the clock to move on while waiting")
        await wait_for(pilot, reply_finished(screen), what="the reply")


async def test_the_context_gauge_counts_the_message_sent_and_the_reply_so_far(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    async with counting_app_at_80x24(tmp_path, openai_server) as (app, pilot, screen):
        await start_a_stalled_reply(pilot, openai_server)
        conversation = screen.conversation
        sent = app.services.counter.count_messages(
            conversation.model, conversation.system, conversation.messages[:-1]
        )
        recorder = screen.live_figures.recorder
        assert recorder is not None
        await wait_for(
            pilot,
            lambda: (
                screen.live_figures.figures.prompt_tokens
                == sent.tokens + recorder.completion_tokens
            ),
            what="the gauge to hold the sent message and the reply so far",
        )
        assert screen.live_figures.figures.composer_tokens == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.streaming, what="the stop")
        everything = app.services.counter.count_messages(
            conversation.model, conversation.system, conversation.messages
        )
        await wait_for(
            pilot,
            lambda: screen.live_figures.figures.prompt_tokens == everything.tokens,
            what="the recount after the reply",
        )


def test_spent_says_how_many_replies_had_no_known_price() -> None:
    wide, short = 158, 80 - 26 - 2
    mixed = IDLE.with_changes(spent=Spend(0.0312, 2))
    assert "spent $0.03 + 2 unknown │" in status_line(mixed, wide).plain
    unknown = IDLE.with_changes(spent=Spend(0.0, 3))
    assert "spent ? │" in status_line(unknown, wide).plain  # never a guessed $0
    nothing_yet = IDLE.with_changes(spent=Spend())
    assert "spent $0 │" in status_line(nothing_yet, wide).plain  # no reply: nothing spent
    assert status_line(mixed, short).cell_length <= short


async def test_a_conversation_with_unpriced_replies_shows_its_spend_as_partial(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    )
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    conversation.add(Message("user", "priced question"))
    conversation.add(Message("assistant", "priced", finish_reason="stop", cost_usd=0.0312))
    conversation.add(Message("user", "asked while the price table was missing"))
    conversation.add(Message("assistant", "unpriced", finish_reason="stop"))
    conversation.add(Message("user", "and again"))
    conversation.add(Message("assistant", "unpriced too", finish_reason="stop"))
    store.save(conversation)
    app = make_app(tmp_path, openai_server.base_url, prices=PRICES)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: screen.conversation.id == conversation.id, what="opened")
        await wait_for(
            pilot, lambda: "spent $0.03 + 2 unknown" in status_text(app), what="the partial spend"
        )


async def test_the_draft_figure_counts_the_text_typed_and_the_context_the_whole_message(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    async with counting_app_at_80x24(tmp_path, openai_server) as (app, pilot, screen):
        await wait_for(pilot, lambda: status_text(app).startswith("✎ 0 │"), what="✎ 0 at rest")
        empty_context = screen.live_figures.figures.prompt_tokens
        screen.composer.focus()
        await pilot.press("a")
        # One character is one token: not 5 with the message's overhead folded in.
        await wait_for(pilot, lambda: status_text(app).startswith("✎ 1 │"), what="✎ 1")
        draft = app.services.counter.count_draft(screen.conversation.model, "a")
        assert draft.tokens > draft.text_tokens == 1
        # The context gauge counts the message as it would be sent.
        assert screen.live_figures.figures.prompt_tokens == empty_context + draft.tokens
        await pilot.press("backspace")
        await wait_for(pilot, lambda: status_text(app).startswith("✎ 0 │"), what="✎ 0 again")
        assert screen.live_figures.figures.prompt_tokens == empty_context

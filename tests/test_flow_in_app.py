"""The chat screen over the reply flow (tui_chat/flow): what the user sees, and what reaches the
file, when a reply is quit mid-way, cut, too long for the model, or read from a hand-written
file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_harness import (
    chat,
    conversation_files,
    make_app,
    reply_finished,
    reply_streamed,
    send,
    wait_for,
)
from openai_server import FakeOpenAIServer, Script
from textual.widgets import Label

from tui_chat.config import ModelPrice
from tui_chat.ui.screens.dialogs import ConfirmDialog

ENDLESS = " ".join(f"w{i}" for i in range(3000))
Files = dict[str, dict[str, Any]]


async def wait_for_files(
    tmp_path: Path, condition: Callable[[Files], bool], what: str, timeout: float = 20.0
) -> None:
    """Poll the saved files (the app may be gone by now) until `condition` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition(conversation_files(tmp_path)):
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def partial_reply_saved_interrupted(files: Files) -> bool:
    return any(
        len(f["messages"]) == 2 and f["messages"][1].get("finish_reason") == "interrupted"
        for f in files.values()
    )


async def start_an_endless_reply(pilot: Any, server: FakeOpenAIServer) -> None:
    server.enqueue(Script(text=ENDLESS, chunk_chars=5, delay_per_chunk=0.01))
    screen = chat(pilot.app)
    await send(pilot, "tell me everything")
    await wait_for(
        pilot,
        reply_streamed(screen, 40),
        what="part of the reply",
        timeout=30,
    )


def assert_partial_reply_on_disk(tmp_path: Path, shown: str) -> None:
    (saved,) = conversation_files(tmp_path).values()
    prompt, reply = saved["messages"]
    assert prompt["content"] == "tell me everything"
    assert reply["finish_reason"] == "interrupted"
    assert ENDLESS.startswith(reply["content"]) and len(shown) <= len(reply["content"])
    assert len(reply["content"]) < len(ENDLESS)


async def test_ctrl_q_while_a_reply_streams_saves_the_partial_reply_marked_interrupted(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_an_endless_reply(pilot, openai_server)
        screen = chat(app)
        await pilot.press("ctrl+q")
    shown = screen.conversation.messages[1].content
    await wait_for_files(tmp_path, partial_reply_saved_interrupted, "the partial reply saved")
    assert_partial_reply_on_disk(tmp_path, shown)


async def test_quitting_after_the_pane_is_gone_still_saves_the_partial_reply(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """At exit the screen's widgets are removed before the reply's worker ends (the 100,000-line
    test's teardown met a NoMatches there): the reply must be saved all the same."""
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_an_endless_reply(pilot, openai_server)
        screen = chat(app)
        await screen.pane.remove()
        length = len(screen.conversation.messages[1].content)
        await wait_for(
            pilot,
            lambda: len(screen.conversation.messages[1].content) > length + 20,
            what="more of the reply, with no pane to show it",
        )
        app.exit()
    shown = screen.conversation.messages[1].content
    await wait_for_files(tmp_path, partial_reply_saved_interrupted, "the partial reply saved")
    assert_partial_reply_on_disk(tmp_path, shown)


async def test_a_cut_reply_says_once_that_its_text_is_kept_and_how_to_retry(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text="alpha beta gamma delta epsilon", cut_after_chunks=3))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await send(pilot, "go")
        await wait_for(pilot, reply_finished(screen), what="the cut reply")
        assert screen.conversation.messages[1].finish_reason == "cut"
        shown = " ".join(" ".join(screen.pane.visible_text()).replace("▏", " ").split())
    assert "dropped mid-reply" in shown
    assert shown.count("partial reply") == 1, shown
    assert shown.count("retry") == 1, shown


async def test_a_hand_written_reply_without_finish_reason_opens_unmarked(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    folder = tmp_path / "data" / "conversations"
    folder.mkdir(parents=True)
    (folder / "20250101-120000-abcd.toml").write_text(
        'schema = 1\nid = "20250101-120000-abcd"\ntitle = "Notes"\n'
        "created = 2025-01-01T12:00:00Z\nupdated = 2025-01-01T12:00:00Z\n"
        'profile = "test"\nmodel = "gpt-4o-mini"\n\n'
        '[[messages]]\nrole = "user"\ncontent = "What is two and two?"\n'
        "created = 2025-01-01T12:00:00Z\n\n"
        '[[messages]]\nrole = "assistant"\ncontent = "Four, written by hand."\n'
        "created = 2025-01-01T12:00:01Z\n",
        encoding="utf-8",
    )
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await wait_for(
            pilot,
            lambda: "Four, written by hand." in "\n".join(screen.pane.visible_text()),
            what="the hand-written conversation",
        )
        shown = "\n".join(screen.pane.visible_text())
    assert "interrupted" not in shown


WINDOW = 250


@pytest.mark.parametrize("figures", [True, False], ids=["server figure", "no figure"])
async def test_too_long_for_the_model_at_80x24_fits_and_makes_one_fork_that_fits(
    tmp_path: Path, openai_server: FakeOpenAIServer, figures: bool
) -> None:
    # Without the server's figure the window comes from the price book (here: config.toml).
    prices = {} if figures else {"gpt-4o-mini": ModelPrice(0.15, 0.6, context_window=WINDOW)}
    app = make_app(tmp_path, openai_server.base_url, prices=prices)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: app.services.counter.ready, what="encodings")
        for turn in range(3):
            await send(pilot, f"question {turn} " + "words " * 40)
            await wait_for(pilot, reply_finished(screen, 2 * turn + 2), what=f"reply {turn}")
        original_id = screen.conversation.id
        openai_server.context_window = WINDOW
        openai_server.context_error_figures = figures
        await send(pilot, "one more")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the offer")

        dialog = app.screen
        question = dialog.query_one(".dialog-question", Label)
        assert app.screen.region.contains_region(dialog.query_one(".dialog-box").region)
        assert app.screen.region.contains_region(question.region)
        lines = [question.render_line(y).text for y in range(question.size.height)]
        said = " ".join(" ".join(lines).split())
        assert said.endswith("The original conversation is kept."), said
        assert "1 tokens" not in said and "tokens over the 250-token window" in said
        if not figures:
            assert "about" in said  # our own count, not the server's

        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                screen.conversation.id != original_id
                and not screen.streaming
                and len(screen.conversation.messages) >= 2
                and screen.conversation.messages[-1].finish_reason is not None
            ),
            what="the fork's reply",
        )
        fork = screen.conversation
        assert fork.messages[-1].finish_reason == "stop", fork.messages[-1].error
        assert fork.messages[-2].content == "one more"
        assert not isinstance(app.screen, ConfirmDialog)  # no second offer
    files = conversation_files(tmp_path)
    assert sorted(files) == sorted([original_id, fork.id])  # one fork, the original kept
    assert len(files[original_id]["messages"]) == 8

"""A model's thinking in the app, at 80x24: one folded line above the answer, unfolded with `t`,
live while the model thinks, left out of a copy, folded in an export."""

from __future__ import annotations

from pathlib import Path

from app_harness import (
    chat,
    make_app,
    notifications,
    reply_finished,
    run_palette_command,
    send,
    wait_for,
)
from openai_server import FakeOpenAIServer, Script

from tui_chat.ui.app import TuiChatApp

SIZE = (80, 24)
THOUGHT = "Ninety-one looks prime.\nBut 7 times 13 is 91, so it is not prime after all."
ANSWER = "No: 91 = 7 × 13."


def screen_text(app: TuiChatApp) -> str:
    return "\n".join(chat(app).pane.visible_text())


async def answered_with_thinking(pilot, app: TuiChatApp, form: str = "think") -> None:
    screen = chat(app)
    await send(pilot, "Is 91 prime?")
    await wait_for(pilot, reply_finished(screen), what="the reply")
    screen.pane.focus()
    await pilot.press("end")
    await wait_for(pilot, lambda: "Thought" in screen_text(app), what="the thinking line")


async def test_the_thinking_is_one_folded_line_above_the_answer_without_tags(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    # 3 characters per delta: the tags arrive cut, `<th` + `ink` + `>\nN`.
    openai_server.enqueue(
        Script(text=ANSWER, reasoning=THOUGHT, reasoning_as="think", chunk_chars=3)
    )
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await answered_with_thinking(pilot, app)
        text = screen_text(app)
        reply = chat(app).conversation.messages[1]

        assert f"▸ Thought for {reply.thinking_seconds:.1f} s, " in text
        assert f", {reply.thinking_tokens} tokens" in text
        assert ANSWER in text
        assert "think>" not in text and "7 times 13" not in text
        lines = chat(app).pane.visible_text()
        thought_row = next(i for i, line in enumerate(lines) if "Thought for" in line)
        assert ANSWER in lines[thought_row + 2]  # below it, after one blank line


async def test_t_unfolds_the_thinking_of_the_selected_reply_and_folds_it_again(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=ANSWER, reasoning=THOUGHT, reasoning_as="reasoning"))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await answered_with_thinking(pilot, app)

        await pilot.press("t")
        await wait_for(pilot, lambda: "▾ Thought" in screen_text(app), what="unfolded")
        text = screen_text(app)
        assert "Ninety-one looks prime." in text and "7 times 13 is 91" in text
        assert text.index("7 times 13") < text.index(ANSWER)

        await pilot.press("t")
        await wait_for(pilot, lambda: "▸ Thought" in screen_text(app), what="folded")
        assert "7 times 13" not in screen_text(app)

        await pilot.press("k", "t")  # the question has no thinking: says so, changes nothing
        await wait_for(
            pilot,
            lambda: any("no thinking" in n.message for n in notifications(app)),
            what="the notice",
        )


async def test_while_the_model_thinks_the_line_shows_its_last_words_and_the_count_grows(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    thought = "Step one: read the question. \x1b[2J\x1b]0;pwned\x07 Step two: count the primes"
    openai_server.enqueue(
        Script(text=ANSWER, reasoning=thought, chunk_chars=4, stall_after_chunks=0)
    )  # thinks, then stalls before the answer
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await send(pilot, "Is 91 prime?")
        await wait_for(pilot, lambda: "count the primes" in screen_text(app), what="the last words")
        line = next(line for line in screen.pane.visible_text() if "Thinking…" in line)
        assert "▸ Thinking… …" in line and line.rstrip().endswith("the primes")
        assert "\x1b" not in line and "\x07" not in line
        assert screen.conversation.messages[1].content == ""
        # The thinking is counted while it streams, as the answer would be.
        await wait_for(
            pilot, lambda: screen.live_figures.figures.reply_tokens > 10, what="the live count"
        )
        # ...but not in the context gauge: the thinking is never sent with the next message.
        assert screen.live_figures.figures.prompt_tokens < screen.live_figures.figures.reply_tokens
        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen), what="stopped")
        # Stopped mid-thought: what was thought is kept, summed up like a finished one.
        assert screen.conversation.messages[1].thinking.startswith("Step one")
        await wait_for(pilot, lambda: "▸ Thought for" in screen_text(app), what="summary")


async def test_y_copies_the_answer_without_the_thinking(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=ANSWER, reasoning=THOUGHT))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await answered_with_thinking(pilot, app)
        await pilot.press("t", "y")  # unfolded or not, a copy is the answer
        await wait_for(pilot, lambda: app.clipboard == ANSWER, what="the copy")


async def test_an_export_folds_the_thinking_in_details(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=ANSWER, reasoning=THOUGHT, reasoning_as="think"))
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await answered_with_thinking(pilot, app)
        await run_palette_command(pilot, "export to markdown", "Export to Markdown")
        target = tmp_path / "data" / "exports" / f"{chat(app).conversation.id}.md"
        await wait_for(pilot, target.exists, what="the export")
        text = target.read_text(encoding="utf-8")
        assert "<details>\n<summary>Thought for " in text
        assert f"\n\n{THOUGHT}\n\n</details>\n\n{ANSWER}\n" in text
        assert "<think>" not in text


async def test_a_thought_unfolded_while_it_streams_grows_in_place(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    paragraphs = ["First: read the question.", "Second: 91 is 7 × 13.", "Third: so say no."]
    openai_server.enqueue(
        Script(
            text=ANSWER,
            reasoning="\n\n".join(paragraphs),
            chunk_chars=3,
            delay_per_chunk=0.05,
            stall_after_chunks=0,
        )
    )
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await send(pilot, "Is 91 prime?")
        await wait_for(pilot, lambda: "Thinking…" in screen_text(app), what="thinking")
        screen.pane.focus()
        await pilot.press("end", "t")
        await wait_for(pilot, lambda: "▾ Thinking…" in screen_text(app), what="unfolded")
        await wait_for(pilot, lambda: "so say no." in screen_text(app), what="the whole thought")
        lines = [line[2:].rstrip() for line in screen.pane.visible_text()]
        start = lines.index("First: read the question.")
        assert lines[start : start + 5] == [paragraphs[0], "", paragraphs[1], "", paragraphs[2]]
        await pilot.press("escape")
        await wait_for(pilot, reply_finished(screen), what="stopped")

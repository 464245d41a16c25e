"""The message pane as a user meets it: Markdown replies, streaming, following, keys and copying."""

from __future__ import annotations

from itertools import pairwise
from typing import Self

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.ui.theme_colors import derive_app_variables
from tui_chat.ui.widgets.message_layout import EMPTY_HINT
from tui_chat.ui.widgets.message_pane import MessagePane

CODE_REPLY = (
    "Here is the function:\n\n"
    "```python\ndef fib(n):\n    a, b = 0, 1\n    return a\n```\n\n"
    "| col | value |\n|-----|-------|\n| a   | 1     |\n\n"
    "- first point\n- second point\n\n"
    "> a quoted line\n\n"
    "## A heading\n\nThat is all."
)


class PaneApp(App[None]):
    """Just the pane, focused, recording what it asks the app to do (no stylesheet but the
    pane's own)."""

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # The pane's TCSS uses tui-chat's own variables, as the real app provides them.
        return derive_app_variables(self.current_theme)

    def __init__(
        self, conversation: Conversation | None, pane: type[MessagePane] = MessagePane
    ) -> None:
        super().__init__()
        self.conversation = conversation
        self.pane_type = pane
        self.copies: list[MessagePane.CopyRequested] = []
        self.edits: list[int] = []

    def compose(self) -> ComposeResult:
        yield self.pane_type()

    def on_mount(self) -> None:
        pane = self.query_one(MessagePane)
        pane.focus()
        pane.show_conversation(self.conversation)

    def on_message_pane_copy_requested(self, event: MessagePane.CopyRequested) -> None:
        self.copies.append(event)

    def on_message_pane_edit_requested(self, event: MessagePane.EditRequested) -> None:
        self.edits.append(event.index)


def conversation_with(*messages: Message, system: str = "") -> Conversation:
    conversation = Conversation.new(profile="test", model="m", system=system)
    for message in messages:
        conversation.add(message)
    return conversation


def long_conversation(count: int) -> Conversation:
    messages = []
    for i in range(count):
        if i % 2 == 0:
            messages.append(Message("user", f"question {i}"))
        else:
            messages.append(Message("assistant", f"answer {i}\n\nsome more words", model="m"))
    return conversation_with(*messages)


def screen_text(pane: MessagePane) -> str:
    return "\n".join(pane.visible_text())


def visible_strips(pane: MessagePane) -> list[Strip]:
    return [pane.render_line(y) for y in range(pane.scrollable_content_region.height)]


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the pane has shown every change (its repaints are throttled)."""
    pane = pilot.app.query_one(MessagePane)
    await pilot.pause(0.06)
    while pane.repaint_pending:
        await pilot.pause(0.05)
    await pilot.pause()


async def test_code_block_renders_highlighted_with_the_rest_of_the_markdown() -> None:
    app = PaneApp(conversation_with(Message("user", "fib?"), Message("assistant", CODE_REPLY)))
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)
        text = screen_text(pane)
        for visible in ("def fib(n):", "return a", "first point", "a quoted line", "A heading"):
            assert visible in text
        assert "```" not in text and "|-----|" not in text  # Markdown rendered, not shown raw
        code_line = next(s for s in visible_strips(pane) if "def fib(n):" in s.text)
        colours = {seg.style.color for seg in code_line if seg.style and seg.text.strip()}
        assert len(colours) >= 2  # keyword, name and punctuation differ: highlighted


async def test_streamed_tokens_appear_and_the_view_follows() -> None:
    conversation = long_conversation(40)
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await settle(pilot)
        reply = conversation.add(Message("assistant", "", model="m"))
        pane.message_added()
        index = len(conversation.messages) - 1
        for word in ["Streaming ", "words ", "arrive\n\n", "and ", "then ", "FINALWORD"]:
            reply.content += word
            pane.message_changed(index)
        await settle(pilot)
        assert "FINALWORD" in screen_text(pane)
        assert pane.following and pane.scroll_y == pane.max_scroll_y


async def test_scrolling_up_stops_following_and_end_resumes() -> None:
    conversation = long_conversation(40)
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(MessagePane)
        reply = conversation.add(Message("assistant", "start", model="m"))
        pane.message_added()
        await settle(pilot)
        await pilot.press("pageup")
        assert not pane.following
        held = pane.scroll_y
        for n in range(30):
            reply.content += f"\n\nparagraph {n} LATEST{n}"
            pane.message_changed(len(conversation.messages) - 1)
        await settle(pilot)
        assert pane.scroll_y == held
        assert "LATEST29" not in screen_text(pane)
        await pilot.press("end")
        await settle(pilot)
        assert pane.following and "LATEST29" in screen_text(pane)


async def test_up_down_and_j_k_move_the_selection_between_messages() -> None:
    app = PaneApp(long_conversation(6))
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(MessagePane)
        assert pane.selected_index is None
        await pilot.press("k")
        assert pane.selected_index == 5
        await pilot.press("up", "k")
        assert pane.selected_index == 3
        await pilot.press("j")
        assert pane.selected_index == 4
        await pilot.press("down", "down", "down")
        assert pane.selected_index == 5
        await pilot.press("home")
        assert pane.selected_index == 0
        assert "question 0" in screen_text(pane)


async def test_y_copies_the_selected_message_and_c_only_its_code() -> None:
    app = PaneApp(
        conversation_with(Message("user", "fib?"), Message("assistant", CODE_REPLY, model="m"))
    )
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press("k", "y")
        await pilot.press("c")
        await pilot.pause()
        assert [(c.text, c.what) for c in app.copies] == [
            (CODE_REPLY, "message"),
            ("def fib(n):\n    a, b = 0, 1\n    return a\n", "code block"),
        ]
        await pilot.press("k", "y")
        await pilot.pause()
        assert app.copies[-1].text == "fib?"


async def test_e_edits_only_user_messages() -> None:
    app = PaneApp(conversation_with(Message("user", "fib?"), Message("assistant", "fine")))
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.press("k", "e")  # the assistant reply: refused
        await pilot.press("k", "e")  # the user's message
        await pilot.pause()
        assert app.edits == [0]


async def test_escape_sequences_in_messages_never_reach_the_terminal() -> None:
    hostile = "title\x1b]0;pwned\x07 clip\x1b]52;c;ZXZpbA==\x07 clear\x1b[2J csi\x9b31m end"
    app = PaneApp(
        conversation_with(
            Message("user", hostile),
            Message(
                "assistant", f"# {hostile}\n\n```\n{hostile}\n```\n\n- {hostile}", model=hostile
            ),
            Message("assistant", "", finish_reason="error", error=hostile),
            system=hostile,
        )
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)
        strips = visible_strips(pane)
        text = "".join(seg.text for strip in strips for seg in strip)
        assert "pwned" in text and "end" in text  # the text is shown...
        for control in ("\x1b", "\x07", "\x9b"):
            assert control not in text  # ...but nothing a terminal would act on


async def test_resizing_rewraps_the_text() -> None:
    words = " ".join(f"word{n}" for n in range(60))
    app = PaneApp(conversation_with(Message("assistant", words, model="m")))
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(MessagePane)
        await settle(pilot)
        wide = [line for line in pane.visible_text() if "word" in line]
        await pilot.resize_terminal(50, 30)
        await settle(pilot)
        narrow = [line for line in pane.visible_text() if "word" in line]
        assert len(narrow) > len(wide)
        assert all(len(line) <= 50 for line in narrow)
        assert "word59" in screen_text(pane)


async def test_interrupted_cut_and_error_replies_are_marked() -> None:
    app = PaneApp(
        conversation_with(
            Message("user", "go"),
            Message("assistant", "half a repl", finish_reason="interrupted"),
            Message("assistant", "half a reply", finish_reason="cut"),
            Message("assistant", "", finish_reason="error", error="Rate limited (429)"),
        )
    )
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app.query_one(MessagePane))
        assert "interrupted" in text
        assert "connection lost — partial reply" in text
        assert "Rate limited (429)" in text and "ctrl+r to retry" in text


async def test_empty_conversation_says_what_to_do_and_system_prompt_is_collapsed() -> None:
    conversation = conversation_with(system="You are a pirate.\nSpeak only in rhymes.")
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)
        text = screen_text(pane)
        assert EMPTY_HINT in text
        assert "System: You are a pirate.…" in text and "rhymes" not in text
        conversation.add(Message("user", "ahoy"))
        pane.message_added()
        await settle(pilot)
        text = screen_text(pane)
        assert "ahoy" in text and EMPTY_HINT not in text
        conversation.system = "You are a librarian."
        pane.system_changed()
        await settle(pilot)
        text = screen_text(pane)
        assert "System: You are a librarian." in text and "pirate" not in text


async def test_opening_a_long_conversation_renders_only_what_is_on_screen() -> None:
    conversation = long_conversation(2000)
    conversation.add(Message("assistant", "THE LAST WORD", model="m"))
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)
        assert "THE LAST WORD" in screen_text(pane)
        rendered = sum(block.rendered for block in pane._blocks)
        assert rendered < 20  # the other ~1,990 messages cost nothing until scrolled to


async def test_mouse_drag_selects_text_across_lines() -> None:
    app = PaneApp(conversation_with(Message("user", "alpha beta\ngamma delta")))
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)
        rows = pane.visible_text()
        first = next(y for y, row in enumerate(rows) if "alpha" in row)
        # Press on "beta", drag to the last letter of "gamma", release, as a user selects.
        await pilot.mouse_down(pane, offset=(rows[first].index("beta"), first))
        await pilot.hover(pane, offset=(rows[first + 1].index("gamma") + 4, first + 1))
        await pilot.mouse_up(pane, offset=(rows[first + 1].index("gamma") + 4, first + 1))
        await pilot.pause()
        assert app.screen.get_selected_text() == "beta\ngamma"


def all_lines(pane: MessagePane) -> list[str]:
    lines = []
    for y in range(pane.virtual_size.height):
        line = pane._full_line(y)
        lines.append("" if line is None else line.text.rstrip())
    return lines


async def test_a_streamed_reply_ends_up_exactly_as_it_renders_when_reopened() -> None:
    long_code = "```python\n" + "\n".join(f"value_{n} = step({n})" for n in range(80)) + "\n```"
    long_list = "\n".join(f"- idea {n} with *emphasis*" for n in range(40))
    reply_text = f"{CODE_REPLY}\n\n{long_code}\n\n{long_list}\n\n1. one\n2. two\n\nDone."
    conversation = conversation_with(Message("user", "show me"))
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(MessagePane)
        reply = conversation.add(Message("assistant", "", model="m"))
        pane.message_added()
        index = len(conversation.messages) - 1
        middle = reply_text.index("value_70")
        for start in range(0, len(reply_text), 7):
            reply.content = reply_text[: start + 7]
            pane.message_changed(index)
            if start <= middle < start + 7:
                await settle(pilot)
                # Mid-way through the long code block: its newest lines are on screen.
                assert "value_69 = step(69)" in screen_text(pane)
        reply.finish_reason = "stop"
        pane.message_changed(index)
        await settle(pilot)
        streamed = all_lines(pane)
        pane.show_conversation(conversation)
        await settle(pilot)
        assert all_lines(pane) == streamed
        assert "Done." in screen_text(pane)


async def test_j_and_k_read_through_a_message_taller_than_the_screen() -> None:
    long_reply = "\n\n".join(f"paragraph {n}" for n in range(40))
    app = PaneApp(
        conversation_with(
            Message("user", "tell me a lot"),
            Message("assistant", long_reply, model="m"),
            Message("user", "thanks"),
        )
    )
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.press("k", "k")  # reached from below: the end of the long reply shows
        assert pane.selected_index == 1 and "paragraph 39" in screen_text(pane)
        await pilot.press("k")  # pages up inside the reply instead of leaving it
        assert pane.selected_index == 1 and "paragraph 39" not in screen_text(pane)
        await pilot.press(*["k"] * 8)
        assert pane.selected_index == 0 and "tell me a lot" in screen_text(pane)
        await pilot.press("j")  # reached from above: its start shows
        assert pane.selected_index == 1 and "paragraph 0" in screen_text(pane)
        await pilot.press("j")
        assert pane.selected_index == 1 and "paragraph 0" not in screen_text(pane)


async def test_changing_the_code_theme_recolours_code_blocks() -> None:
    app = PaneApp(conversation_with(Message("assistant", CODE_REPLY, model="m")))
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)

        def code_colours() -> set[object]:
            line = next(s for s in visible_strips(pane) if "def fib(n):" in s.text)
            return {(seg.style.color, seg.style.bgcolor) for seg in line if seg.style}

        before = code_colours()
        pane.code_theme = "solarized-light"
        await settle(pilot)
        assert code_colours() != before
        assert "def fib(n):" in screen_text(pane)


async def test_header_shows_role_model_and_the_apps_token_label() -> None:
    app = PaneApp(
        conversation_with(Message("user", "hi"), Message("assistant", "hello", model="gpt-x"))
    )
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(MessagePane)
        pane.token_label = lambda message: f"{len(message.content)} tok"
        await settle(pilot)
        lines = pane.visible_text()
        assert any("You" in line and "2 tok" in line for line in lines)
        assert any("Assistant" in line and "gpt-x" in line and "5 tok" in line for line in lines)


async def test_token_updates_are_batched_into_throttled_repaints() -> None:
    conversation = conversation_with(Message("user", "count"))
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await settle(pilot)
        reply = conversation.add(Message("assistant", "", model="m"))
        pane.message_added()
        await settle(pilot)
        for n in range(300):  # a burst of deltas with no pause: no repaint per delta
            reply.content += f"n{n} "
            pane.message_changed(1)
        assert pane.repaint_pending and "n299" not in screen_text(pane)
        await settle(pilot)
        assert "n299" in screen_text(pane)


async def test_following_a_stream_moves_the_view_a_third_of_a_pane_at_a_time() -> None:
    # Each move of the view redraws (and resends over SSH) the whole pane, so the view does not
    # creep a line per line; the newest line still never leaves the screen.
    conversation = long_conversation(40)
    app = PaneApp(conversation)
    async with app.run_test(size=(80, 21)) as pilot:
        pane = app.query_one(MessagePane)
        await settle(pilot)
        step = pane.scrollable_content_region.height // 3
        reply = conversation.add(Message("assistant", "Counting:", model="m"))
        pane.message_added()
        index = len(conversation.messages) - 1
        positions = [round(pane.scroll_y)]
        for n in range(30):
            reply.content += f"\n\nline {n} NEWEST{n}"
            pane.message_changed(index)
            await settle(pilot)
            assert f"NEWEST{n}" in screen_text(pane)
            positions.append(round(pane.scroll_y))
        moves = [after - before for before, after in pairwise(positions) if after != before]
        assert moves and all(move >= step for move in moves)
        assert pane.following
        reply.finish_reason = "stop"
        pane.message_changed(index)
        await settle(pilot)
        # Finished: no room left below the reply, as when the conversation is reopened.
        assert "NEWEST29" in pane.visible_text()[-2]


class RepaintRecordingPane(MessagePane):
    """The pane, noting the screen regions it asks Textual to repaint (all of it: no region)."""

    def __init__(self) -> None:
        super().__init__()
        self.repaints: list[tuple[Region, ...]] = []

    def refresh(self, *regions: Region, **options: bool) -> Self:
        self.repaints.append(regions)
        return super().refresh(*regions, **options)


async def test_a_streamed_word_repaints_only_where_it_lands() -> None:
    conversation = long_conversation(40)
    app = PaneApp(conversation, pane=RepaintRecordingPane)
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(RepaintRecordingPane)
        reply = conversation.add(Message("assistant", "", model="m"))
        pane.message_added()
        index = len(conversation.messages) - 1
        reply.content = "First paragraph.\n\nThe second one"
        pane.message_changed(index)
        await settle(pilot)
        row = next(y for y, line in enumerate(pane.visible_text()) if "The second one" in line)
        before = pane.visible_text()[row]
        pane.repaints.clear()
        reply.content += " grows"
        pane.message_changed(index)
        await settle(pilot)
        after = pane.visible_text()[row]
        assert after.endswith("The second one grows")
        regions = [region for call in pane.repaints for region in call]
        assert pane.repaints and all(pane.repaints)  # never the whole pane
        assert all(region.y == row and region.height == 1 for region in regions)
        assert min(region.x for region in regions) >= len(before) - 1
        assert max(region.right for region in regions) <= len(after)


async def test_a_line_in_one_style_is_sent_as_one_run() -> None:
    # Textual writes each segment of a line with its own colour codes (~40 bytes), so a line
    # must not come in more pieces than it has styles: the bar, then the words and the blank.
    app = PaneApp(conversation_with(Message("user", "just some words")))
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        pane = app.query_one(MessagePane)
        line = next(strip for strip in visible_strips(pane) if "just some words" in strip.text)
        assert [segment.text.strip() for segment in line] == ["▏", "just some words"]

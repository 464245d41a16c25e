"""The message pane: the open conversation as one virtualised, scrollable list of message blocks.

Why one Line-API widget instead of a widget per message or a Markdown widget per reply: every
layout pass in Textual visits every widget on the screen, and a Markdown document is many widgets,
so a long reply made each streamed token dearer than the last (benchmarks/stream_render.py). Here
the screen holds exactly one widget however long the conversation is. Each message is a
`MessageBlock` that renders itself once per width into cached Strips; `render_line` only looks
lines up. Messages that were never on screen are not rendered at all (their height is estimated
until they are), and a streamed reply is re-rendered at most ~12 times a second, only its
unfinished last Markdown block.

Textual redraws a whole widget when it scrolls or changes its virtual size (it does not use the
terminal's scroll regions), so a repaint sends only the rows whose text changed, and a followed
reply scrolls a third of a pane at a time: the pane is resent whole once every few lines, not on
every line, which is what an SSH link has to carry.

The pane keeps the public interface, its keys, layout and rendering, and gives its other jobs to
objects it owns, none of which knows the pane: `BlockLayout` and `Preamble`
(`message_layout.py`, where each line comes from), `PaneStyles` (`pane_styles.py`, the CSS
read into Rich styles for the blocks and gutters), `RepaintThrottle` and `FollowRoom`
(`stream_repaint.py`, when to repaint a streaming reply and the room below it),
`MessageNavigator` (`message_navigation.py`, where j / k / n / N go), and the functions of
`mouse_selection.py` (text selection) and `row_diff.py` (which cells of a row changed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.tokens import TokenCount
from tui_chat.ui.bindings import MESSAGE_PANE_BINDINGS
from tui_chat.ui.code_styles import DEFAULT_CODE_THEME
from tui_chat.ui.widgets.markdown_lines import code_blocks
from tui_chat.ui.widgets.message_block import MessageBlock, RenderContext
from tui_chat.ui.widgets.message_layout import DEFAULT_HINTS, BlockLayout, Hint, Preamble
from tui_chat.ui.widgets.message_navigation import HitStep, MessageNavigator, Step, View
from tui_chat.ui.widgets.mouse_selection import highlight, selected_text
from tui_chat.ui.widgets.pane_styles import PANE_COMPONENT_CLASSES, PaneStyles
from tui_chat.ui.widgets.row_diff import GUTTER, Row, changed_regions
from tui_chat.ui.widgets.stream_repaint import FollowRoom, RepaintThrottle
from tui_chat.ui.widgets.widget_css import css_beside

RIGHT_MARGIN = 1


def _unfinished(message: Message) -> bool:
    """True while `message` is a reply still being written."""
    return message.finish_reason is None and not message.error


class MessagePane(ScrollView, can_focus=True):
    """Shows the open conversation; follows a streaming reply unless the user scrolled up.

    The pane holds a reference to the app's one `Conversation`; the app tells it what changed
    (`message_added`, `message_changed`) and the pane decides when to repaint.
    """

    DEFAULT_CSS = css_beside(__file__)  # message_pane.tcss (widget_css.py says why not CSS_PATH)

    BINDINGS: ClassVar[list[BindingType]] = MESSAGE_PANE_BINDINGS  # ui/actions.py declares them

    COMPONENT_CLASSES: ClassVar[set[str]] = set(PANE_COMPONENT_CLASSES)  # pane_styles.py reads them

    selected_index: reactive[int | None] = reactive(None, init=False)
    """The message under the keyboard cursor (highlighted in the gutter), or None."""

    code_theme: reactive[str] = reactive(DEFAULT_CODE_THEME, init=False)
    """Pygments style for code blocks (e.g. "monokai"); changing it re-renders."""

    class EditRequested(TextualMessage):
        """The user pressed `e` on one of their messages: put it back in the composer."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class CopyRequested(TextualMessage):
        """The user asked to copy a message (`y`) or its code blocks (`c`)."""

        def __init__(self, text: str, what: str) -> None:
            super().__init__()
            self.text = text
            self.what = what

    def __init__(
        self,
        conversation: Conversation | None = None,
        *,
        code_theme: str = DEFAULT_CODE_THEME,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.conversation = conversation
        self._token_label: Callable[[Message], str] | None = None
        self._attachment_count: Callable[[Attachment], TokenCount | None] | None = None
        self._blocks: list[MessageBlock] = []
        self._layout = BlockLayout()
        self._preamble = Preamble()
        self._navigator = MessageNavigator(self._layout)
        self._throttle = RepaintThrottle()
        self._room = FollowRoom()
        self._styles = PaneStyles(self._component_style)
        self._follow = True
        self._adjusting = False
        self._flush_timer: Timer | None = None
        self._ensure_pending = False
        self._composed: LRUCache[tuple[object, ...], tuple[Strip, Strip]] = LRUCache(512)
        self._width_key: object = None
        self._width_value = 0
        self.search_hits: list[int] = []
        """Indexes of the messages that matched the user's search, for n / N; set by the app."""
        self.set_reactive(MessagePane.code_theme, code_theme)

    # -- the interface the app codes against ------------------------------------------------

    @property
    def token_label(self) -> Callable[[Message], str] | None:
        """Gives the text for a message header's token count; set by the app."""
        return self._token_label

    @token_label.setter
    def token_label(self, label: Callable[[Message], str] | None) -> None:
        self._token_label = label
        self._styles.forget_context()
        for block in self._blocks:
            if block.rendered:
                block.refresh_header(self._render_context())
        self.refresh()

    @property
    def attachment_count(self) -> Callable[[Attachment], TokenCount | None] | None:
        """Gives an attached file's token count (None until counted); set by the app."""
        return self._attachment_count

    @attachment_count.setter
    def attachment_count(self, count: Callable[[Attachment], TokenCount | None] | None) -> None:
        self._attachment_count = count
        self._styles.forget_context()
        self.attachment_counts_changed()

    def attachment_counts_changed(self) -> None:
        """Attached files were counted: their lines show the counts."""
        if any(block.message.attachments for block in self._blocks):
            self._invalidate_all()

    def show_conversation(self, conversation: Conversation | None) -> None:
        """Show `conversation` (or the empty state) from its end."""
        self.conversation = conversation
        self._cancel_flush()
        self._throttle.forget()
        self._styles.forget_context()
        self._blocks = [MessageBlock(m) for m in conversation.messages] if conversation else []
        self._preamble.build(self.conversation)
        self.selected_index = None
        self._follow = True
        self._room.streaming = False
        self._relayout()
        self._ensure_visible_rendered()
        self.refresh()

    def message_added(self) -> None:
        """The conversation's message list grew (or was replaced): show the new ones, follow."""
        messages = self.conversation.messages if self.conversation else []
        known = len(self._blocks)
        if len(messages) < known or any(
            block.message is not message
            for block, message in zip(self._blocks, messages, strict=False)
        ):
            self.show_conversation(self.conversation)
            return
        self._blocks.extend(MessageBlock(m) for m in messages[known:])
        self._preamble.build(self.conversation)
        self._follow = True
        self._relayout(known)
        self._ensure_visible_rendered()
        self.refresh()

    def show_empty_hints(self, hints: Sequence[Hint] = DEFAULT_HINTS) -> None:
        """What the pane says while the conversation is empty (the default: how to send)."""
        hints = tuple(hints)
        if hints != self._preamble.empty_hints:
            self._preamble.empty_hints = hints
            self.system_changed()

    def system_changed(self) -> None:
        """The conversation's system prompt was edited: redraw the collapsed line at the top."""
        self._preamble.build(self.conversation)
        self._relayout()
        self._ensure_visible_rendered()
        self.refresh()

    def message_changed(self, index: int) -> None:
        """Message `index` changed; cheap enough to call per token (repaints are throttled)."""
        if self.conversation is None:
            return
        if index >= len(self._blocks):
            self.message_added()
            return
        self._throttle.mark(index)
        if not _unfinished(self._blocks[index].message):
            self._flush()
            return
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(self._throttle.delay(), self._flush)

    # -- repainting a streaming reply -------------------------------------------------------

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _flush(self) -> None:
        self._cancel_flush()
        with self._throttle.repaint() as changed:
            dirty = [index for index in changed if index < len(self._blocks)]
            if dirty:
                self._apply_changes(dirty)

    def _apply_changes(self, dirty: list[int]) -> None:
        context = self._render_context()
        rows_before = self._rows_on_screen()
        view_before = (round(self.scroll_y), self.virtual_size)
        for index in dirty:
            self._blocks[index].update(context)
        self._room.streaming = any(_unfinished(self._blocks[index].message) for index in dirty)
        self._relayout(dirty[0])
        self._ensure_visible_rendered()
        if (round(self.scroll_y), self.virtual_size) != view_before:
            self.refresh()  # the view moved: every row is redrawn anyway
            return
        # Repaint only the cells that changed: a growing reply changes a row or two, and every
        # repainted cell is bytes sent to the terminal.
        regions = changed_regions(rows_before, self._rows_on_screen(), self._line_width())
        if regions:
            self.refresh(*regions)

    def _rows_on_screen(self) -> list[Row | None]:
        """Gutter and text of each row on screen, to tell after a change which rows differ."""
        top = round(self.scroll_y)
        return [self._line_parts(top + y) for y in range(self.scrollable_content_region.height)]

    # -- geometry ---------------------------------------------------------------------------

    def _line_width(self) -> int:
        # Asked for every painted line; the region is costly to compute, so it is kept per size.
        key = (self.size, self.show_vertical_scrollbar, self.styles.scrollbar_size_vertical)
        if self._width_key != key:
            self._width_key = key
            self._width_value = self.scrollable_content_region.width
        return self._width_value

    def _body_width(self) -> int:
        return max(8, self._line_width() - GUTTER - RIGHT_MARGIN)

    def _recompute_tops(self, start: int = 0) -> None:
        width = self._body_width()
        self._preamble.render(width, self._component_style)
        self._layout.recompute(self._blocks, width, len(self._preamble.lines), start)

    def _component_style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _relayout(self, start: int = 0) -> None:
        """Recompute heights from block `start`, keep what the user looks at in place (or stay
        at the end)."""
        if not self.size:
            return
        anchor = None if self._follow else self._layout.anchor(round(self.scroll_y))
        self._recompute_tops(start)
        layout = self._layout
        view = self.scrollable_content_region.height
        self.virtual_size = Size(self._line_width(), self._room.height(layout.total, view))
        self._adjusting = True
        try:
            if self._follow:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
            elif anchor is not None and anchor[0] < len(layout.tops):
                index, offset = anchor
                target = layout.tops[index] + offset
                if target != round(self.scroll_y):
                    self.scroll_to(y=target, animate=False, immediate=True, force=True)
        finally:
            self._adjusting = False

    def _ensure_visible_rendered(self) -> None:
        """Render the blocks that overlap the viewport, then fix heights and the scroll anchor."""
        self._ensure_pending = False
        if not self.size or not self._blocks:
            return
        width = self._body_width()
        context = self._render_context()
        for _ in range(16):  # each round renders at least one block, so this settles quickly
            top = round(self.scroll_y)
            bottom = top + self.scrollable_content_region.height
            tops = self._layout.tops
            index = self._layout.index_at(top)
            first_changed: int | None = None
            while index < len(self._blocks) and tops[index] < bottom:
                block = self._blocks[index]
                if block.width != width:
                    before = block.height(width)
                    block.ensure(width, context)
                    if block.height(width) != before and first_changed is None:
                        first_changed = index
                index += 1
            if first_changed is None:
                return
            self._relayout(first_changed)

    # -- rendering ----------------------------------------------------------------------------

    def _render_context(self) -> RenderContext:
        return self._styles.context(
            self.app.console, self.code_theme, self._token_label, self._attachment_count
        )

    def _invalidate_all(self) -> None:
        self._styles.forget_context()
        self._preamble.invalidate()
        for block in self._blocks:
            block.invalidate()
        self._relayout()
        self._ensure_visible_rendered()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._composed.clear()
        self._width_key = None
        if self._styles.restyled():
            # The theme changed: every cached line carries old colours.
            self._invalidate_all()

    def watch_code_theme(self) -> None:
        self._invalidate_all()

    def watch_selected_index(self, old: int | None, new: int | None) -> None:
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self._adjusting:
            # Scrolled by the user (keys, wheel, scrollbar): follow again only at the very end.
            self._follow = round(new_value) >= self.max_scroll_y
            self._ensure_visible_rendered()

    def on_resize(self, event: events.Resize) -> None:
        # Every block rewraps at the new width, lazily: only those on screen render now.
        self._relayout()
        self._ensure_visible_rendered()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """One screen line: looked up in the cached lines of the block it falls in."""
        absolute = round(self.scroll_y) + y
        line_width = self._line_width()
        base = self.rich_style
        parts = self._line_parts(absolute)
        if parts is None:
            return Strip.blank(line_width, base)
        gutter, body = parts
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(absolute)) is not None:
            style = self.screen.get_component_rich_style("screen--selection")
            line = highlight(Strip.join([gutter, body]), *span, style)
            line = line.crop_extend(0, line_width, None).apply_style(base)
            return line.apply_offsets(0, absolute)
        # A finished line keeps its Strip object and its absolute position while a reply grows
        # below it, so the composed line is reused from frame to frame.
        key = (absolute, id(body), id(gutter), line_width, base)
        cached = self._composed.get(key)
        if cached is not None and cached[0] is body:
            return cached[1]
        line = Strip.join([gutter, body]).crop_extend(0, line_width, None).apply_style(base)
        # Textual sends each segment with its own colour codes (~40 bytes), so runs in one style
        # (text and the padding after it, typically) are joined first.
        line = line.simplify()
        # Offsets let Textual map a mouse drag to (column, line) for text selection.
        line = line.apply_offsets(0, absolute)
        self._composed[key] = (body, line)
        return line

    def _line_parts(self, absolute: int) -> tuple[Strip, Strip] | None:
        """Gutter and text of virtual line `absolute`, or None past the end."""
        width = self._body_width()
        preamble = self._preamble.lines
        if absolute < len(preamble):
            return self._styles.gutter(""), preamble[absolute]
        if not self._blocks or absolute >= self._layout.total:
            return None
        index = self._layout.index_at(absolute)
        block = self._blocks[index]
        if block.width != width and not self._ensure_pending:
            # Not rendered yet (it scrolled in between checks): fix heights after this frame.
            self._ensure_pending = True
            self.call_after_refresh(self._after_lazy_render)
        body = block.line(absolute - self._layout.tops[index], width, self._render_context())
        return self._gutter(index, block.message), body

    def _full_line(self, absolute: int) -> Strip | None:
        parts = self._line_parts(absolute)
        return None if parts is None else Strip.join(parts)

    def _after_lazy_render(self) -> None:
        self._relayout()
        self._ensure_visible_rendered()
        self.refresh()

    def _gutter(self, index: int, message: Message) -> Strip:
        if index == self.selected_index:
            return self._styles.gutter("selected")
        return self._styles.gutter("user" if message.role == "user" else "assistant")

    # -- mouse selection (Textual calls these) ------------------------------------------------

    @property
    def allow_select(self) -> bool:
        return True

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under a mouse selection, without the gutter bars."""
        return selected_text(selection, self._layout.total, self._full_line), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # -- keys: the cursor, search hits, and the actions on the message under the cursor ------

    def _view(self) -> View:
        return View(round(self.scroll_y), self.scrollable_content_region.height)

    def _move(self, step: Step, *, upward: bool = False) -> None:
        if step.scroll_to is not None:
            self.scroll_to(y=step.scroll_to, animate=False, force=True)
        elif step.select is not None:
            self._select(step.select, upward=upward)

    def _select(self, index: int, *, upward: bool = False) -> None:
        """Put the cursor on block `index` and bring it into view."""
        self.selected_index = index
        block = self._blocks[index]
        width = self._body_width()
        if block.width != width:
            block.ensure(width, self._render_context())
            self._relayout(index)
        target = self._navigator.reveal(index, self._view(), upward=upward)
        if target is not None:
            self.scroll_to(y=target, animate=False, immediate=True, force=True)

    def action_select_previous(self) -> None:
        """Select the message above (the last one when none is selected).

        Within a message taller than the screen, first scroll through it a page at a time.
        """
        step = self._navigator.previous(self.selected_index, len(self._blocks), self._view())
        self._move(step, upward=True)

    def action_select_next(self) -> None:
        """Select the message below (the last one when none is selected).

        Within a message taller than the screen, first scroll through it a page at a time.
        """
        self._move(self._navigator.next(self.selected_index, len(self._blocks), self._view()))

    def action_first(self) -> None:
        """Go to the top of the conversation."""
        self._follow = False
        if self._blocks:
            self.selected_index = 0
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def action_last(self) -> None:
        """Go to the end and follow the stream again."""
        if self._blocks:
            self.selected_index = len(self._blocks) - 1
        self._follow = True
        self._relayout()
        self._ensure_visible_rendered()

    def action_page_up(self) -> None:
        """Scroll up one screen."""
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        """Scroll down one screen."""
        self.scroll_page_down(animate=False)

    def select_hit(self, position: int) -> None:
        """Select and show the message of search hit `position` (0-based), and say which hit of
        how many it is."""
        hit = self._navigator.hit(self._hits(), position)
        if hit is not None:
            self._go_to_hit(
                hit, f"Hit {hit.position + 1} of {hit.hits}: n / N for the next / previous"
            )

    def action_next_hit(self) -> None:
        """Go to the next message that matched the search (after the last, back to the first)."""
        self._step_hit(1)

    def action_previous_hit(self) -> None:
        """Go to the previous message that matched the search (before the first, to the last)."""
        self._step_hit(-1)

    def _hits(self) -> list[int]:
        # The conversation may have lost messages since the search (ctrl+r drops the last reply).
        return [index for index in self.search_hits if index < len(self._blocks)]

    def _step_hit(self, step: int) -> None:
        hit = self._navigator.step_hit(self._hits(), self.selected_index, step)
        if hit is None:
            self.notify("No search hits here: / in the list, type, Enter.", timeout=3)
            return
        note = f"Hit {hit.position + 1} of {hit.hits}"
        if hit.wrapped and hit.hits > 1:
            note += ", from the top" if step > 0 else ", from the end"
        self._go_to_hit(hit, note, timeout=2)

    def _go_to_hit(self, hit: HitStep, note: str, timeout: float = 3) -> None:
        self._follow = False
        self._select(hit.index)
        self.notify(note, timeout=timeout)

    def _target_message(self) -> tuple[int, Message] | None:
        """The selected message, or the last one when none is."""
        if not self._blocks:
            return None
        index = self.selected_index if self.selected_index is not None else len(self._blocks) - 1
        index = min(index, len(self._blocks) - 1)
        return index, self._blocks[index].message

    def action_copy_message(self) -> None:
        """Ask the app to copy the selected (or last) message."""
        target = self._target_message()
        if target is None:
            return
        self.post_message(self.CopyRequested(target[1].content, "message"))

    def action_copy_code(self) -> None:
        """Ask the app to copy the code block(s) of the selected (or last) message."""
        target = self._target_message()
        if target is None:
            return
        blocks = code_blocks(target[1].content)
        if not blocks:
            self.notify("No code block in this message.", severity="warning")
            return
        what = "code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
        self.post_message(self.CopyRequested("\n".join(blocks), what))

    def action_toggle_thinking(self) -> None:
        """Unfold (or fold again) the thinking of the selected (or last) reply, and show it."""
        self._toggle_fold(
            MessageBlock.toggle_thinking,
            "This message has no thinking to show.",
            keep_following=True,  # a thought unfolded while it streams goes on following
        )

    def action_toggle_attachments(self) -> None:
        """Unfold (or fold again) the text of the files attached to the selected (or last)
        message, as the thinking unfolds."""
        self._toggle_fold(
            MessageBlock.toggle_attachments, "This message has no attached text to show."
        )

    def action_toggle_tool_result(self) -> None:
        """Unfold the results of the selected (or last) reply's tool calls, or fold them."""
        self._toggle_fold(
            MessageBlock.toggle_tool_results,
            "Select the reply with the ⚙ lines to show its tool results.",
        )

    def _toggle_fold(
        self,
        toggle: Callable[[MessageBlock, RenderContext], bool],
        nothing_to_fold: str,
        *,
        keep_following: bool = False,
    ) -> None:
        """Fold or unfold a part of the selected (or last) message with `toggle`, lay it out
        again and keep it in sight; say `nothing_to_fold` when it has no such part."""
        target = self._target_message()
        if target is None:
            return
        index = target[0]
        if not toggle(self._blocks[index], self._render_context()):
            self.notify(nothing_to_fold, severity="warning")
            return
        if not keep_following:
            self._follow = False
        self._relayout(index)
        self._select(index)
        self._ensure_visible_rendered()
        self.refresh()

    def action_edit_message(self) -> None:
        """Ask the app to put the selected user message back in the composer."""
        target = self._target_message()
        if target is None:
            return
        index, message = target
        if message.role != "user":
            self.notify("Only your own messages can be edited.", severity="warning")
            return
        self.post_message(self.EditRequested(index))

    # -- for tests and the benchmark ----------------------------------------------------------

    @property
    def repaint_pending(self) -> bool:
        """True while a change is waiting for the next throttled repaint."""
        return self._throttle.pending

    @property
    def following(self) -> bool:
        """True while the view sticks to the end of the conversation."""
        return self._follow

    def visible_text(self) -> list[str]:
        """The text of the lines on screen now (what a user reads)."""
        return [
            self.render_line(y).text.rstrip() for y in range(self.scrollable_content_region.height)
        ]

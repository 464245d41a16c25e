"""The lines of one message block in the message pane: header, body and marks, cached per width.

A `MessageBlock` is not a widget. The pane keeps one per message and asks it for its height and
for one line at a time; the block renders its message once per width (finished Markdown blocks
are kept across streaming updates, only the unfinished tail is rendered again) and otherwise
answers from its cache. Until it is first asked for lines it only estimates its height, so
opening a long conversation renders just the messages on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Message
from tui_chat.engine.tokens import TokenCount
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.widgets.attachment_lines import attachment_line
from tui_chat.ui.widgets.markdown_lines import (
    MarkdownRenderer,
    list_item_starts,
    open_fence,
    split_blocks,
)
from tui_chat.ui.widgets.thinking_lines import ThinkingLines
from tui_chat.ui.widgets.tool_call_lines import ToolCallLines, indented_under

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}
RETRY_HINT = "ctrl+r to retry"
# Lines of a still-open code block rendered together; bounds the work of one streaming update.
FENCE_CHUNK_LINES = 24
# Items of a still-open long list rendered together, for the same reason.
LIST_CHUNK_ITEMS = 16
# One shared empty line: the pane caches composed lines by Strip identity.
BLANK_LINE = Strip.blank(0)


@dataclass
class _StreamChunks:
    """Rendered leading chunks of the unfinished block at the end of a streaming reply."""

    key: tuple[object, ...]  # what the chunks belong to: kind, offset in the content, width
    done: int = 0  # code lines or list items rendered into `lines`
    done_offset: int = 0  # offset in the tail where the unrendered part starts
    lines: list[Strip] = field(default_factory=list)


@dataclass(frozen=True)
class BlockStyles:
    """Rich styles for the parts of a block that are not Markdown, from the pane's CSS."""

    user_role: Style
    assistant_role: Style
    meta: Style
    error: Style
    warning: Style
    user_text: Style


@dataclass(frozen=True)
class RenderContext:
    """Everything a block needs to render: the renderer, the styles, the token label and the
    token counts of attached files (None until counted)."""

    renderer: MarkdownRenderer
    styles: BlockStyles
    token_label: Callable[[Message], str] | None
    now: datetime
    attachment_count: Callable[[Attachment], TokenCount | None] | None = None


class MessageBlock:
    """Header, body and status lines of one message, rendered lazily and cached per width."""

    SEPARATOR_LINES = 1

    def __init__(self, message: Message) -> None:
        self.message = message
        self.width = 0  # width the cached lines were rendered at; 0 = not rendered
        self._estimate: tuple[int, int] | None = None  # (width, height)
        self._header: Strip | None = None
        self.thinking = ThinkingLines()  # the model's thinking, between header and body
        # Finished Markdown blocks of the body, as rendered lines (blank separators included).
        self._fixed: list[Strip] = []
        self._fixed_source = ""  # the content prefix the fixed lines were rendered from
        self._tail: list[Strip] = []
        self._marks: list[Strip] = []
        self._content_seen: str | None = None
        self._chunks: _StreamChunks | None = None
        self.tool_calls = ToolCallLines()  # under the reply, above its marks
        self.attachments_unfolded = False  # attached text files: shown whole (a), else a line

    # -- size ---------------------------------------------------------------------------------

    @property
    def rendered(self) -> bool:
        return self.width > 0

    def height(self, width: int) -> int:
        """Lines this block takes at `width`: exact when rendered at that width, else estimated."""
        if self.width == width:
            thinking = len(self.thinking.lines)
            body = thinking + len(self._fixed) + len(self._tail) + len(self._marks)
            return 1 + body + self.SEPARATOR_LINES
        if self._estimate is None or self._estimate[0] != width:
            self._estimate = (width, self._estimate_height(width))
        return self._estimate[1]

    def _estimate_height(self, width: int) -> int:
        # Roughly what wrapping will give; the real height replaces this once the block is seen.
        usable = max(1, width - 2)
        lines = 0
        in_code = False
        for line in self.message.content.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                in_code = not in_code
                lines += 1
                continue
            lines += max(1, -(-len(line) // usable))
        marks = 0 if self.message.finish_reason in (None, "stop", "length") else 1
        thinking = 1 if self.message.thinking else 0  # folded, until it is rendered
        files = len(self.message.attachments)  # folded, until they are rendered
        calls = len(self.message.tool_calls)
        return 1 + thinking + lines + files + marks + calls + self.SEPARATOR_LINES

    def invalidate(self) -> None:
        """Forget the rendered lines (the width, theme or code theme changed)."""
        self.width = 0
        self._estimate = None
        self._header = None
        self.thinking.invalidate()
        self._fixed = []
        self._fixed_source = ""
        self._tail = []
        self._marks = []
        self._content_seen = None
        self._chunks = None

    # -- lines --------------------------------------------------------------------------------

    def line(self, index: int, width: int, context: RenderContext) -> Strip:
        """Line `index` of this block at `width` (rendering the block first if needed)."""
        self.ensure(width, context)
        if index == 0:
            assert self._header is not None
            return self._header
        index -= 1
        if index < len(self.thinking.lines):
            return self.thinking.lines[index]
        index -= len(self.thinking.lines)
        if index < len(self._fixed):
            return self._fixed[index]
        index -= len(self._fixed)
        if index < len(self._tail):
            return self._tail[index]
        index -= len(self._tail)
        if index < len(self._marks):
            return self._marks[index]
        return BLANK_LINE

    def ensure(self, width: int, context: RenderContext) -> bool:
        """Render at `width` if not already; True when that changed the lines.

        A change of content alone does not re-render here: painting must stay a lookup, and a
        streamed delta reaches the lines through `update`, at the pane's throttled rate.
        """
        if self.width == width:
            return False
        self.invalidate()
        self.width = width
        self.refresh_header(context)
        self._refresh_thinking(context)
        self._render_body(context)
        self.refresh_marks(context)
        return True

    def update(self, context: RenderContext) -> None:
        """The message changed (a streamed delta, a finish reason, usage or an error)."""
        if not self.rendered:
            self._estimate = None
            return
        self.refresh_header(context)
        self._refresh_thinking(context)
        if self._content_seen is not self.message.content:
            self._render_body(context)
        self.refresh_marks(context)

    def body_width(self) -> int:
        return max(1, self.width)

    def refresh_header(self, context: RenderContext) -> None:
        """Role, model, local time and token label on one line."""
        message = self.message
        styles = context.styles
        role_style = styles.user_role if message.role == "user" else styles.assistant_role
        header = Text(no_wrap=True, overflow="ellipsis", end="")
        header.append(ROLE_LABELS.get(message.role, message.role), role_style)
        parts: list[str] = []
        if message.role == "assistant" and message.model:
            parts.append(sanitize_for_terminal(message.model))
        parts.append(_local_time(message.created, context.now))
        if context.token_label is not None:
            label = context.token_label(message)
            if label:
                parts.append(sanitize_for_terminal(label))
        header.append("  " + " · ".join(parts), styles.meta)
        lines = context.renderer.text(header, self.body_width())
        self._header = lines[0] if lines else BLANK_LINE

    def _refresh_thinking(self, context: RenderContext) -> None:
        self.thinking.refresh(
            self.message, self.body_width(), context.renderer, context.styles.meta
        )

    def toggle_thinking(self, context: RenderContext) -> bool:
        """Unfold or fold the thinking; False when the message has none."""
        if not self.message.thinking:
            return False
        self.thinking.unfolded = not self.thinking.unfolded
        self._refolded(context, self._refresh_thinking)
        return True

    def toggle_tool_results(self, context: RenderContext) -> bool:
        """Unfold or fold the results of the tool calls; False when none has a result."""
        if not self.tool_calls.has_results(self.message.tool_calls):
            return False
        self.tool_calls.unfolded = not self.tool_calls.unfolded
        self._refolded(context, self.refresh_marks)
        return True

    def _refolded(self, context: RenderContext, refresh: Callable[[RenderContext], None]) -> None:
        """A part was folded or unfolded: `refresh` renders it again, or (not rendered yet)
        the height is estimated again."""
        if self.rendered:
            refresh(context)
        else:
            self._estimate = None

    def toggle_attachments(self, context: RenderContext) -> bool:
        """Unfold or fold the text of the files attached; False when the message has none."""
        if not any(a.kind == "text" for a in self.message.attachments):
            return False
        self.attachments_unfolded = not self.attachments_unfolded
        self._refolded(context, self._render_body)
        return True

    def _attachment_lines(self, context: RenderContext, width: int) -> list[Strip]:
        """A line per attached file under the user's words; unfolded, a text file's words
        follow its line, made inert, as typed (never read as Markdown)."""
        styles = context.styles
        count = context.attachment_count
        lines: list[Strip] = []
        for attachment in self.message.attachments:
            tokens = count(attachment) if count is not None else None
            line = attachment_line(attachment, tokens, self.attachments_unfolded, styles.meta)
            lines += context.renderer.text(line, width)
            if self.attachments_unfolded and attachment.kind == "text" and attachment.text:
                lines += indented_under(attachment.text, width, context.renderer, styles.user_text)
        return lines

    def refresh_marks(self, context: RenderContext) -> None:
        """The visible status of an unfinished reply: interrupted, cut, or the error with a hint."""
        message = self.message
        styles = context.styles
        reason = message.finish_reason
        text: Text | None = None
        if reason == "interrupted":
            text = Text("■ interrupted", styles.warning)
        elif reason == "cut":
            # The engine says why (dropped, stalled, malformed stream); old files may not.
            why = "connection lost"
            if message.error:
                why = sanitize_for_terminal(message.error).rstrip(".")
            text = Text(f"⚠ {why} — partial reply kept", styles.warning)
            text.append(f"  ({RETRY_HINT})", styles.meta)
        elif reason == "length":
            text = Text("… stopped at the length limit", styles.meta)
        elif reason == "error" or message.error:
            text = Text("✗ ", styles.error)
            text.append(sanitize_for_terminal(message.error or "the request failed"), styles.error)
            text.append(f"  ({RETRY_HINT})", styles.meta)
        calls = self.tool_calls.render(
            message.tool_calls,
            self.body_width(),
            context.renderer,
            (styles.meta, styles.warning, styles.user_text),
        )
        if text is None:
            self._marks = calls
            return
        self._marks = calls + context.renderer.text(text, self.body_width())

    def _render_body(self, context: RenderContext) -> None:
        content = self.message.content
        self._content_seen = content
        renderer = context.renderer
        width = self.body_width()
        if self.message.role != "assistant":
            # The user's words are shown as typed (wrapped), never reinterpreted as Markdown.
            safe = sanitize_for_terminal(content)
            self._fixed = renderer.plain(safe, width, context.styles.user_text) if safe else []
            if self.message.attachments:
                gap = [BLANK_LINE] if self._fixed else []
                self._fixed += gap + self._attachment_lines(context, width)
            self._fixed_source = content
            self._tail = []
            return
        if not content.startswith(self._fixed_source):
            # The content was replaced, not extended (a regenerate reusing the message).
            self._fixed = []
            self._fixed_source = ""
        start = len(self._fixed_source)
        blocks, tail_offset = split_blocks(content[start:])
        for block in blocks:
            self._append_fixed(renderer.markdown(sanitize_for_terminal(block), width))
        self._fixed_source = content[: start + tail_offset]
        tail = content[start + tail_offset :]
        if not tail.strip():
            self._tail = []
            return
        streaming = self.message.finish_reason is None
        fence = open_fence(tail) if streaming else None
        items = list_item_starts(tail) if streaming and fence is None else None
        if fence is not None:
            tail_lines = self._render_open_fence(renderer, start + tail_offset, tail, fence)
        elif items is not None and len(items) > LIST_CHUNK_ITEMS:
            tail_lines = self._render_open_list(renderer, start + tail_offset, tail, items)
        else:
            self._chunks = None
            tail_lines = renderer.markdown(sanitize_for_terminal(tail), width)
        self._tail = ([BLANK_LINE] if self._fixed else []) + tail_lines

    def _render_open_fence(
        self, renderer: MarkdownRenderer, offset: int, tail: str, fence: tuple[str, int]
    ) -> list[Strip]:
        """A code block still streaming: full chunks of lines are rendered once and kept, so
        each update renders at most FENCE_CHUNK_LINES lines however long the block grows.
        (Once the fence closes, the whole block is rendered once more, as one.)"""
        lexer, code_at = fence
        width = self.body_width()
        key = ("fence", offset, lexer, width)
        if self._chunks is None or self._chunks.key != key:
            self._chunks = _StreamChunks(key=key)
        state = self._chunks
        lines = sanitize_for_terminal(tail[code_at:]).split("\n")
        complete = len(lines) - 1  # the last piece is a line still being written
        while complete - state.done >= FENCE_CHUNK_LINES:
            chunk = "\n".join(lines[state.done : state.done + FENCE_CHUNK_LINES])
            top = 1 if state.done == 0 else 0
            state.lines.extend(renderer.code(chunk, lexer, width, top=top, bottom=0))
            state.done += FENCE_CHUNK_LINES
        live = "\n".join(lines[state.done :]).rstrip()
        top = 1 if state.done == 0 else 0
        return state.lines + renderer.code(live, lexer, width, top=top, bottom=1)

    def _render_open_list(
        self, renderer: MarkdownRenderer, offset: int, tail: str, starts: list[int]
    ) -> list[Strip]:
        """A long list still streaming: every LIST_CHUNK_ITEMS finished items are rendered once
        and kept. (Once the list ends, it is rendered once more, as one.)"""
        width = self.body_width()
        key = ("list", offset, width)
        if self._chunks is None or self._chunks.key != key:
            self._chunks = _StreamChunks(key=key)
        state = self._chunks
        finished = len(starts) - 1  # the last item may still grow
        while finished - state.done >= LIST_CHUNK_ITEMS:
            end = starts[state.done + LIST_CHUNK_ITEMS]
            chunk = tail[state.done_offset : end]
            state.lines.extend(renderer.markdown(sanitize_for_terminal(chunk), width))
            state.done += LIST_CHUNK_ITEMS
            state.done_offset = end
        live = tail[state.done_offset :]
        return state.lines + renderer.markdown(sanitize_for_terminal(live), width)

    def _append_fixed(self, lines: list[Strip]) -> None:
        if not lines:
            return
        if self._fixed:
            self._fixed.append(BLANK_LINE)
        self._fixed.extend(lines)


def _local_time(moment: datetime, now: datetime) -> str:
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"

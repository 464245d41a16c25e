"""The lines of a reply's thinking in the message pane, between its header and its answer.

A `MessageBlock` owns one `ThinkingLines` and asks it to refresh when the message changes. Folded
(the default) it is one dim line: while the model thinks, that it does and the last words of the
thought; then a summary ('Thought for 12 s, 840 tokens'). Unfolded (`t`), the whole thought
follows. Either way a repaint costs about the same however long the thought grows: the live line
looks at the thought's last few hundred characters, and an unfolded thought keeps the paragraphs
a blank line has closed.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tui_chat.domain.conversation import Message
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.widgets.markdown_lines import MarkdownRenderer

# The line's marks: folded (the summary alone) and unfolded (the whole thought below it).
FOLDED, UNFOLDED = "▸", "▾"
# Characters of the thought the live line looks at, whatever its length.
THOUGHT_TAIL_CHARS = 400
# One shared empty line: the pane caches composed lines by Strip identity.
_BLANK = Strip.blank(0)


class ThinkingLines:
    """The rendered thinking of one message, kept until the message or the width changes."""

    def __init__(self) -> None:
        self.unfolded = False
        self.lines: list[Strip] = []
        """The lines to show: none, or the thinking line (and thought) and a blank line."""
        self._seen: tuple[object, ...] | None = None
        self._fixed: list[Strip] = []  # closed paragraphs of an unfolded thought
        self._source = ""  # the part of the thought `_fixed` was rendered from

    def invalidate(self) -> None:
        """Forget the rendered lines (the width or the theme changed)."""
        self.lines = []
        self._seen = None
        self._fixed = []
        self._source = ""

    def refresh(
        self, message: Message, width: int, renderer: MarkdownRenderer, style: Style
    ) -> None:
        """Render what changed since the last call (usually nothing, once the answer began)."""
        thinking_now = message.thinking_seconds is None and message.finish_reason is None
        seen = (message.thinking, thinking_now, message.thinking_tokens, self.unfolded, width)
        if seen == self._seen:
            return
        self._seen = seen
        if not message.thinking:
            self.lines = []
            return
        mark = UNFOLDED if self.unfolded else FOLDED
        if thinking_now:
            line = Text(f"{mark} Thinking… ", style)
            if not self.unfolded:
                line.append(_last_words(message.thinking, width - line.cell_len), style)
        else:
            line = Text(f"{mark} {message.thinking_summary}", style)
        line.no_wrap, line.overflow, line.end = True, "ellipsis", ""
        lines = renderer.text(line, width)[:1]
        if self.unfolded:
            lines += self._thought(message.thinking, width, renderer, style)
        # A blank line between the thinking and the answer, as between any two blocks.
        self.lines = [*lines, _BLANK]

    def _thought(
        self, thought: str, width: int, renderer: MarkdownRenderer, style: Style
    ) -> list[Strip]:
        """The whole thought, wrapped; the paragraphs a blank line has closed are rendered once
        and kept, as the answer's finished blocks are."""
        if not thought.startswith(self._source):
            self._fixed, self._source = [], ""  # replaced (the finished thought is trimmed)
        start = len(self._source)
        end = thought.rfind("\n\n", start)
        if end > start:
            closed = sanitize_for_terminal(thought[start:end].strip("\n"))
            if closed:
                if self._fixed:
                    self._fixed.append(_BLANK)
                self._fixed += renderer.plain(closed, width, style)
            self._source = thought[: end + 2]
        tail = sanitize_for_terminal(thought[len(self._source) :].strip("\n"))
        if not tail:
            return list(self._fixed)
        gap = [_BLANK] if self._fixed else []
        return [*self._fixed, *gap, *renderer.plain(tail, width, style)]


def _last_words(thought: str, room: int) -> str:
    """The end of a thought on one line of `room` cells: whole words, led by an ellipsis,
    escape sequences neutralised. Looks at the last THOUGHT_TAIL_CHARS characters only."""
    if room < 2:
        return ""
    words = sanitize_for_terminal(thought[-THOUGHT_TAIL_CHARS:]).split()
    shown: list[str] = []
    used = 1  # the ellipsis
    for word in reversed(words):
        if used + cell_len(word) + 1 > room:
            break
        shown.append(word)
        used += cell_len(word) + 1
    if not shown and words:
        return "…" + words[-1][-(room - 1) :]  # one long word: its end (the line crops it)
    return "…" + " ".join(reversed(shown))

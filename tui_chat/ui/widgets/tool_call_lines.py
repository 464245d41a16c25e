"""How tool calls look in the message pane: one line per call under the reply that asked for it
(tool, status, time, arguments), which a key on the selected reply unfolds to show each call's
result beneath its line.

A `MessageBlock` owns one `ToolCallLines`; everything a model or a tool wrote passes through
`sanitize_for_terminal` (or `one_line`) before it becomes a line.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tui_chat.domain.tools import ToolCall, ToolCallStatus
from tui_chat.sanitize import one_line, sanitize_for_terminal
from tui_chat.ui.widgets.markdown_lines import MarkdownRenderer

STATUS_WORDS: dict[ToolCallStatus, str] = {
    "pending": "waiting for your approval",
    "running": "running…",
    "done": "✓ done",
    "failed": "✗ failed",
    "declined": "⊘ declined",
    "interrupted": "■ interrupted",
    "skipped": "⊘ not run (too many rounds)",
}
# The marks of a call that has a result: folded (its line alone) and unfolded (the result below),
# as the thinking's.
FOLDED, UNFOLDED = "▸", "▾"
RESULT_INDENT = 2  # cells: a result starts under its tool's name
_INDENT = Strip.blank(RESULT_INDENT)


def indented_under(text: str, width: int, renderer: MarkdownRenderer, style: Style) -> list[Strip]:
    """`text` made inert and indented under the folded line it unfolds from (a tool's result,
    an attached file's words), so it reads as that line's and not as the message's."""
    lines = renderer.plain(sanitize_for_terminal(text), width - RESULT_INDENT, style)
    return [Strip.join([_INDENT, line]) for line in lines]


def call_line(call: ToolCall, unfolded: bool, meta: Style, warning: Style) -> Text:
    """`▸ ⚙ get_current_time · ✓ done · 0.12 s · {"timezone": "UTC"}`: the arguments last, as
    they are what a narrow pane cuts (the full call is in the approval dialog and the file)."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    if call.result is not None:
        line.append(f"{UNFOLDED if unfolded else FOLDED} ", meta)
    line.append(f"⚙ {one_line(call.name)}", meta)
    status_style = warning if call.status in ("failed", "interrupted", "pending") else meta
    line.append(f" · {STATUS_WORDS[call.status]}", status_style)
    if call.seconds is not None:
        line.append(f" · {call.seconds:.2f} s", meta)
    if call.arguments.strip():
        line.append(f" · {one_line(call.arguments)}", meta)
    return line


class ToolCallLines:
    """The lines of one reply's tool calls: folded, a line per call; unfolded, each call's line
    followed by its whole result. One key folds or unfolds all the calls of the reply, as a
    reply rarely makes more than a few and the user reads them together."""

    def __init__(self) -> None:
        self.unfolded = False

    def has_results(self, calls: list[ToolCall]) -> bool:
        """True when there is something to unfold."""
        return any(call.result is not None for call in calls)

    def render(
        self,
        calls: list[ToolCall],
        width: int,
        renderer: MarkdownRenderer,
        styles: tuple[Style, Style, Style],
    ) -> list[Strip]:
        """The lines at `width`; `styles` is (meta, warning, text), the pane's."""
        meta, warning, text = styles
        lines: list[Strip] = []
        for call in calls:
            lines += renderer.text(call_line(call, self.unfolded, meta, warning), width)
            if self.unfolded and call.result:
                lines += indented_under(call.result, width, renderer, text)
        return lines

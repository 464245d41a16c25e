"""Mouse text selection in the message pane: what a drag highlights and what it copies.

Two functions of the pane's lines, no state: the pane answers Textual's `get_selection` with
`selected_text` and paints the selected cells of a line with `highlight`. (The keyboard cursor,
`selected_index`, is another thing: see `message_navigation.py`.)
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from textual.geometry import Offset
from textual.selection import Selection
from textual.strip import Strip

from tui_chat.ui.widgets.row_diff import GUTTER


def highlight(line: Strip, start: int, end: int, style: Style) -> Strip:
    """`line` with cells [start, end) in the selection's `style` (end -1: to the line's end)."""
    length = line.cell_length
    end = length if end == -1 else min(end, length)
    if start >= end:
        return line
    before, middle, after = line.divide([start, end, length])[:3]
    return Strip.join([before, middle.apply_style(style), after])


def selected_text(
    selection: Selection, line_count: int, line_at: Callable[[int], Strip | None]
) -> str:
    """The text under `selection` (as shown: wrapped, without Markdown syntax), from the pane's
    `line_count` lines, each gutter and text as `line_at` gives it (None past the end)."""
    first = 0 if selection.start is None else selection.start.y
    last = line_count - 1 if selection.end is None else selection.end.y
    lines = []
    for absolute in range(first, last + 1):
        line = line_at(absolute)
        # The gutter bar is decoration, not text: leave it out of what is copied.
        lines.append("" if line is None else line.text[GUTTER:].rstrip())
    shifted = Selection(
        None if selection.start is None else Offset(max(0, selection.start.x - GUTTER), 0),
        None if selection.end is None else Offset(max(0, selection.end.x - GUTTER), last - first),
    )
    return shifted.extract("\n".join(lines))

"""Mouse text selection in the message pane: what a drag highlights and what it copies.

Kept apart from `message_pane.py`, which owns layout, lazy rendering and the public interface,
so each module has one job. `MouseSelection` is mixed into `MessagePane` ahead of `ScrollView`,
so its `allow_select`, `get_selection` and `selection_updated` are the ones Textual calls; the
pane's `render_line` uses `_highlight` to paint the selected cells. (The keyboard cursor,
`selected_index`, is another thing: see `message_navigation.py`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Offset
from textual.selection import Selection
from textual.strip import Strip

from tui_chat.ui.widgets.row_diff import GUTTER

if TYPE_CHECKING:
    from tui_chat.ui.widgets.message_pane import MessagePane

    _Base = MessagePane
else:
    _Base = object


class MouseSelection(_Base):
    """Lets the user select the pane's text with the mouse, without the gutter bars."""

    def _full_line(self, absolute: int) -> Strip | None:
        parts = self._line_parts(absolute)
        return None if parts is None else Strip.join(parts)

    def _highlight(self, line: Strip, start: int, end: int) -> Strip:
        length = line.cell_length
        end = length if end == -1 else min(end, length)
        if start >= end:
            return line
        style = self.screen.get_component_rich_style("screen--selection")
        before, middle, after = line.divide([start, end, length])[:3]
        return Strip.join([before, middle.apply_style(style), after])

    @property
    def allow_select(self) -> bool:
        return True

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under a mouse selection (as shown: wrapped, without Markdown syntax)."""
        first = 0 if selection.start is None else selection.start.y
        last = self._layout.total - 1 if selection.end is None else selection.end.y
        lines = []
        for absolute in range(first, last + 1):
            line = self._full_line(absolute)
            # The gutter bar is decoration, not text: leave it out of what is copied.
            lines.append("" if line is None else line.text[GUTTER:].rstrip())
        shifted = Selection(
            None if selection.start is None else Offset(max(0, selection.start.x - GUTTER), 0),
            None
            if selection.end is None
            else Offset(max(0, selection.end.x - GUTTER), last - first),
        )
        return shifted.extract("\n".join(lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

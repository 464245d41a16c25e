"""How the message pane repaints a streaming reply: throttled, only the changed cells, and with
room below the reply so the view does not move on every line.

Kept apart from `message_pane.py`, which owns layout, lazy rendering and the public interface,
so each module has one job. `StreamRepaint` is mixed into `MessagePane`; it uses the pane's
blocks, layout and scroll position, and the state the pane's `__init__` sets up for it
(`_dirty`, `_flush_timer`, `_last_flush`, `_flush_interval`, `_streaming`, `_padded_height`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.geometry import Region
from textual.strip import Strip

from tui_chat.domain.conversation import Message
from tui_chat.ui.widgets.row_diff import changed_span

if TYPE_CHECKING:
    from tui_chat.ui.widgets.message_pane import MessagePane

    _Base = MessagePane
else:
    _Base = object

# Seconds between repaints of a streaming reply: 12 a second reads as smooth, and each frame
# resends the changed lines, so fewer frames mean fewer bytes over SSH than at 20 a second.
FLUSH_INTERVAL = 1 / 12
MAX_FLUSH_INTERVAL = 0.5  # however slow a repaint is, the stream shows at least twice a second
MAX_FLUSH_SHARE = 4  # a repaint may take at most a quarter of the time between repaints
# While a reply streams, the view follows it a third of a pane at a time (see `_virtual_height`).
FOLLOW_STEPS_PER_PANE = 3


def _unfinished(message: Message) -> bool:
    """True while `message` is a reply still being written."""
    return message.finish_reason is None and not message.error


class StreamRepaint(_Base):
    """Repaints changed messages at most ~12 times a second, sending only the changed cells."""

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _flush(self) -> None:
        self._cancel_flush()
        started = time.monotonic()
        self._last_flush = started
        if not self._dirty:
            return
        try:
            self._apply_changes()
        finally:
            # A pathological tail (a huge table) must not eat the CPU the stream needs: repaint
            # less often when a repaint is slow, keeping it under ~1/MAX_FLUSH_SHARE of the time.
            spent = time.monotonic() - started
            self._flush_interval = min(
                MAX_FLUSH_INTERVAL, max(FLUSH_INTERVAL, spent * MAX_FLUSH_SHARE)
            )

    def _apply_changes(self) -> None:
        context = self._render_context()
        dirty = [index for index in sorted(self._dirty) if index < len(self._blocks)]
        self._dirty.clear()
        if not dirty:
            return
        rows_before = self._rows_on_screen()
        view_before = (round(self.scroll_y), self.virtual_size)
        for index in dirty:
            self._blocks[index].update(context)
        self._streaming = any(_unfinished(self._blocks[index].message) for index in dirty)
        self._relayout(dirty[0])
        self._ensure_visible_rendered()
        if (round(self.scroll_y), self.virtual_size) != view_before:
            self.refresh()  # the view moved: every row is redrawn anyway
            return
        self._refresh_changed_rows(rows_before)

    def _rows_on_screen(self) -> list[tuple[Strip, Strip] | None]:
        """Gutter and text of each row on screen, to tell after a change which rows differ."""
        top = round(self.scroll_y)
        return [self._line_parts(top + y) for y in range(self.scrollable_content_region.height)]

    def _refresh_changed_rows(self, rows_before: list[tuple[Strip, Strip] | None]) -> None:
        """Repaint only the cells that changed: a growing reply changes a row or two, and every
        repainted cell is bytes sent to the terminal."""
        line_width = self._line_width()
        for y, (old, new) in enumerate(zip(rows_before, self._rows_on_screen(), strict=True)):
            span = changed_span(old, new)
            if span is not None and span[0] < line_width:
                start, end = span
                self.refresh(Region(start, y, min(end, line_width) - start, 1))

    def _virtual_height(self, total: int) -> int:
        """Lines to scroll through: the `total` lines of the conversation, and while a reply
        streams, some empty room below it.

        Scrolling or a new virtual size redraws the whole pane. Following a reply a line at a
        time did that for every line; with room for a third of a pane below the reply, the view
        (and the scroll bar) move only when the room is used up, and the newest line is always
        on screen. The room goes once the reply ends, so a finished conversation looks the same
        whether it was streamed or opened.
        """
        view = self.scrollable_content_region.height
        if not self._streaming:
            self._padded_height = 0
            return total
        if total <= view:
            self._padded_height = view  # nothing to scroll yet, and no room needed
            return view
        step = max(1, view // FOLLOW_STEPS_PER_PANE)
        # Keep the height while the reply fits in it and has not shrunk far above its end.
        if not total <= self._padded_height <= total + 2 * step:
            self._padded_height = total + step
        return self._padded_height

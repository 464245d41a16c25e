"""Keyboard navigation of the message pane, and the actions on the message under the cursor.

Kept apart from `message_pane.py`, which owns layout, lazy rendering and the public interface,
so each module has one job. `MessageNavigation` is mixed into `MessagePane`, which declares the
bindings and messages these actions serve; it only moves the cursor (`selected_index`), scrolls,
and posts `CopyRequested`/`EditRequested` for the app. Search hits (`search_hits`) are given to
the pane by the app; n / N move between them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_chat.domain.conversation import Message
from tui_chat.ui.widgets.markdown_lines import code_blocks

if TYPE_CHECKING:
    from tui_chat.ui.widgets.message_pane import MessagePane

    _Base = MessagePane
else:
    _Base = object


class MessageNavigation(_Base):
    """Moves the cursor between messages and pages; copies or edits the message under it."""

    def _select(self, index: int, *, upward: bool = False) -> None:
        if not self._blocks:
            return
        index = max(0, min(len(self._blocks) - 1, index))
        self.selected_index = index
        self._scroll_to_block(index, upward=upward)

    def _scroll_to_block(self, index: int, *, upward: bool = False) -> None:
        """Bring block `index` into view; one taller than the screen shows its top, or its end
        when reached by moving up (so reading upwards continues where the eye is)."""
        width = self._body_width()
        block = self._blocks[index]
        if block.width != width:
            block.ensure(width, self._render_context())
            self._relayout(index)
        top = self._layout.tops[index]
        height = block.height(width)
        view = self.scrollable_content_region.height
        scroll_y = round(self.scroll_y)
        if height > view:
            target = top + height - view if upward else top
        elif top < scroll_y:
            target = top
        elif top + height > scroll_y + view:
            target = top + height - view
        else:
            return
        self.scroll_to(y=target, animate=False, immediate=True, force=True)

    def action_select_previous(self) -> None:
        """Select the message above (the last one when none is selected).

        Within a message taller than the screen, first scroll through it a page at a time.
        """
        current = self.selected_index
        if current is not None and current < len(self._blocks):
            top = self._layout.tops[current]
            if top < round(self.scroll_y):
                step = max(1, self.scrollable_content_region.height - 2)
                self.scroll_to(y=max(top, round(self.scroll_y) - step), animate=False, force=True)
                return
        self._select(len(self._blocks) - 1 if current is None else current - 1, upward=True)

    def action_select_next(self) -> None:
        """Select the message below (the last one when none is selected).

        Within a message taller than the screen, first scroll through it a page at a time.
        """
        current = self.selected_index
        if current is not None and current < len(self._blocks):
            view = self.scrollable_content_region.height
            bottom = self._layout.tops[current] + self._layout.heights[current]
            if bottom > round(self.scroll_y) + view:
                target = min(bottom - view, round(self.scroll_y) + max(1, view - 2))
                self.scroll_to(y=target, animate=False, force=True)
                return
        self._select(len(self._blocks) - 1 if current is None else current + 1)

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
        hits = self._hits()
        if not hits:
            return
        position = max(0, min(len(hits) - 1, position))
        self._follow = False
        self._select(hits[position])
        self.notify(f"Hit {position + 1} of {len(hits)}: n / N for the next / previous", timeout=3)

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
        hits = self._hits()
        if not hits:
            self.notify("No search hits here: / in the list, type, Enter.", timeout=3)
            return
        current = self.selected_index
        # From the message under the cursor, so n after moving with j/k goes on from there.
        if step > 0:
            later = [i for i in hits if current is None or i > current]
            target, wrapped = (later[0], False) if later else (hits[0], True)
        else:
            earlier = [i for i in hits if current is None or i < current]
            target, wrapped = (earlier[-1], False) if earlier else (hits[-1], True)
        self._follow = False
        self._select(target)
        note = f"Hit {hits.index(target) + 1} of {len(hits)}"
        if wrapped and len(hits) > 1:
            note += ", from the top" if step > 0 else ", from the end"
        self.notify(note, timeout=2)

    def _target_message(self) -> tuple[int, Message] | None:
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

    def action_toggle_tool_result(self) -> None:
        """Show the whole result of the selected tool call, or fold it back to one line."""
        target = self._target_message()
        if target is None or target[1].role != "tool":
            self.notify("Select a tool result (its ↳ line) to show or hide it.", timeout=3)
            return
        index = target[0]
        block = self._blocks[index]
        block.expanded = not block.expanded
        block.invalidate()
        self._follow = False
        self._relayout(index)
        self._ensure_visible_rendered()
        self._scroll_to_block(index)
        self.refresh()

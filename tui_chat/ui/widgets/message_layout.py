"""Where each line of the message pane comes from: the lines above the messages, then the blocks.

The pane is one virtual column of lines. `Preamble` holds the few lines at the top (the collapsed
system prompt, or the empty-conversation hints); `BlockLayout` knows the first line and height of
every message block, so finding the block under a line is a bisection, and a block that changes
height only moves the blocks after it.
"""

from __future__ import annotations

import textwrap
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui_chat.domain.conversation import Conversation
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.widgets.message_block import MessageBlock

EMPTY_HINT = "Type a message below and press Enter."


@dataclass(frozen=True)
class Hint:
    """A paragraph the empty pane shows, wrapped to the pane's width."""

    text: str
    emphasis: bool = False  # something to act on (an offer), drawn brighter than the rest


DEFAULT_HINTS = (Hint(EMPTY_HINT),)


class Preamble:
    """The lines above the first message, rendered once per width."""

    def __init__(self) -> None:
        self._items: list[tuple[str, str, bool]] = []  # (text, component class, wrapped)
        self._width = -1
        self.lines: list[Strip] = []
        self.empty_hints: tuple[Hint, ...] = DEFAULT_HINTS

    def build(self, conversation: Conversation | None) -> None:
        """Work out the lines for `conversation` (they render on the next `render`)."""
        items: list[tuple[str, str, bool]] = []
        if conversation is not None and conversation.system.strip():
            system = conversation.system.strip().splitlines()
            first = next(line.strip() for line in system if line.strip())
            more = "…" if len(system) > 1 else ""
            items.append((f"System: {first}{more}", "message-pane--meta", False))
        if conversation is None or not conversation.messages:
            for number, hint in enumerate(self.empty_hints):
                if number:
                    items.append(("", "message-pane--meta", False))
                style = "message-pane--user-text" if hint.emphasis else "message-pane--hint"
                items.append((hint.text, style, True))
        if items:
            items.append(("", "message-pane--meta", False))
        if items != self._items:
            self._items = items
            self._width = -1

    def invalidate(self) -> None:
        """Render again on the next `render` (the styles changed)."""
        self._width = -1

    def render(self, width: int, style_of: Callable[[str], Style]) -> None:
        """Render at `width`: hints wrap, the system prompt stays collapsed to one line."""
        if self._width == width:
            return
        self._width = width
        strips: list[Strip] = []
        for text, component, wrapped in self._items:
            safe = sanitize_for_terminal(text)
            pieces = textwrap.wrap(safe, width, break_on_hyphens=False) if wrapped else [safe]
            for piece in pieces or [""]:
                segments = [Segment(piece, style_of(component))] if piece else []
                strips.append(Strip(segments).crop(0, width))
        self.lines = strips


class BlockLayout:
    """The first line and the height of every message block, below the preamble."""

    def __init__(self) -> None:
        self.tops: list[int] = []
        self.heights: list[int] = []
        self.total = 0  # lines in the pane, preamble included
        self._computed_for: tuple[int, int] = (-1, -1)  # (body width, preamble lines)

    def recompute(
        self, blocks: Sequence[MessageBlock], width: int, preamble: int, start: int = 0
    ) -> None:
        """Recompute blocks `start` onwards (all of them when the width or preamble changed).

        While a reply streams only the last block changes, so this is O(1) per update however
        long the conversation is.
        """
        if (width, preamble) != self._computed_for:
            start = 0
        self._computed_for = (width, preamble)
        start = max(0, min(start, len(self.tops), len(blocks)))
        del self.tops[start:]
        del self.heights[start:]
        top = preamble if start == 0 else self.tops[-1] + self.heights[-1]
        for block in blocks[start:]:
            height = block.height(width)
            self.tops.append(top)
            self.heights.append(height)
            top += height
        self.total = top

    def index_at(self, y: int) -> int:
        """The block that line `y` falls in (the first one for lines above it)."""
        return max(0, bisect_right(self.tops, y) - 1)

    def anchor(self, y: int) -> tuple[int, int] | None:
        """(block index, y minus that block's top) for line `y`, to restore after a change."""
        if not self.tops:
            return None
        index = self.index_at(y)
        return index, y - self.tops[index]

"""How the chat screen fits its width: the width classes from the first frame on, and a sidebar
that steps aside on narrow terminals.

Kept apart from `chat.py` (layout and the send/stream/save flow) as a small object the screen
owns; it knows nothing of widgets, so its rules are tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Below this many columns the sidebar (26 cells at the narrow breakpoint) would leave the
# messages too little room (13 columns at 40): it hides, and ctrl+b brings it back.
SIDEBAR_MIN_COLUMNS = 60


def width_class(width: int, breakpoints: Sequence[tuple[int, str]]) -> str | None:
    """The breakpoint class for `width`, as Textual picks it (the largest threshold reached)."""
    for threshold, name in sorted(breakpoints, reverse=True):
        if width >= threshold:
            return name
    return None


@dataclass
class SidebarPlacement:
    """Whether the sidebar shows at the present width.

    At usual widths it follows ctrl+b. Below SIDEBAR_MIN_COLUMNS it is hidden unless ctrl+b
    asked for it there; opening a conversation from it, or the width changing sides, puts it
    away again, and widening brings back whatever the user chose at usual widths.
    """

    hidden_by_user: bool = False
    shown_while_narrow: bool = False
    narrow: bool = False

    @property
    def visible(self) -> bool:
        return self.shown_while_narrow if self.narrow else not self.hidden_by_user

    def fit(self, width: int) -> bool:
        """The terminal is `width` columns wide; returns whether the sidebar shows."""
        narrow = width < SIDEBAR_MIN_COLUMNS
        if narrow != self.narrow:
            self.shown_while_narrow = False
        self.narrow = narrow
        return self.visible

    def toggle(self) -> bool:
        """ctrl+b; returns whether the sidebar shows."""
        if self.narrow:
            self.shown_while_narrow = not self.shown_while_narrow
        else:
            self.hidden_by_user = not self.hidden_by_user
        return self.visible

    def conversation_opened(self) -> bool:
        """A conversation was opened from the list: on a narrow terminal the sidebar, shown
        only to choose one, steps aside for it. Returns whether the sidebar shows."""
        if self.narrow:
            self.shown_while_narrow = False
        return self.visible

"""The list of files and folders offered while an `@path` is typed in the composer.

It never takes the focus: the user keeps typing in the composer, whose completion keys
(`completion.*` in tui_chat/ui/actions.py) the screen passes on here as `move`. What is
listed, and what accepting an entry does, is the screen's call.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Offset
from textual.widgets import OptionList

from tui_chat.sanitize import one_line
from tui_chat.ui.widgets.widget_css import css_beside

# Entries shown at once (path_menu.tcss's max-height, less the border); the rest scroll.
VISIBLE_ENTRIES = 6


class PathMenu(OptionList, can_focus=False):
    """Completions of the `@path` at the composer's cursor, folders first."""

    DEFAULT_CSS = css_beside(__file__)  # path_menu.tcss

    def __init__(self, *, hint: str, id: str | None = None) -> None:
        """`hint`: the keys that attach and close, as the user has them."""
        super().__init__(id=id)
        self._hint = hint
        self.entries: list[str] = []
        """What each line completes the path to (a folder's ends in `/`)."""

    @property
    def is_open(self) -> bool:
        return bool(self.display)

    def open_with(self, entries: Sequence[str], typed: str, cursor: Offset) -> None:
        """Offer `entries` (completions of `typed`) just above `cursor` (the composer's, on
        the screen), or below it where there is no room; with none, say that nothing matches.

        The list floats over the messages (an overlay): showing it moves nothing else, so the
        message pane is not laid out again under the user's typing."""
        self.entries = list(entries)
        if entries:
            self.set_options(
                Text(one_line(entry), no_wrap=True, overflow="ellipsis") for entry in entries
            )
            self.highlighted = 0
        else:
            self.set_options([Text(f"no file or folder starts with {one_line(typed) or '…'}")])
            self.highlighted = None
        self.border_title = f"@ file  ({self._hint})"
        # Its height: the lines shown (the CSS caps them) and the border.
        height = min(max(len(entries), 1), VISIBLE_ENTRIES) + 2
        top = cursor.y - height if cursor.y >= height else cursor.y + 1
        self.absolute_offset = Offset(max(0, cursor.x - 2), top)
        self.display = True
        self.refresh(layout=True)

    def close(self) -> None:
        self.display = False
        self.entries = []

    def move(self, step: int) -> None:
        """Highlight the next (`step` 1) or previous (-1) entry, wrapping around."""
        if not self.entries:
            return
        current = self.highlighted if self.highlighted is not None else -step
        self.highlighted = (current + step) % len(self.entries)

    @property
    def chosen(self) -> str | None:
        """The highlighted entry's completion, if any."""
        if self.highlighted is None or not self.entries:
            return None
        return self.entries[self.highlighted]

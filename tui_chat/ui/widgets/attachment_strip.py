"""The files waiting to go with the next message: one line each, above the composer.

Shown only while there is at least one. It takes the focus like the other parts of the chat
screen (Tab / shift+Tab), moves with up/down, and its remove key (`attachments.remove`) posts
`RemoveRequested`: which files wait is the screen's state, the strip only shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import OptionList

from tui_chat.domain.attachments import Attachment
from tui_chat.engine.tokens import TokenCount
from tui_chat.ui.bindings import ATTACHMENT_BINDINGS
from tui_chat.ui.widgets.attachment_lines import attachment_label
from tui_chat.ui.widgets.widget_css import css_beside


class AttachmentStrip(OptionList):
    """One line per file attached to the message being written (name, size, tokens)."""

    DEFAULT_CSS = css_beside(__file__)  # attachment_strip.tcss

    BINDINGS: ClassVar[list[BindingType]] = ATTACHMENT_BINDINGS

    class RemoveRequested(Message):
        """The user asked to take the file at `index` off the message."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def show(self, files: Sequence[tuple[Attachment, TokenCount | None]]) -> None:
        """Show `files` (each with its count, None until counted); hidden when there are none."""
        highlighted = self.highlighted
        self.set_options(
            Text(attachment_label(attachment, count), no_wrap=True, overflow="ellipsis")
            for attachment, count in files
        )
        self.display = bool(files)
        if files:
            self.highlighted = min(highlighted or 0, len(files) - 1)
        self.border_title = f"Attached ({len(files)})" if files else ""

    def action_remove_attachment(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.RemoveRequested(self.highlighted))

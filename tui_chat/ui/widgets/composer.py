"""The composer: a multi-line, soft-wrapped text area where the user writes the next message."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui_chat.ui.bindings import (
    LOCAL_SERVER_BINDINGS,
    NEWLINE_KEYS_DEFAULT,
    NEWLINE_KEYS_SWAPPED,
    SEND_KEYS_DEFAULT,
    SEND_KEYS_SWAPPED,
)

_SCREEN_CHOICE_KEYS = frozenset(binding.key for binding in LOCAL_SERVER_BINDINGS)


class Composer(TextArea):
    """Where the next message is written. Enter sends; alt+enter or ctrl+j inserts a newline.

    With `enter_sends=False` the two are swapped for users used to clients where Enter is a newline.
    The composer only posts `Submitted`; whether a message may be sent now is the screen's call.
    """

    class Submitted(Message):
        """The user asked to send the composer's text."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    def __init__(self, *, enter_sends: bool = True, id: str | None = None) -> None:
        super().__init__(
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            compact=True,
            id=id,
            placeholder="Message  (Enter send · alt+Enter / ctrl+j newline)"
            if enter_sends
            else "Message  (ctrl+j / alt+Enter send · Enter newline)",
        )
        self.send_keys = SEND_KEYS_DEFAULT if enter_sends else SEND_KEYS_SWAPPED
        self.newline_keys = NEWLINE_KEYS_DEFAULT if enter_sends else NEWLINE_KEYS_SWAPPED

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Whether bindings above the composer never see `key` (Textual hides the keys a text
        field types from them). The digits of LOCAL_SERVER_BINDINGS stay visible: on the first
        run they pick a local server, and the screen lets them through to be typed otherwise."""
        if key in _SCREEN_CHOICE_KEYS:
            return False
        return super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if event.key in self.send_keys:
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self, self.text))
            return
        if event.key in self.newline_keys:
            event.stop()
            event.prevent_default()
            self.insert("\n")
        # Anything else falls through to TextArea's own handler (dispatch walks the MRO).

    # TextArea re-wraps its whole text on every resize and whenever its scroll bar comes or
    # goes, yet the wrap depends on the width alone: the composer's height changes as the user
    # types (it grows with the text), and its scroll bar has a gutter of its own (app.tcss).
    # After a 5 MB paste each of those was a second or two of wrapping for nothing.
    def _wrapped_at_current_width(self) -> bool:
        return self.wrapped_document._width == self.wrap_width

    def _on_resize(self, event: events.Resize) -> None:  # type: ignore[override]  # takes the event
        if self._wrapped_at_current_width():
            event.prevent_default()
            self._refresh_size()

    def _watch_show_vertical_scrollbar(self) -> None:
        if self._wrapped_at_current_width():
            self.scroll_cursor_visible()
        else:
            super()._watch_show_vertical_scrollbar()

    def set_text(self, text: str) -> None:
        """Replace the text and put the cursor at its end (after edit-and-resend or $EDITOR)."""
        self.load_text(text)
        self.move_cursor(self.document.end)

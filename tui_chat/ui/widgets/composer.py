"""The composer: a multi-line, soft-wrapped text area where the user writes the next message."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from textual.binding import BindingType
from textual.message import Message
from textual.widgets.text_area import Edit, EditResult

from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.actions import KeyMap
from tui_chat.ui.bindings import COMPOSER_BINDINGS, LOCAL_SERVER_BINDINGS, key_names
from tui_chat.ui.textual_compat import SteadyWrapTextArea
from tui_chat.ui.widgets.widget_css import css_beside

_SCREEN_CHOICE_KEYS = frozenset(binding.key for binding in LOCAL_SERVER_BINDINGS)


def _hint(keys: str) -> str:
    """'alt+enter,ctrl+j,shift+enter' -> 'alt+Enter / ctrl+j' for the placeholder: shift+Enter
    is left out (few terminals report it), Enter is capitalised as on the keyboard."""
    usable = ",".join(k for k in keys.split(",") if k.strip() != "shift+enter") or keys
    return key_names(usable, joiner=" / ").replace("enter", "Enter")


class Composer(SteadyWrapTextArea):
    """Where the next message is written. Enter sends; alt+enter or ctrl+j inserts a newline.

    Its keys are the `composer.send` and `composer.newline` actions (tui_chat/ui/actions.py):
    `enter_sends = false` swaps them, `[keys]` remaps them. The composer only posts
    `Submitted`; whether a message may be sent now is the screen's call.
    """

    DEFAULT_CSS = css_beside(__file__)  # composer.tcss (widget_css.py says why not CSS_PATH)

    BINDINGS: ClassVar[list[BindingType]] = COMPOSER_BINDINGS

    class Submitted(Message):
        """The user asked to send the composer's text."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    def __init__(self, *, key_map: KeyMap | None = None, id: str | None = None) -> None:
        keys = key_map or KeyMap({})
        send = _hint(keys.keys_of("composer.send"))
        newline = _hint(keys.keys_of("composer.newline"))
        super().__init__(
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            id=id,
            placeholder=f"Message  ({send} send · {newline} newline)",
        )

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Whether bindings above the composer never see `key` (Textual hides the keys a text
        field types from them). The digits of LOCAL_SERVER_BINDINGS stay visible: on the first
        run they pick a local server, and the screen lets them through to be typed otherwise."""
        if key in _SCREEN_CHOICE_KEYS:
            return False
        return super().check_consume_key(key, character)

    def action_send(self) -> None:
        """Post the text for sending (nothing to send in an empty composer)."""
        if self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def set_text(self, text: str) -> None:
        """Replace the text and put the cursor at its end (after edit-and-resend, $EDITOR, or
        text piped into `tui-chat`)."""
        self.load_text(sanitize_for_terminal(text))
        self.move_cursor(self.document.end)

    def edit(self, edit: Edit) -> EditResult:
        """Every typed or pasted change: control characters arrive as visible pictures (␛), as
        everywhere else tui-chat shows text. The text area would draw an ESC raw, and the
        terminal would act on it (clear the screen, set the clipboard). What is sent is what
        was shown."""
        safe = sanitize_for_terminal(edit.text)
        if safe != edit.text:
            edit = dataclasses.replace(edit, text=safe)
        return super().edit(edit)

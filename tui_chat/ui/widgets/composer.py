"""The composer: a multi-line, soft-wrapped text area where the user writes the next message."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult, Location

from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.actions import KeyMap
from tui_chat.ui.bindings import (
    COMPLETION_BINDINGS,
    COMPOSER_BINDINGS,
    LOCAL_SERVER_BINDINGS,
    key_names,
)
from tui_chat.ui.textual_compat import SteadyWrapTextArea
from tui_chat.ui.widgets.widget_css import css_beside

_SCREEN_CHOICE_KEYS = frozenset(binding.key for binding in LOCAL_SERVER_BINDINGS)
# A subclass's binding for a key replaces its base class's: TextArea's own bindings of the keys
# the @ list takes (up, down) come after them, so with no list open the key moves the cursor.
_COMPLETION_KEYS = {
    key for b in COMPLETION_BINDINGS if isinstance(b, Binding) for key in b.key.split(",")
}
_TEXT_AREA_FALLBACKS = [
    b for b in TextArea.BINDINGS if isinstance(b, Binding) and b.key in _COMPLETION_KEYS
]
# `@` then a path, at the start of the text or after blank space, ending at the cursor.
_MENTION_AT_CURSOR = re.compile(r"(?:^|(?<=\s))@(\S*)$")
# How far back from the cursor a mention is looked for: the keystroke path stays cheap on a
# one-line 5 MB paste.
_MENTION_LOOKBACK = 1024

CompletionCommand = Literal["accept", "next", "previous", "close"]


@dataclass(frozen=True)
class Mention:
    """An `@path` being typed: where it starts (the `@`) and the path typed so far."""

    start: Location
    end: Location
    prefix: str


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

    BINDINGS: ClassVar[list[BindingType]] = [
        *COMPLETION_BINDINGS,  # first: while the @ list is open, Enter takes a file
        *COMPOSER_BINDINGS,
        *_TEXT_AREA_FALLBACKS,
    ]

    class Submitted(Message):
        """The user asked to send the composer's text."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    class CompletionKey(Message):
        """A key of the open @ list: move, close the list, or take `chosen` (already put in
        the text: a key typed right after it, such as Enter, finds the text as it shows)."""

        def __init__(self, command: CompletionCommand, chosen: str | None = None) -> None:
            super().__init__()
            self.command: CompletionCommand = command
            self.chosen = chosen

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
        self.completion_choice: str | None = None
        """What the open @ list would put in the text now ("" when it offers nothing), as the
        screen says; None while no list is open: the completion keys act only while one is."""
        self.has_attachments = False
        """Whether files wait to be sent (the screen says so): then an empty text may be sent."""

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Whether bindings above the composer never see `key` (Textual hides the keys a text
        field types from them). The digits of LOCAL_SERVER_BINDINGS stay visible: on the first
        run they pick a local server, and the screen lets them through to be typed otherwise."""
        if key in _SCREEN_CHOICE_KEYS:
            return False
        return super().check_consume_key(key, character)

    def action_send(self) -> None:
        """Post the text for sending (nothing to send in an empty composer without files)."""
        if self.text.strip() or self.has_attachments:
            self.post_message(self.Submitted(self, self.text))

    def _completion_key(self, command: CompletionCommand) -> None:
        chosen = self.completion_choice
        mention = self.mention_at_cursor()
        if chosen is None or mention is None:
            raise SkipAction  # the key does what it does without a list (see _COMPLETION_KEYS)
        if command == "accept":
            if not chosen or not chosen.startswith(mention.prefix):
                # Nothing to take, or a list the text has moved past (keys read in one
                # burst): Tab and Enter do what they do without a list.
                raise SkipAction
            # Here, not on the screen: the next key of a burst must see the text it will show.
            self.completion_choice = None
            self.replace_mention(mention, f"@{chosen}" if chosen.endswith("/") else f"@{chosen} ")
            self.post_message(self.CompletionKey(command, chosen))
            return
        self.post_message(self.CompletionKey(command))

    def action_accept_completion(self) -> None:
        self._completion_key("accept")

    def action_completion_next(self) -> None:
        self._completion_key("next")

    def action_completion_previous(self) -> None:
        self._completion_key("previous")

    def action_close_completion(self) -> None:
        self._completion_key("close")

    def mention_at_cursor(self) -> Mention | None:
        """The `@path` ending at the cursor, if one is being typed (no selection)."""
        start, end = self.selection
        if start != end:
            return None
        row, column = end
        line = self.document.get_line(row)
        before = line[max(0, column - _MENTION_LOOKBACK) : column]
        match = _MENTION_AT_CURSOR.search(before)
        if match is None:
            return None
        at = column - len(before) + match.start()
        if at > 0 and not line[at - 1].isspace():
            return None  # the lookback window cut a word: not the start of a mention
        return Mention((row, at), end, match.group(1))

    def replace_mention(self, mention: Mention, text: str) -> None:
        """Put `text` where `mention` was typed, the cursor after it."""
        self.replace(text, mention.start, mention.end, maintain_selection_offset=False)

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

"""The keys screen (F1 or ?): every action with its keys now, grouped by where it works.

Built from the action registry (tui_chat/ui/actions.py) and the keys in force, so a key
remapped in `[keys]` shows here as the user set it.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_chat.ui.actions import TEXTUAL_KEYS, KeyMap, Scope, actions_in
from tui_chat.ui.bindings import key_names

KEY_COLUMN = 18


def help_sections(key_map: KeyMap) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(heading, [(keys, what it does)]) for every scope whose actions have keys."""
    for scope in Scope:
        rows = [
            (key_names(keys), action.description)
            for action in actions_in(scope)
            if (keys := key_map.keys_of(action.id))
        ]
        if rows:
            yield scope.value, rows
    yield "Focus and palette", list(TEXTUAL_KEYS)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; Esc, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss_help", "Close")]

    def __init__(self, key_map: KeyMap) -> None:
        super().__init__(classes="dialog")
        self.sections = list(help_sections(key_map))

    def compose(self) -> ComposeResult:
        lines: list[Content] = []
        for heading, rows in self.sections:
            lines.append(Content.styled(heading, "bold $accent"))
            for keys, what in rows:
                if len(keys) > KEY_COLUMN:  # a long list of keys: the words go below it
                    lines.append(Content(f"  {keys}"))
                    keys = ""
                lines.append(Content(f"  {keys:<{KEY_COLUMN}} {what}"))
            lines.append(Content(""))
        with VerticalScroll(classes="dialog-box dialog-box-tall", id="help-box") as box:
            box.border_title = "Keys  (Esc to close)"
            yield Static(Content("\n").join(lines), id="help-text")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

"""The keys screen (F1 or ?): every binding of the app, grouped by where it works."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_COLUMN = 18


def key_names(keys: str) -> str:
    """'question_mark,f1' -> '?, f1': the characters a user presses, not Textual's key names."""
    shown = []
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        # Symbols such as ⏎ may not exist in a basic console font: keep words for those.
        readable = name if name in ("enter", "tab", "backspace", "delete") else format_key(name)
        shown.append("+".join([*modifiers, readable]))
    return ", ".join(shown)


def _describe(binding: Binding) -> str:
    return f"  {key_names(binding.key):<{KEY_COLUMN}} {binding.description or binding.action}"


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; Esc, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss_help", "Close")]

    def __init__(
        self, sections: Iterable[tuple[str, Iterable[Binding] | Iterable[tuple[str, str]]]]
    ) -> None:
        super().__init__(classes="dialog")
        self.sections = list(sections)

    def compose(self) -> ComposeResult:
        lines: list[Content] = []
        for heading, rows in self.sections:
            lines.append(Content.styled(heading, "bold $accent"))
            for row in rows:
                if isinstance(row, Binding):
                    lines.append(Content(_describe(row)))
                else:
                    keys, what = row
                    lines.append(Content(f"  {key_names(keys):<{KEY_COLUMN}} {what}"))
            lines.append(Content(""))
        with VerticalScroll(classes="dialog-box dialog-box-tall", id="help-box") as box:
            box.border_title = "Keys  (Esc to close)"
            yield Static(Content("\n").join(lines), id="help-text")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

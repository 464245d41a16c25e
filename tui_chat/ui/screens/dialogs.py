"""Small modal dialogs: ask for a line of text, confirm, choose from a list, edit a longer text.

Each returns its answer through `dismiss` (None when the user pressed Esc), so callers use
`push_screen(dialog, callback)` or `await push_screen_wait(dialog)` and stay in charge.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from tui_chat.sanitize import sanitize_for_terminal

# A dialog box holds 64 cells of text at 80 columns: a quoted title this long leaves room for the
# question on two lines, so the dialog fits 80x24.
DIALOG_TITLE_CELLS = 40


def dialog_title(title: str, cells: int = DIALOG_TITLE_CELLS) -> str:
    """A title made inert and put on one line, shortened with … to fit in a dialog's question."""
    one_line = " ".join(sanitize_for_terminal(title).split())
    return Content(one_line).truncate(cells, ellipsis=True).plain


class _Dialog(ModalScreen[str | None]):
    """Shared frame: a titled box in the middle of the screen, Esc to cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog")
        self.dialog_title = title

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextInputDialog(_Dialog):
    """Ask for one line of text (rename a conversation)."""

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(title)
        self.initial_value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.dialog_title
            yield Input(value=self.initial_value, placeholder=self.placeholder, id="dialog-input")
            yield Label("Enter to save · Esc to cancel", classes="dialog-hint")

    @on(Input.Submitted, "#dialog-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)


class ConfirmDialog(_Dialog):
    """A yes/no question; y or Enter confirms, n or Esc cancels. Dismisses with "yes" or None."""

    BINDINGS = [
        Binding("y", "confirm", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    def __init__(self, title: str, question: str) -> None:
        super().__init__(title)
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.dialog_title
            yield Label(sanitize_for_terminal(self.question), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss("yes")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss("yes" if event.button.id == "yes" else None)


class ChoiceDialog(_Dialog):
    """Choose one item from a list (a model, a profile); type to narrow long lists.

    The filter box keeps the focus so typing always narrows; up/down move in the list.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[str], current: str | None = None) -> None:
        super().__init__(title)
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.dialog_title
            yield Input(placeholder="type to narrow, or enter a name", id="choice-filter")
            yield OptionList(id="choice-list")
            yield Label("↑/↓ move · Enter choose · Esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self._show(self.choices)
        option_list = self.query_one("#choice-list", OptionList)
        if self.current in self.choices:
            option_list.highlighted = self.choices.index(self.current)
        self.query_one("#choice-filter", Input).focus()

    def action_move(self, step: int) -> None:
        option_list = self.query_one("#choice-list", OptionList)
        if option_list.option_count:
            current = option_list.highlighted or 0
            option_list.highlighted = max(0, min(option_list.option_count - 1, current + step))

    def _show(self, choices: Sequence[str]) -> None:
        option_list = self.query_one("#choice-list", OptionList)
        option_list.set_options(
            Option(("● " if c == self.current else "  ") + sanitize_for_terminal(c), id=c)
            for c in choices
        )
        if choices:
            option_list.highlighted = 0

    @on(Input.Changed, "#choice-filter")
    def _narrow(self, event: Input.Changed) -> None:
        needle = event.value.casefold()
        self._show([c for c in self.choices if needle in c.casefold()])

    @on(Input.Submitted, "#choice-filter")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if typed in self.choices:  # an exact name wins over the first partial match
            self.dismiss(typed)
            return
        option_list = self.query_one("#choice-list", OptionList)
        if option_list.option_count and option_list.highlighted is not None:
            self.dismiss(option_list.get_option_at_index(option_list.highlighted).id)
        elif typed:
            self.dismiss(typed)  # a model the server did not list

    @on(OptionList.OptionSelected, "#choice-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class TextEditorDialog(_Dialog):
    """Edit a longer text (the system prompt). ctrl+s saves, Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(title)
        self.initial_text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box dialog-box-tall") as box:
            box.border_title = self.dialog_title
            yield TextArea(self.initial_text, soft_wrap=True, id="dialog-text")
            yield Label("ctrl+s save · Esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#dialog-text", TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#dialog-text", TextArea).text)

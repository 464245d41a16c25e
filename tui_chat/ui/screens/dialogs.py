"""Small modal dialogs: ask for a line of text, confirm, choose from a list, edit a longer text.

Each returns its answer through `dismiss` (None when the user pressed Esc), so callers use
`push_screen(dialog, callback)` or `await push_screen_wait(dialog)` and stay in charge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from tui_chat.sanitize import one_line, sanitize_for_terminal
from tui_chat.ui.textual_compat import KeyOrderInput, KeyOrderTextArea

# A dialog box holds 64 cells of text at 80 columns: a quoted title this long leaves room for the
# question on two lines, so the dialog fits 80x24.
DIALOG_TITLE_CELLS = 40


def dialog_title(title: str, cells: int = DIALOG_TITLE_CELLS) -> str:
    """A title made inert and put on one line, shortened with … to fit in a dialog's question."""
    return Content(one_line(title)).truncate(cells, ellipsis=True).plain


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
            yield KeyOrderInput(
                value=self.initial_value, placeholder=self.placeholder, id="dialog-input"
            )
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

    The filter box keeps the focus so typing always narrows; up/down move in the list. A list
    still on its way (`loading_row`) shows a loading row until `show_choices` fills it in, so the
    dialog can open at once and take the keys typed meanwhile. A typed name that is not in the
    list goes to `check_typed`: its refusal is shown and the dialog stays open; without
    `check_typed` any typed name is accepted. Enter takes the highlighted row, which is the
    first match of what was typed, except while the list is loading: then a name that no row
    equals is taken as typed.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
    ]

    def __init__(
        self,
        title: str,
        choices: Sequence[str],
        current: str | None = None,
        *,
        loading_row: str = "",
        check_typed: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(title)
        self.choices = list(choices)
        self.current = current
        self.loading_row = loading_row  # not `loading`: Widget.loading covers the screen
        self.check_typed = check_typed
        self._shown: list[str] = []  # the choices the list shows now, in order
        self._list_note = ""  # why the list is short; a refusal shows only until the next edit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.dialog_title
            yield KeyOrderInput(placeholder="type to narrow, or enter a name", id="choice-filter")
            yield Label("", id="choice-note", classes="dialog-note")
            yield OptionList(id="choice-list")
            yield Label("↑/↓ move · Enter choose · Esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_note("")
        self._show(self.choices)
        # At once, not through focus()'s deferred call: keys already queued behind the one that
        # opened this dialog must find the filter focused.
        self.set_focus(self.query_one("#choice-filter", Input))

    @property
    def note(self) -> str:
        """The line under the filter: why the list is short, or why a typed name was refused."""
        return str(self.query_one("#choice-note", Label).content)

    def show_note(self, text: str) -> None:
        """Show `text` under the filter (or nothing when it is empty)."""
        label = self.query_one("#choice-note", Label)
        label.update(sanitize_for_terminal(text))
        label.display = bool(text)

    def show_choices(self, choices: Sequence[str], note: str = "") -> None:
        """The list has arrived: it replaces the loading row, narrowed by what was typed."""
        self.choices = list(choices)
        self.loading_row = ""
        self._list_note = note
        self.show_note(note)
        self._show(self._matching(self.query_one("#choice-filter", Input).value))

    def action_move(self, step: int) -> None:
        option_list = self.query_one("#choice-list", OptionList)
        last = len(self._shown) - 1  # the loading row, after them, is never chosen
        if last >= 0:
            current = option_list.highlighted
            target = 0 if current is None else current + step
            option_list.highlighted = max(0, min(last, target))

    def _matching(self, typed: str) -> list[str]:
        needle = typed.casefold()
        return [c for c in self.choices if needle in c.casefold()]

    def _show(self, choices: Sequence[str]) -> None:
        self._shown = list(choices)
        option_list = self.query_one("#choice-list", OptionList)
        options = [
            Option(("● " if c == self.current else "  ") + sanitize_for_terminal(c), id=c)
            for c in choices
        ]
        if self.loading_row:
            options.append(Option("  " + sanitize_for_terminal(self.loading_row), disabled=True))
        option_list.set_options(options)
        typed = self.query_one("#choice-filter", Input).value.strip()
        if not choices:
            return
        if not typed:
            keep_current = self.current in choices
            option_list.highlighted = choices.index(self.current) if keep_current else 0
        elif self.loading_row and typed not in choices:
            # No row is the answer yet: a full name typed before the list came (fast, or over
            # SSH) must not turn into a longer listed one ("gpt-4o" into "gpt-4o-mini").
            option_list.highlighted = None
        else:
            option_list.highlighted = 0

    @on(Input.Changed, "#choice-filter")
    def _narrow(self, event: Input.Changed) -> None:
        self._show(self._matching(event.value))
        self.show_note(self._list_note)

    @on(Input.Submitted, "#choice-filter")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if typed in self.choices:  # an exact name wins over the first partial match
            self.dismiss(typed)
            return
        highlighted = self.query_one("#choice-list", OptionList).highlighted
        if highlighted is not None and highlighted < len(self._shown):
            self.dismiss(self._shown[highlighted])
            return
        refusal = self.check_typed(event.value) if self.check_typed else None
        if refusal:
            self.show_note(refusal)
        elif typed:
            self.dismiss(typed)  # e.g. a model the server did not list

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
            yield KeyOrderTextArea(self.initial_text, soft_wrap=True, id="dialog-text")
            yield Label("ctrl+s save · Esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#dialog-text", TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#dialog-text", TextArea).text)

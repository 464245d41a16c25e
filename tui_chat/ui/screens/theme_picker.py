"""The theme picker: move through the themes to preview each on the whole app, Enter to keep one.

The picker only previews and reports the choice; saving it to the config file is the caller's
job (`push_screen(ThemePickerScreen(names), callback)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from tui_chat.sanitize import sanitize_for_terminal


class ThemePickerScreen(ModalScreen[str | None]):
    """Choose a theme with a live preview; dismisses with the theme's name, or None on Esc.

    Each highlighted theme is applied to the app at once, so the user judges it on their real
    conversation; Esc puts the original theme back.
    """

    CSS_PATH = "theme_picker.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, theme_names: Sequence[str] | None = None) -> None:
        """Offer `theme_names` in the order given (default: every theme the app has registered)."""
        super().__init__()
        self._theme_names = theme_names
        self._original_theme = ""

    def compose(self) -> ComposeResult:
        available = self.app.available_themes
        names = sorted(available) if self._theme_names is None else self._theme_names
        current = self.app.theme
        options = []
        for name in names:
            if name not in available:
                continue
            label = sanitize_for_terminal(name) + ("  (current)" if name == current else "")
            # Content, not str: a theme name from a user's file is not markup.
            options.append(Option(Content(label), id=name))
        with Vertical(id="theme-picker") as box:
            box.border_title = "Theme"
            yield OptionList(*options, id="theme-list")
            yield Label("↑↓ preview · Enter keep · Esc cancel", id="theme-picker-hint")

    def on_mount(self) -> None:
        self._original_theme = self.app.theme
        option_list = self.query_one("#theme-list", OptionList)
        try:
            option_list.highlighted = option_list.get_option_index(self._original_theme)
        except OptionDoesNotExist:  # the current theme is not among those offered
            option_list.highlighted = 0 if option_list.option_count else None
        option_list.focus()

    @on(OptionList.OptionHighlighted, "#theme-list")
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_id is not None:
            self.app.theme = event.option_id

    @on(OptionList.OptionSelected, "#theme-list")
    def _choose(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.app.theme = event.option_id
            self.dismiss(event.option_id)

    def action_cancel(self) -> None:
        """Put back the theme the app had when the picker opened, and choose nothing."""
        self.app.theme = self._original_theme
        self.dismiss(None)

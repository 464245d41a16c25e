"""The Textual application: wiring of screens, bindings, themes, commands and signals.

Flows live in the screens; this module only puts the pieces together.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tui_chat.config import Config, ConfigProblem, save_setting
from tui_chat.paths import AppPaths
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.bindings import (
    APP_BINDINGS,
    CHAT_SCREEN_BINDINGS,
    NEWLINE_KEYS_DEFAULT,
    NEWLINE_KEYS_SWAPPED,
    SEND_KEYS_DEFAULT,
    SEND_KEYS_SWAPPED,
    SIDEBAR_BINDINGS,
)
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.services import Services
from tui_chat.ui.theme_colors import derive_app_variables
from tui_chat.ui.themes import (
    code_theme_of,
    default_theme_name,
    load_all_themes,
    register_themes,
    terminal_color_count,
)

UI_DIR = Path(__file__).parent


class TuiChatApp(App[None]):
    """tui-chat: chat with OpenAI-compatible models in the terminal."""

    TITLE = "tui-chat"
    CSS_PATH = [UI_DIR / "app.tcss", UI_DIR / "widgets" / "message_pane.tcss"]
    BINDINGS = APP_BINDINGS
    ENABLE_COMMAND_PALETTE = True
    # Responsive classes on the screen: a slimmer sidebar at 80 columns, a roomier one at 160+.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (160, "-wide")]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        specs, theme_errors = load_all_themes(services.paths.user_themes_dir)
        self.theme_specs = {spec.name: spec for spec in specs}
        self.theme_errors = theme_errors
        register_themes(self, specs)
        configured = services.config.theme
        chosen = default_theme_name(configured, set(self.theme_specs), terminal_color_count())
        self.theme = chosen
        self.set_keymap(services.config.keys)  # [keys] in config.toml: binding id -> keys
        self._startup_warnings = [str(p) for p in services.config_problems]
        self._startup_warnings += [str(e) for e in theme_errors]
        if configured and configured not in self.theme_specs:
            self._startup_warnings.append(f"Theme {configured!r} not found; using {chosen!r}.")

    def get_default_screen(self) -> Screen[None]:
        return ChatScreen(self.services)

    def on_mount(self) -> None:
        for warning in self._startup_warnings:
            self.notify(warning, title="Configuration", severity="warning", timeout=15)
        self._install_signal_handlers()

    def watch_theme(self, theme: str) -> None:
        """Code blocks follow the theme too (the pane renders them with a Pygments style)."""
        screen = self._main_screen()
        if screen is not None and screen.is_mounted:
            screen.pane.code_theme = code_theme_of(self.current_theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """tui-chat's own TCSS variables, derived for any theme (Textual's built-ins included)."""
        return derive_app_variables(self.current_theme)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast goes through here: text from servers, files and configs is made inert
        (no escape sequences) and not read as markup (a `[profiles.x]` in an error stays text)."""
        super().notify(
            sanitize_for_terminal(message),
            title=sanitize_for_terminal(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    # ------------------------------------------------------------- signals
    def _install_signal_handlers(self) -> None:
        """A dropped SSH session sends SIGHUP: keep the partial reply and exit cleanly."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._hang_up)

    def _hang_up(self) -> None:
        screen = self._main_screen()
        if screen is not None:
            screen.save_before_exit()
        self.exit()

    async def action_quit(self) -> None:
        """ctrl+q: the draft is written before the app goes (a streaming reply is saved by its
        own worker as it is cancelled)."""
        screen = self._main_screen()
        if screen is not None:
            screen.keep_draft_now()
        await super().action_quit()

    def _main_screen(self) -> ChatScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                return screen
        return None

    # ------------------------------------------------------- app actions
    def action_toggle_sidebar(self) -> None:
        screen = self._main_screen()
        if screen is not None:
            sidebar = screen.sidebar
            sidebar.display = not sidebar.display
            if not sidebar.display:
                screen.composer.focus()

    def action_new_conversation(self) -> None:
        screen = self._main_screen()
        if screen is not None:
            screen.action_new_conversation()

    def action_show_help(self) -> None:
        self.push_screen(
            HelpScreen(
                [
                    ("Everywhere", APP_BINDINGS),
                    ("Chat", CHAT_SCREEN_BINDINGS),
                    ("Composer", self._composer_keys()),
                    ("Conversation list", SIDEBAR_BINDINGS),
                    ("Messages", self._pane_keys()),
                    (
                        "Focus",
                        [
                            ("tab / shift+tab", "move between list, messages and composer"),
                            ("ctrl+p", "command palette: every action"),
                        ],
                    ),
                ]
            )
        )

    def _composer_keys(self) -> list[tuple[str, str]]:
        """The composer's keys as the Composer reads them (shift+enter included: README
        promises it where the terminal reports it)."""
        if self.services.config.enter_sends:
            send, newline = SEND_KEYS_DEFAULT, NEWLINE_KEYS_DEFAULT
        else:
            send, newline = SEND_KEYS_SWAPPED, NEWLINE_KEYS_SWAPPED
        return [
            (",".join(send), "send"),
            (",".join(newline), "new line"),
            ("ctrl+e", "edit in $EDITOR"),
        ]

    def _pane_keys(self) -> Iterable[tuple[str, str]]:
        from tui_chat.ui.widgets.message_pane import MessagePane

        for binding in MessagePane.BINDINGS:
            if hasattr(binding, "key"):
                yield (binding.key, binding.description or binding.action)  # type: ignore[union-attr]

    def action_pick_theme(self) -> None:
        from tui_chat.ui.screens.theme_picker import ThemePickerScreen

        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:
                save_setting(self.services.paths.config_file, "theme", name)
            except OSError as error:
                self.notify(f"Theme applied but not saved: {error}", severity="warning")
                return
            self.notify(f"Theme {name} saved to {self.services.paths.config_file}")

        self.push_screen(ThemePickerScreen(sorted(self.theme_specs)), chosen)

    def action_change_theme(self) -> None:  # Textual's own palette entry opens our picker
        self.action_pick_theme()

    # ---------------------------------------------------- command palette
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        """Every action of the app, in the command palette (ctrl+p)."""
        commands: list[tuple[str, str, Callable[[], object]]] = []
        chat = self._main_screen()
        if chat is not None:
            run = chat.run_worker
            commands += [
                (
                    "New conversation",
                    "Start a new conversation (ctrl+n)",
                    chat.action_new_conversation,
                ),
                (
                    "Rename conversation",
                    "Rename the open conversation",
                    lambda: run(chat.rename(), group="dialog"),
                ),
                (
                    "Delete conversation",
                    "Move the open conversation to the trash",
                    lambda: run(chat.trash(), group="dialog"),
                ),
                (
                    "Restore deleted conversation",
                    "Bring back the last conversation you deleted",
                    chat.restore_last_trashed,
                ),
                (
                    "Pin / unpin conversation",
                    "Keep the open conversation at the top of the list",
                    lambda: run(chat.toggle_pin(), group="dialog"),
                ),
                (
                    "Export to Markdown",
                    "Write the conversation as a Markdown file",
                    chat.export_markdown,
                ),
                (
                    "Copy conversation",
                    "Copy the whole conversation as Markdown (OSC 52)",
                    chat.copy_conversation,
                ),
                (
                    "Switch model",
                    "Choose a model from the profile's server (ctrl+o)",
                    chat.action_pick_model,
                ),
                (
                    "Switch profile",
                    "Choose another server profile",
                    lambda: run(chat.pick_profile(), group="dialog"),
                ),
                (
                    "Edit system prompt",
                    "Change this conversation's system prompt",
                    lambda: run(chat.edit_system_prompt(), group="dialog"),
                ),
                (
                    "Regenerate reply",
                    "Ask again for the last reply (ctrl+r)",
                    chat.action_regenerate,
                ),
                ("Stop reply", "Stop the streaming reply (Esc)", chat.action_stop_reply),
                (
                    "Edit in $EDITOR",
                    "Write the message in your editor (ctrl+e)",
                    chat.action_edit_in_editor,
                ),
            ]
        commands += [
            ("Choose theme", "Preview and pick a theme (ctrl+t)", self.action_pick_theme),
            (
                "Toggle sidebar",
                "Hide or show the conversation list (ctrl+b)",
                self.action_toggle_sidebar,
            ),
            ("Keys", "Show every key binding (F1)", self.action_show_help),
            ("Quit", "Quit tui-chat (ctrl+q)", self.action_quit),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)

    async def on_unmount(self) -> None:
        await self.services.aclose()


def run_app(paths: AppPaths, config: Config, problems: list[ConfigProblem]) -> int:
    """Start the app full-screen; returns the process exit code."""
    app = TuiChatApp(Services.create(paths, config, problems))
    app.run()
    return app.return_code or 0

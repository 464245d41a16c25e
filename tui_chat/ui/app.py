"""The Textual application: wiring of screens, bindings, themes, commands and signals.

Flows live in the screens; this module only puts the pieces together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tui_chat.config import Config, ConfigProblem, save_setting
from tui_chat.paths import AppPaths
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.ui.actions import ACTIONS, Scope
from tui_chat.ui.bindings import APP_BINDINGS, key_names
from tui_chat.ui.exit_guard import ExitGuard
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.services import Services
from tui_chat.ui.start_request import StartRequest
from tui_chat.ui.terminal_hangup import HangupSafeDriver, drop_output
from tui_chat.ui.textual_compat import KeysInOrder, recognise_alt_enter
from tui_chat.ui.theme_colors import derive_app_variables
from tui_chat.ui.themes import (
    default_theme_name,
    load_all_themes,
    register_themes,
    terminal_color_count,
)

UI_DIR = Path(__file__).parent


class TuiChatApp(App[None]):
    """tui-chat: chat with OpenAI-compatible models in the terminal."""

    TITLE = "tui-chat"
    CSS_PATH = [UI_DIR / "app.tcss"]
    BINDINGS = APP_BINDINGS
    ENABLE_COMMAND_PALETTE = True
    # Responsive classes on the screen: a slimmer sidebar at 80 columns, a roomier one at 160+.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (160, "-wide")]

    def __init__(self, services: Services, start: StartRequest | None = None) -> None:
        # Under Pilot (`run_test`) Textual uses its headless driver whatever is given here.
        super().__init__(driver_class=HangupSafeDriver)
        self.services = services
        self.start = start or StartRequest()
        self._keys_in_order = KeysInOrder(self, super().on_event)
        self.exit_guard = ExitGuard(
            save=self._save_before_exit,
            request_exit=self.exit,
            terminal_gone=lambda: drop_output(self),
        )
        specs, theme_errors = load_all_themes(services.paths.user_themes_dir)
        self.theme_specs = {spec.name: spec for spec in specs}
        self.theme_errors = theme_errors
        register_themes(self, specs)
        configured = services.config.theme
        chosen = default_theme_name(configured, set(self.theme_specs), terminal_color_count())
        self.theme = chosen
        recognise_alt_enter()  # the composer's newline key, as tmux, screen and xterm send it
        self.key_map = services.key_map
        self.set_keymap(self.key_map.overrides())  # enter_sends and [keys] in config.toml
        self._startup_warnings = [str(p) for p in services.config_problems]
        self._startup_warnings += [str(e) for e in theme_errors]
        if configured and configured not in self.theme_specs:
            self._startup_warnings.append(f"Theme {configured!r} not found; using {chosen!r}.")

    def get_default_screen(self) -> Screen[None]:
        return ChatScreen(self.services, self.start)

    def on_load(self) -> None:
        """Before the terminal is touched: from here on SIGHUP and SIGTERM save and exit
        (until now their default action ends the process, with nothing to save yet)."""
        self.exit_guard.install(asyncio.get_running_loop())

    def on_mount(self) -> None:
        for warning in self._startup_warnings:
            self.notify(warning, title="Configuration", severity="warning", timeout=15)

    async def on_event(self, event: events.Event) -> None:
        """Keys read in one burst act one at a time, in order (see `KeysInOrder`)."""
        if not isinstance(event, events.Key):
            await super().on_event(event)
        elif not event.is_forwarded:
            await self._keys_in_order.key_read(event)
        else:
            await super().on_event(event)  # bubbled back up: the app's bindings run here
            self._keys_in_order.key_bubbled_to_app(event)

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
    def _save_before_exit(self) -> None:
        """SIGHUP or SIGTERM (a dropped SSH session): keep the draft and the partial reply."""
        screen = self._main_screen()
        if screen is not None:
            screen.save_before_exit()

    async def action_quit(self) -> None:
        """ctrl+q: the draft is written before the app goes (a streaming reply is saved by its
        own worker as it is cancelled), and the open conversation noted for the next start."""
        screen = self._main_screen()
        if screen is not None:
            screen.before_quit()
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
            screen.action_toggle_sidebar()

    def action_new_conversation(self) -> None:
        screen = self._main_screen()
        if screen is not None:
            screen.action_new_conversation()

    def action_show_help(self) -> None:
        self.push_screen(HelpScreen(self.key_map))

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
        """Every action with a palette title (tui_chat/ui/actions.py), with its keys now."""
        chat = self._main_screen()
        for action in ACTIONS:
            if action.palette is None:
                continue
            namespace = self if action.scope is Scope.APP else chat
            if namespace is None:
                continue  # the chat screen's commands need the chat screen
            keys = self.key_map.keys_of(action.id)
            hint = f" ({key_names(keys)})" if keys else ""
            help_text = f"{action.description[:1].upper()}{action.description[1:]}{hint}"
            yield SystemCommand(action.palette, help_text, self._runner(action.action, namespace))

    def _runner(self, action: str, namespace: DOMNode) -> Callable[[], object]:
        return lambda: self.run_action(action, namespace)

    async def on_unmount(self) -> None:
        await self.services.aclose()
        # Textual has restored the terminal by now (Unmount comes after application mode).
        self.exit_guard.app_closed()


def run_app(
    paths: AppPaths,
    config: Config,
    problems: list[ConfigProblem],
    start: StartRequest | None = None,
) -> int:
    """Start the app full-screen (on what `start` asks); returns the process exit code."""
    app = TuiChatApp(Services.create(paths, config, problems), start)
    app.run()
    return app.return_code or 0

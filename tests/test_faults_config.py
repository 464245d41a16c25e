"""Fault injection, the configuration: the app always starts, and says what is wrong and where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app_harness import FAKE_API_KEY, notifications, wait_for
from app_harness import chat as chat_screen
from app_harness import reply_finished as reply_done
from openai_server import FakeOpenAIServer

from tui_chat.config import load_config
from tui_chat.paths import AppPaths
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.services import Services


def app_from_config(tmp_path: Path, text: str, mode: int = 0o600) -> TuiChatApp:
    """The app as `tui-chat` starts it: config.toml read by load_config, problems passed on."""
    config_file = tmp_path / "config" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text, encoding="utf-8")
    config_file.chmod(mode)
    paths = AppPaths(config_file=config_file, data_dir=tmp_path / "data")
    config, problems = load_config(config_file)
    return TuiChatApp(Services.create(paths, config, problems))


def warnings(app: Any) -> str:
    return "\n".join(f"{n.title}: {n.message}" for n in notifications(app))


async def test_broken_toml_starts_on_defaults_and_names_file_and_line(tmp_path: Path) -> None:
    app = app_from_config(tmp_path, 'theme = "tui-chat-dark"\n[profiles.local\nbase_url = 3\n')
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "not valid TOML" in warnings(app), what="the warning")
        said = warnings(app)
        assert f"{tmp_path / 'config' / 'config.toml'}:2" in said
        # Running on defaults, and usable: the composer takes text.
        screen = chat_screen(app)
        screen.composer.focus()
        await pilot.press(*"still typing")
        assert screen.composer.text == "still typing"
        assert app.is_running


async def test_odd_profiles_missing_theme_and_failing_key_command_are_each_said(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    leaked_in_stderr = "sk-proj-LEAKEDBYVAULT123456789"
    config = f"""
default_profile = "local"
theme = "no-such-theme"

[profiles.local]
base_url = "{openai_server.base_url}"
api_key_command = "echo 'vault: {leaked_in_stderr} is locked' >&2; exit 3"
default_model = "gpt-4o-mini"

[profiles.nourl]
default_model = "llama3"

[profiles.inline]
base_url = "{openai_server.base_url}"
api_key = "{FAKE_API_KEY}"
"""
    app = app_from_config(tmp_path, config, mode=0o644)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "no-such-theme" in warnings(app), what="the warnings")
        said = warnings(app)
        assert "Theme 'no-such-theme' not found" in said
        assert "profile has no base_url" in said and "nourl" in said
        assert "other users can read it" in said and "chmod 600" in said
        assert app.theme != "no-such-theme"

        # The key command fails: the reply says so inline, the prompt is kept, nothing leaks.
        screen = chat_screen(app)
        screen.composer.focus()
        screen.composer.set_text("hello with a locked vault")
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), what="the failure")
        prompt, failed = screen.conversation.messages
        assert prompt.content == "hello with a locked vault"
        assert failed.finish_reason == "error"
        assert failed.error is not None
        assert "api_key_command" in failed.error and "exit status 3" in failed.error
        assert openai_server.chat_requests == []
        await pilot.press("ctrl+r")  # retry runs the command again, and fails the same way
        await wait_for(
            pilot,
            lambda: reply_done(screen)() and screen.conversation.messages[1] is not failed,
            what="the retried failure",
        )
        assert screen.conversation.messages[1].finish_reason == "error"
        assert len(screen.conversation.messages) == 2
        seen = warnings(app) + "\n".join(screen.pane.visible_text()) + str(failed.error)
    saved = "".join(p.read_text() for p in (tmp_path / "data").rglob("*.toml"))
    for text in (seen, saved):
        assert leaked_in_stderr not in text
        assert FAKE_API_KEY not in text
    assert "hello with a locked vault" in saved

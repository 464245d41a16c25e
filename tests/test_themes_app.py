"""Themes in the real app: the start-up choice, a broken user theme, the picker's saved choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import make_app, notifications, wait_for
from openai_server import FakeOpenAIServer

from tui_chat.config import load_config
from tui_chat.ui.screens.theme_picker import ThemePickerScreen


async def test_app_starts_in_the_ansi_theme_on_term_screen_with_no_theme_configured(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "screen")
    monkeypatch.delenv("COLORTERM", raising=False)
    app = make_app(tmp_path, openai_server.base_url, theme=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "ansi-16"
        assert app.native_ansi_color  # the terminal's own palette, not RGB approximations


async def test_broken_user_theme_is_named_and_the_app_falls_back_to_the_default(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")
    broken = tmp_path / "config" / "themes" / "mine.toml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        'name = "mine"\ndark = true\nprimary = "#12345g"\n'
        'foreground = "#eeeeee"\nbackground = "#111111"\n',
        encoding="utf-8",
    )
    app = make_app(tmp_path, openai_server.base_url, theme="mine")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "tui-chat-dark"
        messages = [notification.message for notification in notifications(app)]
        assert any(str(broken) in m and "'primary'" in m for m in messages), messages


async def test_ctrl_t_picker_previews_and_saves_the_choice_to_the_config_file(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")
    app = make_app(tmp_path, openai_server.base_url, theme="tui-chat-dark")
    config_file = app.services.paths.config_file
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, ThemePickerScreen), what="picker")
        await pilot.press("up")
        previewed = app.theme
        assert previewed != "tui-chat-dark"
        await pilot.press("enter")
        await wait_for(pilot, lambda: config_file.exists(), what="config saved")
    config, problems = load_config(config_file)
    assert config.theme == previewed
    assert problems == []

"""The composer on its own: long texts stay cheap to hold."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui_chat.ui.widgets.composer import Composer

LINE = "2026-11-25 05:50:36 INFO worker[42] processed request id=abcdef0123 in 12ms and more\n"


class ComposerApp(App[None]):
    """Just the composer, with no stylesheet but its own."""

    def compose(self) -> ComposeResult:
        yield Composer(id="composer")


async def test_a_long_text_is_wrapped_again_only_when_the_width_changes() -> None:
    app = ComposerApp()
    async with app.run_test(size=(60, 30)) as pilot:
        composer = app.query_one(Composer)
        composer.focus()
        wraps: list[int] = []
        document = composer.wrapped_document
        original_wrap = document.wrap

        def counting_wrap(width: int, tab_width: int | None = None) -> None:
            wraps.append(width)
            original_wrap(width, tab_width)

        document.wrap = counting_wrap  # type: ignore[method-assign]
        composer.insert(LINE * 500)  # grows the composer to its maximum height: a scroll bar
        await pilot.pause()
        assert composer.scrollbars_enabled[0]
        await pilot.resize_terminal(60, 40)  # taller only: the wrap still holds
        await pilot.pause()
        assert wraps == []
        await pilot.resize_terminal(80, 40)  # wider: wrapped again, at the new width
        await pilot.pause()
        assert wraps == [composer.wrap_width]
        height = composer.wrapped_document.height
        original_wrap(composer.wrap_width, composer.indent_width)  # wrapping afresh agrees
        assert composer.wrapped_document.height == height > 500

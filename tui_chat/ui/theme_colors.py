"""Colour arithmetic for themes: WCAG contrast, and tui-chat's own TCSS variables derived from
any theme's colours (so Textual's built-in themes work too). Kept apart from themes.py, which
reads and checks theme files.
"""

from __future__ import annotations

from textual.color import Color
from textual.design import (
    DEFAULT_DARK_BACKGROUND,
    DEFAULT_DARK_SURFACE,
    DEFAULT_LIGHT_BACKGROUND,
    DEFAULT_LIGHT_SURFACE,
)
from textual.theme import Theme

APP_VARIABLES = ("user-message", "assistant-message", "gauge-fill", "gauge-warn", "muted-text")
"""TCSS variables tui-chat's styles use beyond Textual's; the loader derives any a file omits."""

BODY_TEXT_CONTRAST = 4.5
"""WCAG 2 AA minimum contrast ratio for body text."""


def _relative_luminance(color: Color) -> float:
    """WCAG 2 relative luminance of an opaque colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast_ratio(foreground: str | Color, background: str | Color) -> float:
    """WCAG 2 contrast ratio (1 to 21) of text in `foreground` on `background`.

    A translucent foreground is first blended onto the background, as the terminal would show
    it. ANSI names are measured at the xterm default RGB values Textual assigns them;
    `ansi_default` has no knowable value and must be excluded by the caller.
    """
    fg = Color.parse(foreground) if isinstance(foreground, str) else foreground
    bg = Color.parse(background) if isinstance(background, str) else background
    bg = bg.with_alpha(1.0)
    if fg.a < 1:
        fg = bg + fg
    lighter, darker = sorted((_relative_luminance(fg), _relative_luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def is_ansi(value: str | None) -> bool:
    return value is not None and value.strip().lower().startswith("ansi_")


def _base_colors(theme: Theme) -> tuple[Color, Color, list[Color]]:
    """Foreground, background and the backgrounds text sits on, as Textual would derive them."""
    if theme.dark:
        background = Color.parse(theme.background or DEFAULT_DARK_BACKGROUND)
        surface = Color.parse(theme.surface or DEFAULT_DARK_SURFACE)
    else:
        background = Color.parse(theme.background or DEFAULT_LIGHT_BACKGROUND)
        surface = Color.parse(theme.surface or DEFAULT_LIGHT_SURFACE)
    foreground = Color.parse(theme.foreground) if theme.foreground else background.inverse
    grounds = [background, surface]
    if theme.panel:
        grounds.append(Color.parse(theme.panel))
    return foreground, background, grounds


def _muted_text(foreground: Color, grounds: list[Color]) -> Color:
    """The faintest blend of foreground toward the background still readable as body text.

    Muted text (timestamps, token counts, hints) is still text a user must read, so it keeps the
    4.5:1 ratio on every background it may sit on; it fades at most 45% of the way.
    """
    background = grounds[0]
    for step in range(9, 0, -1):
        candidate = foreground.blend(background, step * 0.05, alpha=1.0)
        if all(contrast_ratio(candidate, ground) >= BODY_TEXT_CONTRAST for ground in grounds):
            return candidate
    return foreground


def derive_app_variables(theme: Theme) -> dict[str, str]:
    """Values for tui-chat's own TCSS variables, derived from a theme's colours.

    Works for any Textual `Theme`, so the app can return it from
    `App.get_theme_variable_defaults` and Textual's built-in themes still satisfy its TCSS.
    A theme's own `variables` take precedence over these.
    """
    primary = theme.primary
    accent = theme.accent or primary
    warning = theme.warning or primary
    if theme.ansi or is_ansi(theme.background) or is_ansi(theme.foreground):
        # Blending is meaningless for ANSI colours: the terminal decides what they look like.
        return {
            "user-message": accent,
            "assistant-message": primary,
            "gauge-fill": primary,
            "gauge-warn": warning,
            "muted-text": "ansi_bright_black",
        }
    foreground, _background, grounds = _base_colors(theme)
    return {
        "user-message": Color.parse(accent).hex,
        "assistant-message": Color.parse(primary).hex,
        "gauge-fill": Color.parse(primary).hex,
        "gauge-warn": Color.parse(warning).hex,
        "muted-text": _muted_text(foreground, grounds).hex,
    }

"""Themes as TOML files: loading, checking, registering with the app, and code highlighting.

A theme file maps onto Textual's `Theme` (name, dark, the base colours, extra TCSS
`[variables]`) plus `code_theme`, the style of code blocks: a Pygments style name, or Rich's
"ansi_dark" / "ansi_light" (the message pane renders Markdown with Rich). Bundled themes ship in
the repository's `themes/` folder (inside the wheel: `tui_chat/_bundled_themes`); users drop
more into the config folder's `themes/`, and a user theme overrides a bundled one of the same name.

A broken file never stops the app: `load_all_themes` returns the good themes plus a
`ThemeFileError` per bad file, naming the file and the problem.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.app import App
from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.theme import Theme

from tui_chat.ui.code_styles import all_code_themes, is_known_code_theme
from tui_chat.ui.theme_colors import derive_app_variables, is_ansi

DEFAULT_THEME_NAME = "tui-chat-dark"
ANSI_THEME_NAME = "ansi-16"

REQUIRED_KEYS = ("name", "dark", "primary", "foreground", "background")
OPTIONAL_COLOR_KEYS = (
    "secondary",
    "accent",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)
COLOR_KEYS = ("primary", "foreground", "background", *OPTIONAL_COLOR_KEYS)
_OTHER_KEYS = ("ansi", "luminosity_spread", "text_alpha", "code_theme", "variables")
KNOWN_KEYS = frozenset((*REQUIRED_KEYS, *OPTIONAL_COLOR_KEYS, *_OTHER_KEYS))

# Where the wheel puts the repository's top-level themes/ (hatch force-include in pyproject.toml).
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_WHEEL_THEMES_DIR = _PACKAGE_DIR / "_bundled_themes"
_SOURCE_THEMES_DIR = _PACKAGE_DIR.parent / "themes"


class ThemeFileError(Exception):
    """A theme file that cannot be used, with the file and the reason, for the user to fix."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class TuiChatTheme(Theme):
    """A Textual `Theme` that also carries the style of code blocks (see `code_theme_of`).

    Keeping `code_theme` on the theme object means whatever sets `app.theme` (the picker, the
    command palette) switches the code style too, with no second registry to keep in step.
    """

    code_theme: str = ""


@dataclass(frozen=True)
class ThemeSpec:
    """One theme as read from a file, with the app's variables filled in."""

    name: str
    dark: bool
    primary: str
    foreground: str
    background: str
    secondary: str | None = None
    accent: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    ansi: bool = False
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    code_theme: str = "github-dark"
    variables: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None
    bundled: bool = False

    def to_textual_theme(self) -> TuiChatTheme:
        """The Textual theme to register with the app."""
        return TuiChatTheme(
            name=self.name,
            primary=self.primary,
            secondary=self.secondary,
            warning=self.warning,
            error=self.error,
            success=self.success,
            accent=self.accent,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            boost=self.boost,
            dark=self.dark,
            luminosity_spread=self.luminosity_spread,
            text_alpha=self.text_alpha,
            variables=dict(self.variables),
            ansi=self.ansi,
            code_theme=self.code_theme,
        )


# --- reading files -----------------------------------------------------------------------------


def _check_color(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(path, f"{key!r} should be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(
            path,
            f"{key!r} = {value!r} is not a colour (use #rrggbb, rgb(r, g, b), a colour name "
            "or an ANSI name such as ansi_red)",
        ) from None
    return value


def _check_variable(path: Path, key: str, value: Any) -> str:
    """Check a `[variables]` entry: a text style for *-style keys, else a colour.

    Textual parses these only when a stylesheet uses them, so a typo would otherwise surface
    as a stylesheet error at startup, far from the file that caused it.
    """
    where = f"variables.{key}"
    if not isinstance(value, str):
        raise ThemeFileError(path, f"{where!r} should be a string, not {type(value).__name__}")
    words = value.split()
    if key.endswith("-style"):
        unknown = [word for word in words if word not in VALID_STYLE_FLAGS]
        if unknown or not words:
            raise ThemeFileError(
                path, f"{where!r} = {value!r} is not a text style (e.g. 'bold', 'none')"
            )
        return value
    if value in ("transparent", "initial"):
        return value
    if len(words) == 2 and words[1].endswith("%"):
        try:
            percent = float(words[1][:-1])
        except ValueError:
            percent = -1.0
        if not 0 <= percent <= 100:
            raise ThemeFileError(path, f"{where!r} = {value!r} has a bad opacity {words[1]!r}")
        words = words[:1]
    if len(words) == 1 and words[0] == "auto":
        return value
    if len(words) != 1:
        raise ThemeFileError(path, f"{where!r} = {value!r} is not a colour")
    _check_color(path, where, words[0])
    return value


def default_code_theme(*, dark: bool, ansi: bool) -> str:
    """The code style for a theme file that names none."""
    if ansi:
        return "ansi_dark" if dark else "ansi_light"
    return "github-dark" if dark else "xcode"


def _parse_theme(path: Path, data: dict[str, Any], *, bundled: bool) -> ThemeSpec:
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise ThemeFileError(
            path,
            f"unknown key {unknown[0]!r}; a theme file may have: {', '.join(sorted(KNOWN_KEYS))}",
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise ThemeFileError(path, f"missing required key {missing[0]!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ThemeFileError(path, "'name' should be a non-empty string without outer spaces")
    if "," in name or not name.isprintable():
        # Textual reads "a,b" as a list of theme names to try; control characters would reach
        # the terminal in the picker.
        raise ThemeFileError(path, f"'name' = {name!r} may not hold commas or control characters")
    if not isinstance(data["dark"], bool):
        raise ThemeFileError(path, "'dark' should be true or false")
    colors = {key: _check_color(path, key, data[key]) for key in COLOR_KEYS if key in data}

    ansi = data.get("ansi", all(is_ansi(value) for value in colors.values()))
    if not isinstance(ansi, bool):
        raise ThemeFileError(path, "'ansi' should be true or false")
    numbers: dict[str, float] = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ThemeFileError(path, f"{key!r} should be a number from 0 to 1")
            numbers[key] = float(value)
    code_theme = data.get("code_theme", default_code_theme(dark=data["dark"], ansi=ansi))
    if not isinstance(code_theme, str) or not is_known_code_theme(code_theme):
        raise ThemeFileError(
            path,
            f"'code_theme' = {code_theme!r} is not a known code style; use one of: "
            f"{', '.join(all_code_themes())}",
        )
    raw_variables = data.get("variables", {})
    if not isinstance(raw_variables, dict):
        raise ThemeFileError(path, "'variables' should be a table: [variables]")
    variables = {key: _check_variable(path, key, value) for key, value in raw_variables.items()}

    optional: dict[str, Any] = {**colors, **numbers}
    base = Theme(name=name, dark=data["dark"], ansi=ansi, **optional)
    filled = {**derive_app_variables(base), **variables}
    return ThemeSpec(
        name=name,
        dark=data["dark"],
        ansi=ansi,
        code_theme=code_theme,
        variables=filled,
        path=path,
        bundled=bundled,
        **optional,
    )


def load_theme_file(path: Path, *, bundled: bool = False) -> ThemeSpec:
    """Read and check one theme file.

    Raises:
        ThemeFileError: naming the file and what is wrong (unreadable, not TOML, a missing or
            unknown key, a bad colour, an unknown code theme).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeFileError(path, f"cannot be read: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeFileError(path, f"not valid TOML: {error}") from None
    return _parse_theme(path, data, bundled=bundled)


def bundled_themes_dir() -> Path:
    """The folder of themes shipped with tui-chat: in the installed package, or the checkout's."""
    if _WHEEL_THEMES_DIR.is_dir():
        return _WHEEL_THEMES_DIR
    return _SOURCE_THEMES_DIR


def _load_folder(
    folder: Path, *, bundled: bool
) -> tuple[dict[str, ThemeSpec], list[ThemeFileError]]:
    specs: dict[str, ThemeSpec] = {}
    errors: list[ThemeFileError] = []
    if not folder.is_dir():
        return specs, errors
    for path in sorted(folder.glob("*.toml")):
        try:
            spec = load_theme_file(path, bundled=bundled)
        except ThemeFileError as error:
            errors.append(error)
            continue
        if spec.name in specs:
            first = specs[spec.name].path
            errors.append(ThemeFileError(path, f"theme name {spec.name!r} is also used by {first}"))
            continue
        specs[spec.name] = spec
    return specs, errors


def load_all_themes(user_dir: Path) -> tuple[list[ThemeSpec], list[ThemeFileError]]:
    """Bundled themes plus the user's, sorted by name; a user theme replaces a bundled namesake.

    Returns the usable themes and one error per file that could not be used.
    """
    bundled, errors = _load_folder(bundled_themes_dir(), bundled=True)
    user, user_errors = _load_folder(user_dir, bundled=False)
    merged = {**bundled, **user}
    return sorted(merged.values(), key=lambda spec: spec.name.lower()), errors + user_errors


def register_themes(app: App[Any], specs: Iterable[ThemeSpec]) -> None:
    """Register each theme with the app (replacing any Textual theme of the same name)."""
    for spec in specs:
        app.register_theme(spec.to_textual_theme())


# --- choosing a theme --------------------------------------------------------------------------


def terminal_color_count(environ: Mapping[str, str] | None = None) -> int:
    """How many colours the terminal says it shows, from COLORTERM and TERM.

    Over SSH and inside screen/tmux these variables are all there is to go on; a terminal that
    reports nothing specific is assumed to have the 16 ANSI colours, as Rich assumes.
    """
    env = os.environ if environ is None else environ
    if env.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
        return 1 << 24
    term = env.get("TERM", "").strip().lower()
    if not term:
        # Windows Terminal sets no TERM but renders truecolor.
        return 1 << 24 if env.get("WT_SESSION") else 256
    if term.endswith(("-256color", "-256colour")) or term in ("kitty", "xterm-kitty", "alacritty"):
        return 256
    if term.endswith("-88color"):
        return 88
    if term in ("dumb", "vt100", "vt102", "vt220", "vt52"):
        return 8
    return 16


def default_theme_name(configured: str | None, available: set[str], color_count: int) -> str:
    """The theme to start with: the configured one if it exists, else one that suits the terminal.

    A terminal with fewer than 256 colours gets the ANSI theme, whose colours the terminal
    itself defines; the others get the dark default.
    """
    if configured and configured in available:
        return configured
    if color_count < 256 and ANSI_THEME_NAME in available:
        return ANSI_THEME_NAME
    return DEFAULT_THEME_NAME


# --- code blocks -------------------------------------------------------------------------------


def code_theme_of(theme: Theme) -> str:
    """The code style a Textual theme asks for; a sensible one for themes not loaded from a file."""
    named = getattr(theme, "code_theme", "")
    return named or default_code_theme(dark=theme.dark, ansi=theme.ansi)

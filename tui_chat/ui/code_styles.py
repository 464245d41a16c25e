"""Names of the styles code blocks can be highlighted with: Pygments' styles and Rich's two ANSI
ones. Theme files and the message pane both check names here.

Enumerating every style makes Pygments look for plugin styles through the installed packages'
entry points, which cost ~45 ms at start-up; a name is checked against the built-in table first
and only an unknown one is looked up among plugins.
"""

from __future__ import annotations

from functools import cache

from pygments.styles import STYLES, get_all_styles, get_style_by_name
from pygments.util import ClassNotFound

DEFAULT_CODE_THEME = "monokai"
ANSI_CODE_THEMES = ("ansi_dark", "ansi_light")
"""Rich's code styles in the 16 ANSI colours, besides every Pygments style."""

_BUILT_IN = frozenset(name for _module, name, _aliases in STYLES.values())


@cache
def is_known_code_theme(name: str) -> bool:
    """Whether `name` is a Pygments style (built in or a plugin) or one of Rich's ANSI styles."""
    if name in _BUILT_IN or name in ANSI_CODE_THEMES:
        return True
    try:
        get_style_by_name(name)
    except ClassNotFound:
        return False
    return True


def all_code_themes() -> list[str]:
    """Every valid name, sorted, for telling the user what they may choose."""
    return sorted({*get_all_styles(), *ANSI_CODE_THEMES})


def valid_code_theme(name: str) -> str:
    """`name` if it is a known style, else the default."""
    return name if is_known_code_theme(name) else DEFAULT_CODE_THEME

"""Themes: the bundled files load and are readable, user themes join them, broken ones are named,
the terminal decides the fallback, and the picker previews live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.syntax import Syntax
from textual.app import App, ComposeResult
from textual.theme import BUILTIN_THEMES
from textual.widgets import Static

from tui_chat.config import load_config, save_setting
from tui_chat.ui.code_styles import (
    DEFAULT_CODE_THEME,
    all_code_themes,
    is_known_code_theme,
    valid_code_theme,
)
from tui_chat.ui.screens.theme_picker import ThemePickerScreen
from tui_chat.ui.theme_colors import (
    APP_VARIABLES,
    BODY_TEXT_CONTRAST,
    contrast_ratio,
    derive_app_variables,
)
from tui_chat.ui.themes import (
    ANSI_THEME_NAME,
    DEFAULT_THEME_NAME,
    ThemeFileError,
    ThemeSpec,
    bundled_themes_dir,
    code_theme_of,
    default_theme_name,
    load_all_themes,
    load_theme_file,
    register_themes,
    terminal_color_count,
)

REPO_THEMES = Path(__file__).resolve().parent.parent / "themes"
BUNDLED_NAMES = {
    "tui-chat-dark",
    "tui-chat-light",
    "high-contrast",
    "nord",
    "gruvbox-dark",
    "solarized-light",
    "ansi-16",
}
# Borders and the gauge are not text: WCAG 1.4.11 asks 3:1 of graphical objects.
NON_TEXT_CONTRAST = 3.0

MINIMAL_USER_THEME = """\
name = "paper-white"
dark = false
primary = "#1d4ed8"
foreground = "#111111"
background = "#ffffff"
"""


def bundled_specs() -> list[ThemeSpec]:
    specs, errors = load_all_themes(Path("/nonexistent/user/themes"))
    assert errors == []
    return specs


def bundled_spec(name: str) -> ThemeSpec:
    return next(spec for spec in bundled_specs() if spec.name == name)


def write(folder: Path, filename: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    return path


# --- bundled themes ---------------------------------------------------------------------------


def test_source_checkout_reads_the_repository_themes_folder() -> None:
    assert bundled_themes_dir() == REPO_THEMES


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    # The check below is only as good as this oracle: anchor it to published WCAG figures.
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < BODY_TEXT_CONTRAST
    assert contrast_ratio("#ffffff", "#777777") == contrast_ratio("#777777", "#ffffff")


def test_every_bundled_theme_file_loads_without_error() -> None:
    specs = bundled_specs()
    assert {spec.name for spec in specs} == BUNDLED_NAMES
    assert len(list(REPO_THEMES.glob("*.toml"))) == len(BUNDLED_NAMES)
    assert all(spec.bundled for spec in specs)


@pytest.mark.parametrize("name", sorted(BUNDLED_NAMES - {ANSI_THEME_NAME}))
def test_bundled_theme_body_text_meets_wcag_aa_on_every_background(name: str) -> None:
    spec = bundled_spec(name)
    grounds = {"background": spec.background, "surface": spec.surface, "panel": spec.panel}
    assert all(grounds.values()), f"{name} should set background, surface and panel"
    for ground_name, ground in grounds.items():
        assert ground is not None
        for text_name, text in (
            ("foreground", spec.foreground),
            ("muted-text", spec.variables["muted-text"]),
        ):
            ratio = contrast_ratio(text, ground)
            where = f"{name}: {text_name} on {ground_name}"
            assert ratio >= BODY_TEXT_CONTRAST, f"{where} is {ratio:.2f}"


@pytest.mark.parametrize("name", sorted(BUNDLED_NAMES - {ANSI_THEME_NAME}))
def test_bundled_theme_message_borders_and_gauge_stand_out(name: str) -> None:
    spec = bundled_spec(name)
    for variable in ("user-message", "assistant-message", "gauge-fill", "gauge-warn"):
        for ground in (spec.background, spec.surface, spec.panel):
            assert ground is not None
            ratio = contrast_ratio(spec.variables[variable], ground)
            assert ratio >= NON_TEXT_CONTRAST, f"{name}: {variable} on {ground} is {ratio:.2f}"


def test_ansi_theme_uses_only_ansi_colours_and_its_named_pairs_are_readable() -> None:
    spec = bundled_spec(ANSI_THEME_NAME)
    assert spec.ansi
    colours = [spec.primary, spec.secondary, spec.accent, spec.warning, spec.error, spec.success]
    colours += [spec.foreground, spec.background, spec.surface, spec.panel]
    colours += [v for k, v in spec.variables.items() if not k.endswith("-style")]
    assert all(c is not None and c.startswith("ansi_") for c in colours), colours
    # Body text is the terminal's own default pair (ansi_default on ansi_default): its contrast
    # is whatever the user set their terminal to and cannot be measured here. The pairs this
    # theme does name are measured at the xterm default RGB values Textual gives ANSI names.
    assert spec.foreground == spec.background == "ansi_default"
    for fg_key, bg_key in (
        ("block-cursor-foreground", "block-cursor-background"),
        ("input-cursor-foreground", "input-cursor-background"),
        ("input-selection-foreground", "input-selection-background"),
        ("screen-selection-foreground", "screen-selection-background"),
    ):
        ratio = contrast_ratio(spec.variables[fg_key], spec.variables[bg_key])
        assert ratio >= BODY_TEXT_CONTRAST, f"{fg_key} on {bg_key} is {ratio:.2f}"


def test_code_styles_are_checked_without_listing_every_plugin() -> None:
    assert is_known_code_theme("monokai") and is_known_code_theme("ansi_light")
    assert not is_known_code_theme("no-such-style")
    assert valid_code_theme("no-such-style") == DEFAULT_CODE_THEME
    assert valid_code_theme("xcode") == "xcode"
    assert {"monokai", "ansi_dark", "github-dark"} <= set(all_code_themes())


def test_every_bundled_code_theme_is_one_rich_can_render() -> None:
    for spec in bundled_specs():
        Syntax.get_theme(spec.code_theme)  # raises for an unknown Pygments style
        assert code_theme_of(spec.to_textual_theme()) == spec.code_theme
    assert bundled_spec(ANSI_THEME_NAME).code_theme == "ansi_dark"


class VariablesApp(App[None]):
    """Uses every tui-chat variable in its CSS, as the real app's stylesheets do."""

    CSS = """
    #user { border: round $user-message; color: $muted-text; }
    #assistant { border: round $assistant-message; }
    #gauge { background: $gauge-fill; color: $gauge-warn; }
    """

    def __init__(self, specs: list[ThemeSpec]) -> None:
        super().__init__()
        register_themes(self, specs)
        self.theme = DEFAULT_THEME_NAME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return derive_app_variables(self.current_theme)

    def compose(self) -> ComposeResult:
        yield Static("you", id="user")
        yield Static("model", id="assistant")
        yield Static("gauge", id="gauge")


async def test_each_theme_restyles_the_app_including_tui_chat_variables(tmp_path: Path) -> None:
    user_dir = tmp_path / "themes"
    write(user_dir, "paper.toml", MINIMAL_USER_THEME)
    specs, errors = load_all_themes(user_dir)
    assert errors == []
    app = VariablesApp(specs)
    async with app.run_test() as pilot:
        borders = {}
        for spec in specs:
            app.theme = spec.name
            await pilot.pause()
            user = app.query_one("#user", Static)
            borders[spec.name] = user.styles.border_top[1]
            assert app.theme_variables["user-message"] == spec.variables["user-message"]
        # A Textual built-in theme has none of tui-chat's variables; the derived defaults cover it.
        app.theme = "dracula"
        await pilot.pause()
        assert (
            app.theme_variables["muted-text"]
            == derive_app_variables(BUILTIN_THEMES["dracula"])["muted-text"]
        )
    assert borders["tui-chat-dark"] != borders["tui-chat-light"]


# --- user themes and broken files ----------------------------------------------------------


def test_user_theme_in_config_folder_is_listed_and_overrides_a_bundled_namesake(
    tmp_path: Path,
) -> None:
    user_dir = tmp_path / "config" / "themes"
    write(user_dir, "paper.toml", MINIMAL_USER_THEME)
    write(
        user_dir,
        "my-nord.toml",
        MINIMAL_USER_THEME.replace('"paper-white"', '"nord"').replace("#1d4ed8", "#0000aa"),
    )
    specs, errors = load_all_themes(user_dir)
    by_name = {spec.name: spec for spec in specs}
    assert errors == []
    assert set(by_name) == BUNDLED_NAMES | {"paper-white"}
    assert not by_name["paper-white"].bundled
    assert by_name["nord"].primary == "#0000aa" and not by_name["nord"].bundled


def test_a_theme_file_without_variables_gets_readable_derived_ones(tmp_path: Path) -> None:
    spec = load_theme_file(write(tmp_path, "paper.toml", MINIMAL_USER_THEME))
    assert set(APP_VARIABLES) <= set(spec.variables)
    assert spec.variables["user-message"] == "#1D4ED8"  # the accent, which defaults to primary
    assert contrast_ratio(spec.variables["muted-text"], spec.background) >= BODY_TEXT_CONTRAST
    assert spec.variables["muted-text"] != "#111111"  # actually muted, not the body colour
    assert spec.code_theme == "xcode"  # light theme, no code_theme given


BROKEN_THEMES = {
    "not-toml.toml": ('name = "x"\nprimary = "#ff0000\n', "not valid TOML"),
    "no-background.toml": (
        MINIMAL_USER_THEME.replace('background = "#ffffff"\n', ""),
        "missing required key 'background'",
    ),
    "bad-colour.toml": (
        MINIMAL_USER_THEME.replace('"#1d4ed8"', '"#12345g"'),
        "'primary' = '#12345g' is not a colour",
    ),
    "typo.toml": (MINIMAL_USER_THEME + 'secundary = "#ff0000"\n', "unknown key 'secundary'"),
    "bad-code.toml": (
        MINIMAL_USER_THEME + 'code_theme = "no-such-style"\n',
        "'code_theme' = 'no-such-style' is not a known code style",
    ),
    "bad-variable.toml": (
        MINIMAL_USER_THEME + '[variables]\nuser-message = "blurple"\n',
        "'variables.user-message' = 'blurple' is not a colour",
    ),
    "dark-not-bool.toml": (MINIMAL_USER_THEME.replace("dark = false", 'dark = "no"'), "'dark'"),
}


@pytest.mark.parametrize("filename", sorted(BROKEN_THEMES))
def test_broken_theme_file_is_reported_with_its_path_and_problem(
    tmp_path: Path, filename: str
) -> None:
    text, reason = BROKEN_THEMES[filename]
    user_dir = tmp_path / "themes"
    path = write(user_dir, filename, text)
    write(user_dir, "good.toml", MINIMAL_USER_THEME)

    specs, errors = load_all_themes(user_dir)

    assert [error.path for error in errors] == [path]
    assert reason in errors[0].reason
    assert str(path) in str(errors[0])
    assert "paper-white" in {spec.name for spec in specs}  # the good file next to it still loads
    with pytest.raises(ThemeFileError):
        load_theme_file(path)


def test_two_user_files_with_one_name_report_the_second(tmp_path: Path) -> None:
    first = write(tmp_path, "a.toml", MINIMAL_USER_THEME)
    second = write(tmp_path, "b.toml", MINIMAL_USER_THEME)
    specs, errors = load_all_themes(tmp_path)
    assert [s.path for s in specs if s.name == "paper-white"] == [first]
    assert [e.path for e in errors] == [second] and str(first) in errors[0].reason


async def test_app_falls_back_to_default_when_the_configured_theme_file_is_broken(
    tmp_path: Path,
) -> None:
    user_dir = tmp_path / "themes"
    broken = write(user_dir, "mine.toml", MINIMAL_USER_THEME.replace('"#111111"', '"ink"'))
    specs, errors = load_all_themes(user_dir)
    assert [e.path for e in errors] == [broken]
    chosen = default_theme_name("paper-white", {s.name for s in specs}, color_count=1 << 24)
    assert chosen == DEFAULT_THEME_NAME
    app = VariablesApp(specs)
    async with app.run_test() as pilot:
        app.theme = chosen
        await pilot.pause()
        assert app.current_theme.name == DEFAULT_THEME_NAME


# --- choosing by terminal ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, 1 << 24),
        ({"TERM": "screen", "COLORTERM": "24bit"}, 1 << 24),
        ({"TERM": "xterm-256color"}, 256),
        ({"TERM": "tmux-256color"}, 256),
        ({"TERM": "screen"}, 16),
        ({"TERM": "linux"}, 16),
        ({"TERM": "xterm-16color"}, 16),
        ({"TERM": "vt100"}, 8),
    ],
)
def test_terminal_color_count_reads_term_and_colorterm(
    environ: dict[str, str], expected: int
) -> None:
    assert terminal_color_count(environ) == expected


def test_ansi_theme_is_picked_for_term_screen_when_no_theme_is_configured() -> None:
    available = {spec.name for spec in bundled_specs()}
    colours = terminal_color_count({"TERM": "screen"})
    assert default_theme_name(None, available, colours) == ANSI_THEME_NAME
    assert default_theme_name("nord", available, colours) == "nord"  # the user's choice wins
    assert default_theme_name(None, available, 256) == DEFAULT_THEME_NAME
    assert default_theme_name("gone", available, 1 << 24) == DEFAULT_THEME_NAME


# --- the picker ----------------------------------------------------------------------------


class PickerApp(App[None]):
    """A bare app with the bundled themes, as a stand-in for the real one."""

    def __init__(self, config_file: Path) -> None:
        super().__init__()
        self.specs = bundled_specs()
        register_themes(self, self.specs)
        self.theme = DEFAULT_THEME_NAME
        self.config_file = config_file
        self.results: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Static("Hello")

    def open_picker(self) -> None:
        def chosen(name: str | None) -> None:
            self.results.append(name)
            if name is not None:
                save_setting(self.config_file, "theme", name)

        self.push_screen(ThemePickerScreen([s.name for s in self.specs]), chosen)


async def test_picker_previews_while_moving_and_esc_restores_the_original(tmp_path: Path) -> None:
    app = PickerApp(tmp_path / "config.toml")
    names = [spec.name for spec in app.specs]
    start = names.index(DEFAULT_THEME_NAME)
    async with app.run_test() as pilot:
        app.open_picker()
        await pilot.pause()
        assert app.theme == DEFAULT_THEME_NAME
        await pilot.press("down")
        assert app.theme == names[start + 1]
        await pilot.press("up", "up")
        assert app.theme == names[start - 1]
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == DEFAULT_THEME_NAME
        assert not isinstance(app.screen, ThemePickerScreen)
    assert app.results == [None]
    assert not (tmp_path / "config.toml").exists()


async def test_picker_enter_keeps_the_theme_and_the_choice_is_saved(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('default_model = "gpt-4o"\n\n[profiles.openai]\n', encoding="utf-8")
    app = PickerApp(config_file)
    names = [spec.name for spec in app.specs]
    start = names.index(DEFAULT_THEME_NAME)
    async with app.run_test() as pilot:
        app.open_picker()
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.theme == names[start + 1]
        assert not isinstance(app.screen, ThemePickerScreen)
    assert app.results == [names[start + 1]]
    config, problems = load_config(config_file)
    assert problems == []
    assert config.theme == names[start + 1]
    assert config.default_model == "gpt-4o"


async def test_picker_shows_user_theme_names_as_plain_text(tmp_path: Path) -> None:
    user_dir = tmp_path / "themes"
    write(user_dir, "odd.toml", MINIMAL_USER_THEME.replace("paper-white", "[bold]odd[/bold]"))
    specs, errors = load_all_themes(user_dir)
    assert errors == []
    app: App[Any] = VariablesApp(specs)
    async with app.run_test() as pilot:
        app.push_screen(ThemePickerScreen([s.name for s in specs]))
        await pilot.pause()
        await pilot.press("end")
        assert app.theme == "tui-chat-light"
        await pilot.press("home")
        assert app.theme == "[bold]odd[/bold]"

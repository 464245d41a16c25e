"""config.toml: defaults without a file; a broken file explains itself but never stops the app."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from tui_chat.config import DEFAULT_MODEL, Config, Profile, load_config, save_profile, save_setting

GOOD = """\
default_profile = "local"
theme = "tui-chat-dark"

[profiles.openai]
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
default_model = "gpt-4o-mini"

[profiles.local]
base_url = "http://127.0.0.1:11434/v1"
api_key_command = "pass show ollama"
models = ["llama3.1:8b"]

[prices."llama3.1:8b"]
input = 0.0
output = 0.0
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_no_config_file_means_openai_defaults(tmp_path: Path) -> None:
    config, problems = load_config(tmp_path / "missing.toml")
    assert problems == []
    profile = config.profile()
    assert profile.name == "openai"
    assert profile.base_url is None  # the SDK's own OPENAI_BASE_URL / api.openai.com
    assert profile.api_key_env == "OPENAI_API_KEY"
    assert config.model_for(profile) == DEFAULT_MODEL


def test_documented_example_reads_without_problems(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, GOOD))
    assert problems == []
    local = config.profile()
    assert local.name == "local"
    assert local.api_key_command == "pass show ollama"
    assert config.model_for(local) == "llama3.1:8b"
    assert config.theme == "tui-chat-dark"
    assert config.prices["llama3.1:8b"].output == 0.0


def test_bad_toml_names_file_and_line_and_starts_on_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "x"\n[profiles.local\nbase_url = 1\n')
    config, problems = load_config(path)
    assert isinstance(config, Config)
    assert config.profile().name == "openai"
    (problem,) = problems
    assert problem.line == 2
    assert str(problem).startswith(f"{path}:2")
    assert "not valid TOML" in str(problem)


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'theme = "x"\n\n[profiles.local]\nbase_url = "http://h/v1"\nbase_ulr = 3\n'
    )
    config, problems = load_config(path)
    (problem,) = problems
    assert problem.key == 'profiles."local".base_ulr'
    assert problem.line == 5
    assert "unknown key 'base_ulr'" in str(problem)
    assert config.profiles["local"].base_url == "http://h/v1"  # the good parts still count


def test_wrong_type_is_named_and_the_default_used(tmp_path: Path) -> None:
    text = (
        "enter_sends = 1\n\n[profiles.a]\nbase_url = 5\n\n"
        '[profiles.b]\nbase_url = "http://b/v1"\nrequest_timeout = "soon"\n'
    )
    config, problems = load_config(write(tmp_path, text))
    by_key = {p.key: p for p in problems}
    assert by_key["enter_sends"].line == 1
    assert "should be true or false" in by_key["enter_sends"].message
    # The line of the key in *its* table, not the first base_url in the file.
    assert by_key['profiles."a".base_url'].line == 4
    assert by_key['profiles."b".request_timeout'].line == 8
    assert config.enter_sends is True
    assert config.profiles["b"].request_timeout == 600.0


def test_retries_and_key_command_time_are_set_per_profile(tmp_path: Path) -> None:
    text = (
        "[profiles.local]\nbase_url = 'http://127.0.0.1:11434/v1'\nmax_retries = 5\n"
        "api_key_command_timeout = 60\n\n"
        "[profiles.odd]\nbase_url = 'http://127.0.0.1:1/v1'\nmax_retries = -1\n"
        "api_key_command_timeout = 0\nrequest_timeout = -5\n"
    )
    config, problems = load_config(write(tmp_path, text))
    local, odd = config.profiles["local"], config.profiles["odd"]
    assert (local.max_retries, local.api_key_command_timeout) == (5, 60)
    assert (odd.max_retries, odd.api_key_command_timeout, odd.request_timeout) == (2, 15.0, 600.0)
    said = {p.key: str(p) for p in problems}
    assert "should be at least 0" in said['profiles."odd".max_retries']
    assert "should be more than 0" in said['profiles."odd".api_key_command_timeout']
    assert "should be more than 0" in said['profiles."odd".request_timeout']
    assert said['profiles."odd".max_retries'].startswith(f"{tmp_path / 'config.toml'}:")


def test_boolean_where_a_number_belongs_is_a_problem(tmp_path: Path) -> None:
    _, problems = load_config(write(tmp_path, "[profiles.openai]\ntemperature = true\n"))
    (problem,) = problems
    assert "not a boolean" in problem.message
    assert problem.line == 2


def test_unknown_default_profile_is_reported(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, 'default_profile = "nope"\n'))
    assert [p.key for p in problems] == ["default_profile"]
    assert config.profile().name == "openai"


def test_inline_key_in_a_readable_file_warns(tmp_path: Path) -> None:
    text = '[profiles.openai]\napi_key = "sk-test-123"\n'
    _, problems = load_config(write(tmp_path, text, mode=0o644))
    assert any("chmod 600" in p.message for p in problems)
    assert all("sk-test-123" not in str(p) for p in problems)
    _, quiet = load_config(write(tmp_path, text, mode=0o600))
    assert quiet == []


def test_unreadable_config_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    config, problems = load_config(folder)
    (problem,) = problems
    assert "cannot be read" in problem.message
    assert config.profile().name == "openai"


def test_save_setting_keeps_the_rest_of_the_text(tmp_path: Path) -> None:
    original = '# my settings\ntheme = "old"  \n\n' + GOOD.split("\n", 2)[2]
    path = write(tmp_path, original, mode=0o640)
    save_setting(path, "theme", "nord")
    text = path.read_text()
    assert text.splitlines()[0] == "# my settings"
    assert 'theme = "nord"' in text
    assert "old" not in text
    assert text.count("theme") == 1
    assert "[profiles.local]" in text and 'api_key_command = "pass show ollama"' in text
    assert tomllib.loads(text)["profiles"]["local"]["models"] == ["llama3.1:8b"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_setting_adds_a_missing_key_before_the_tables(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.local]\nbase_url = "http://h/v1"\n')
    save_setting(path, "theme", "nord")
    data = tomllib.loads(path.read_text())
    assert data["theme"] == "nord"
    assert data["profiles"]["local"]["base_url"] == "http://h/v1"


def test_save_setting_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_setting(path, "theme", "nord")
    assert tomllib.loads(path.read_text()) == {"theme": "nord"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_setting_writes_through_a_symlinked_config(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "tui-chat.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text('theme = "old"\n')
    link = tmp_path / "config.toml"
    link.symlink_to(dotfiles)
    save_setting(link, "theme", "nord")
    assert link.is_symlink()
    assert tomllib.loads(dotfiles.read_text()) == {"theme": "nord"}


def test_save_profile_adds_a_table_and_makes_it_the_default_keeping_the_rest(
    tmp_path: Path,
) -> None:
    original = '# my settings\ntheme = "nord"\n\n' + GOOD.split("\n", 2)[2]
    path = write(tmp_path, original, mode=0o640)
    found = Profile(name="ollama", base_url="http://127.0.0.1:11434/v1", default_model="qwen3")
    save_profile(path, found, make_default=True)
    text = path.read_text()
    assert text.startswith('# my settings\ntheme = "nord"\n')
    assert text.count("default_profile") == 1  # replaced, not added twice
    data = tomllib.loads(text)
    assert data["default_profile"] == "ollama"
    # Only what differs from a new profile's defaults, and the user's tables as they were.
    assert data["profiles"]["ollama"] == {
        "base_url": "http://127.0.0.1:11434/v1",
        "default_model": "qwen3",
    }
    assert data["profiles"]["local"]["api_key_command"] == "pass show ollama"
    assert data["prices"]["llama3.1:8b"] == {"input": 0.0, "output": 0.0}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    config, problems = load_config(path)
    assert problems == []
    assert config.profile().base_url == "http://127.0.0.1:11434/v1"


def test_save_profile_creates_a_private_file_and_never_writes_a_key(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_profile(path, Profile(name="vllm", base_url="http://[::1]:8000/v1", api_key="sk-no"))
    assert tomllib.loads(path.read_text()) == {
        "profiles": {"vllm": {"base_url": "http://[::1]:8000/v1"}}
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_profile_refuses_a_name_the_file_already_has(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(ValueError, match="local"):
        save_profile(path, Profile(name="local", base_url="http://127.0.0.1:8080/v1"))
    assert path.read_text() == GOOD
    assert Config(profiles={"local": Profile(name="local")}).unused_profile_name("local") == (
        "local-2"
    )


def test_keys_table_maps_binding_ids_and_rejects_non_strings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\ntoggle_sidebar = "f9"\nquit = 3\n', encoding="utf-8")
    config, problems = load_config(path)
    assert config.keys == {"toggle_sidebar": "f9"}
    assert any(p.key == "keys.quit" for p in problems)

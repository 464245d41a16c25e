"""`[mcp_servers.NAME]` in config.toml: the shape other MCP clients use, checked with file and
line like the rest of the config, and "always" approvals saved through the one write path."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from fresh_python import fresh_python_output

from tui_chat.config import load_config, save_tool_approval

SERVERS = """\
theme = "tui-chat-dark"

[mcp_servers.time]
command = "mcp-server-time"
args = ["--local-timezone", "Europe/Paris"]
env = { TZ_TOKEN = "secret-env-value" }

[mcp_servers.time.tools.get_current_time]
approve = "always"

[mcp_servers.search]
url = "http://127.0.0.1:9/mcp"
headers = { Authorization = "Bearer secret-header-value" }
enabled = false
call_timeout = 5
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_stdio_and_http_servers_read_with_their_tool_approvals(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, SERVERS))
    assert problems == []
    time_server = config.mcp_servers["time"]
    assert time_server.command == "mcp-server-time"
    assert time_server.args == ("--local-timezone", "Europe/Paris")
    assert time_server.env == {"TZ_TOKEN": "secret-env-value"}
    assert time_server.enabled
    assert time_server.approval("get_current_time") == "always"
    assert time_server.approval("convert_time") == "ask"  # not named: asked
    search = config.mcp_servers["search"]
    assert search.url == "http://127.0.0.1:9/mcp"
    assert not search.enabled
    assert search.call_timeout == 5


def test_server_secrets_never_show_in_repr(tmp_path: Path) -> None:
    config, _ = load_config(write(tmp_path, SERVERS))
    shown = repr(config)
    assert "secret-env-value" not in shown
    assert "secret-header-value" not in shown


@pytest.mark.parametrize(
    ("table", "line", "said"),
    [
        ('[mcp_servers.x]\nargs = ["a"]\n', 3, "either command (stdio) or url (HTTP)"),
        ('[mcp_servers.x]\ncommand = "a"\nurl = "http://h"\n', 3, "either command"),
        ('[mcp_servers.x]\ncommand = "a"\nargs = [1]\n', 5, "list of strings"),
        ('[mcp_servers.x]\ncommand = "a"\nenv = { A = 1 }\n', 5, "should be a string"),
        ('[mcp_servers.x]\ncommand = "a"\nport = 3\n', 5, "unknown key 'port'"),
        ('[mcp_servers.x]\ncommand = "a"\ncall_timeout = 0\n', 5, "more than 0"),
        (
            '[mcp_servers.x]\ncommand = "a"\n\n[mcp_servers.x.tools.t]\napprove = "never"\n',
            7,
            'approve should be "ask" or "always"',
        ),
    ],
)
def test_a_bad_server_table_is_named_with_file_and_line(
    tmp_path: Path, table: str, line: int, said: str
) -> None:
    path = write(tmp_path, 'theme = "x"\n\n' + table)
    _, problems = load_config(path)
    assert len(problems) == 1, problems
    assert problems[0].path == path
    assert problems[0].line == line
    assert said in problems[0].message


def test_server_env_in_a_file_others_can_read_warns(tmp_path: Path) -> None:
    _, problems = load_config(write(tmp_path, SERVERS, mode=0o644))
    assert any("chmod 600" in p.message for p in problems)


def test_always_is_saved_into_the_existing_tool_table_keeping_the_rest(tmp_path: Path) -> None:
    text = SERVERS.replace('approve = "always"', 'approve = "ask"  # for now')
    path = write(tmp_path, text)
    save_tool_approval(path, "time", "get_current_time", "always")
    saved = path.read_text()
    assert saved == SERVERS  # only the approve line changed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_always_for_a_tool_not_named_yet_adds_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, SERVERS)
    save_tool_approval(path, "time", "convert_time", "always")
    config, problems = load_config(path)
    assert problems == []
    assert config.mcp_servers["time"].approval("convert_time") == "always"
    assert config.mcp_servers["time"].approval("get_current_time") == "always"
    assert path.read_text().startswith(SERVERS)


def test_a_tool_spelled_inline_is_left_alone_and_said(tmp_path: Path) -> None:
    text = '[mcp_servers.time]\ncommand = "t"\ntools = { get_current_time = { approve = "ask" } }\n'
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="by hand"):
        save_tool_approval(path, "time", "get_current_time", "always")
    assert path.read_text() == text
    assert tomllib.loads(path.read_text())  # still valid


def test_reading_servers_does_not_import_the_mcp_sdk(tmp_path: Path) -> None:
    path = write(tmp_path, SERVERS)
    code = (
        "import sys; from pathlib import Path; from tui_chat.config import load_config; "
        f"load_config(Path({str(path)!r})); print('mcp' in sys.modules)"
    )
    assert fresh_python_output(code).strip() == "False"

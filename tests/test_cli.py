"""The `tui-chat` command line, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pytest
from terminal_session import installed_command

from tui_chat import __version__
from tui_chat.cli import main
from tui_chat.domain.conversation import Conversation, Message, Usage
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with two conversations and one broken file."""
    data = tmp_path / "data"
    store = ConversationStore(AppPaths(config_file=tmp_path / "none.toml", data_dir=data))
    fib = Conversation(
        id="20261124-013000-a1b2",
        title="Fibonacci in Python",
        created=T0,
        updated=T0 + timedelta(hours=1),
    )
    fib.messages.append(Message("user", "Write fib in Python.", created=T0))
    fib.messages.append(
        Message(
            "assistant",
            "def fib(n): ...",
            created=T0,
            model="gpt-4o-mini",
            finish_reason="stop",
            cost_usd=0.002,
            usage=Usage(25, 40),
        )
    )
    soup = Conversation(
        id="20261123-090000-beef",
        title="Soup \x1b[31mred\x1b[0m",
        created=T0,
        updated=T0,
        model="llama3.1:8b",
        profile="local",
    )
    soup.messages.append(Message("user", "Tomato soup?", created=T0))
    soup.messages.append(Message("assistant", "Yes.", created=T0, model="llama3.1:8b"))
    store.save(fib)
    store.save(soup)
    (data / "conversations" / "broken.toml").write_text('schema = 1\ntitle = "oops\n')
    return data


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(
    *argv: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`python -m tui_chat` with `stdin` as its input: a pipe, never the terminal pytest has."""
    return subprocess.run(
        [sys.executable, "-m", "tui_chat", *argv],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=60,
        check=False,
    )


def test_list_shows_conversations_and_marks_broken_files(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--data-dir", str(data_dir), "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "MSGS", "MODEL", "TITLE"]
    ids = [line.split()[0] for line in lines[1:]]
    # Most recent first (a broken file counts by its file time, so it is just now).
    assert ids == ["broken", "20261124-013000-a1b2", "20261123-090000-beef"]
    assert "Fibonacci in Python" in lines[2] and "gpt-4o-mini" in lines[2]
    assert lines[2].split()[3] == "2"  # message count
    broken = next(line for line in lines if line.startswith("broken"))
    assert "BROKEN:" in broken and "broken.toml, line 2" in broken
    # A title's escape sequence never reaches the terminal.
    assert "\x1b" not in out
    assert err == ""


def test_options_work_before_or_after_the_command(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, before, _ = run(capsys, "--data-dir", str(data_dir), "list", "--json")
    _, after, _ = run(capsys, "list", "--json", "--data-dir", str(data_dir))
    assert before == after
    assert len(json.loads(after)) == 3


def test_list_json_is_for_scripts(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--json", "--data-dir", str(data_dir))
    assert code == 0
    items = {item["id"]: item for item in json.loads(out)}
    fib = items["20261124-013000-a1b2"]
    assert fib["title"] == "Fibonacci in Python"
    assert fib["message_count"] == 2
    assert fib["model"] == "gpt-4o-mini"
    assert fib["updated"] == "2026-11-24T02:30:00+00:00"
    assert fib["error"] is None
    assert "line 2" in items["broken"]["error"]


def test_export_markdown_and_json_to_stdout(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "20261124-013000-a1b2", "--data-dir", str(data_dir))
    assert code == 0
    assert out.startswith("# Fibonacci in Python\n")
    assert "def fib(n): ..." in out
    code, out, _ = run(
        capsys, "export", "20261124-013000-a1b2", "--format", "json", "--data-dir", str(data_dir)
    )
    assert code == 0
    assert json.loads(out)["messages"][1]["usage"]["prompt_tokens"] == 25
    # The file name, as `ls` shows it, works as well as the id.
    code, by_name, _ = run(
        capsys, "export", "20261124-013000-a1b2.toml", "--data-dir", str(data_dir)
    )
    assert code == 0 and by_name.startswith("# Fibonacci in Python\n")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["export", "no-such-id"], "There is no conversation 'no-such-id'"),
        (["export", "../../etc/passwd"], "is not a valid conversation id"),
        (["export", "broken"], "broken.toml, line 2: not valid TOML"),
        (["trash", "restore", "nothing"], "in the trash"),
    ],
)
def test_user_errors_are_one_sentence_and_a_nonzero_exit(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *argv, "--data-dir", str(data_dir))
    assert code == 1
    assert out == ""
    assert words in err
    assert err.startswith("tui-chat: ")
    assert err.count("\n") == 1 and err.rstrip().endswith(".")
    assert "Traceback" not in err


def test_stats_add_up_the_files(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--data-dir", str(data_dir))
    assert code == 0
    assert "conversations:    2" in out
    assert "messages:         4" in out
    assert "tokens:           65" in out
    # One reply priced, one from a local server with no known price: the sum says so.
    assert "spend (all time): $0.0020 + 1 reply of unknown price" in out
    assert "files that cannot be read: 1" in out


def test_stats_never_print_a_guessed_zero_when_no_price_was_known(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    store = ConversationStore(AppPaths(config_file=tmp_path / "none.toml", data_dir=data))
    for n in range(3):  # replies from a local server: no price known for any of them
        local = Conversation(id=f"20261124-01300{n}-cafe", model="llama3.1:8b", profile="local")
        local.add(Message("user", "Tomato soup?"))
        local.add(Message("assistant", "Yes.", model="llama3.1:8b", finish_reason="stop"))
        store.save(local)
    code, out, _ = run(capsys, "stats", "--data-dir", str(data))
    assert code == 0
    assert "spend (all time): ? (3 replies of unknown price)" in out
    assert "$0" not in out


def test_trash_list_restore_and_empty(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ConversationStore(AppPaths(config_file=data_dir / "c.toml", data_dir=data_dir))
    store.trash("20261123-090000-beef")
    store.trash("broken")
    code, out, _ = run(capsys, "trash", "list", "--data-dir", str(data_dir))
    assert code == 0 and "20261123-090000-beef" in out and "BROKEN" in out
    code, out, _ = run(
        capsys, "trash", "restore", "20261123-090000-beef", "--data-dir", str(data_dir)
    )
    assert code == 0 and out == "Restored as 20261123-090000-beef.\n"
    code, out, _ = run(capsys, "trash", "empty", "--yes", "--data-dir", str(data_dir))
    assert out == "Deleted 1 conversation for good.\n"
    assert [e.id for e in store.list_trash()] == []
    assert {e.id for e in store.list_entries()} == {"20261124-013000-a1b2", "20261123-090000-beef"}


def test_trash_empty_from_a_pipe_refuses_without_yes(data_dir: Path) -> None:
    store = ConversationStore(AppPaths(config_file=data_dir / "c.toml", data_dir=data_dir))
    store.trash("20261123-090000-beef")
    # Even a "y" piped in is no confirmation: nobody read a question.
    refused = run_process("trash", "empty", "--data-dir", str(data_dir), stdin="y\n")
    assert refused.returncode == 1
    assert refused.stderr == (
        "tui-chat: nothing deleted: there is no terminal to confirm on, so add --yes to delete"
        " anyway.\n"
    )
    assert [e.id for e in store.list_trash()] == ["20261123-090000-beef"]
    done = run_process("trash", "empty", "--yes", "--data-dir", str(data_dir))
    assert done.returncode == 0 and done.stdout == "Deleted 1 conversation for good.\n"
    assert store.list_trash() == []
    again = run_process("trash", "empty", "--data-dir", str(data_dir))
    assert again.returncode == 0 and again.stdout == "The trash is empty.\n"


def test_trash_empty_on_a_terminal_asks_first_and_no_is_the_default(data_dir: Path) -> None:
    store = ConversationStore(AppPaths(config_file=data_dir / "c.toml", data_dir=data_dir))
    store.trash("20261123-090000-beef")
    store.trash("20261124-013000-a1b2")
    argv = ["trash", "empty", "--data-dir", str(data_dir)]
    for answer, outcome in (("", "Nothing deleted."), ("n", "Nothing deleted.")):
        terminal = pexpect.spawn(installed_command(), argv, encoding="utf-8", timeout=30)
        terminal.expect_exact("Delete 2 conversations for good? [y/N] ")
        terminal.sendline(answer)
        terminal.expect_exact(outcome)
        terminal.expect(pexpect.EOF)
        terminal.close()
        assert terminal.exitstatus == 1
        assert len(store.list_trash()) == 2
    terminal = pexpect.spawn(installed_command(), argv, encoding="utf-8", timeout=30)
    terminal.expect_exact("Delete 2 conversations for good? [y/N] ")
    terminal.sendline("y")
    terminal.expect_exact("Deleted 2 conversations for good.")
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0
    assert store.list_trash() == []


def test_paths_prints_every_location(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "conf" / "config.toml"
    code, out, _ = run(capsys, "paths", "--data-dir", str(tmp_path / "d"), "--config", str(config))
    assert code == 0
    assert f"config file:   {config}\n" in out
    assert f"conversations: {tmp_path / 'd' / 'conversations'}\n" in out
    assert f"trash:         {tmp_path / 'd' / 'trash'}\n" in out
    assert f"exports:       {tmp_path / 'd' / 'exports'}\n" in out
    assert f"cache:         {tmp_path / 'd' / 'cache'}\n" in out
    assert f"user themes:   {tmp_path / 'conf' / 'themes'}\n" in out
    assert not (tmp_path / "d").exists()  # looking creates nothing


def test_config_problems_are_warnings_and_the_command_still_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("theme = [\n")
    code, out, err = run(capsys, "list", "--config", str(config), "--data-dir", str(tmp_path))
    assert code == 0
    assert out == "No conversations.\n"
    assert err.startswith(f"tui-chat: warning: {config}:")
    assert "not valid TOML" in err


def test_a_mistyped_key_id_in_config_is_a_warning_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\ntoggle_sidebar = "f9"\n"sidebar.delet" = "x"\n')
    code, _, err = run(capsys, "list", "--config", str(config), "--data-dir", str(tmp_path))
    assert code == 0
    assert err.startswith(f"tui-chat: warning: {config}:3 ")
    assert "'sidebar.delet'" in err and "did you mean 'sidebar.delete'?" in err
    assert "toggle_sidebar" not in err


def test_environment_variables_choose_the_folders(data_dir: Path, tmp_path: Path) -> None:
    result = run_process(
        "list",
        "--json",
        env={"TUI_CHAT_DATA_DIR": str(data_dir), "TUI_CHAT_CONFIG": str(tmp_path / "c.toml")},
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3
    # The command line wins over the environment.
    empty = tmp_path / "empty"
    result = run_process(
        "list", "--json", "--data-dir", str(empty), env={"TUI_CHAT_DATA_DIR": str(data_dir)}
    )
    assert json.loads(result.stdout) == []


def test_module_entry_point_help_version_and_errors(data_dir: Path) -> None:
    help_run = run_process("--help")
    assert help_run.returncode == 0
    for word in ("list", "export", "paths", "stats", "trash", "--data-dir", "--config"):
        assert word in help_run.stdout
    version = run_process("--version")
    assert version.stdout.strip() == f"tui-chat {__version__}"
    missing = run_process("export", "nope", "--data-dir", str(data_dir))
    assert missing.returncode == 1
    assert missing.stderr == "tui-chat: There is no conversation 'nope' in conversations.\n"
    bad_usage = run_process("export")
    assert bad_usage.returncode == 2
    assert "the following arguments are required: id" in bad_usage.stderr


def test_export_into_a_pipe_keeps_the_exact_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = ConversationStore(AppPaths(config_file=tmp_path / "c.toml", data_dir=data))
    conv = Conversation(id="raw", title="Raw")
    conv.messages.append(Message("user", "colour \x1b[31mred\x1b[0m and crlf\r\n"))
    store.save(conv)
    result = run_process("export", "raw", "--format", "json", "--data-dir", str(data))
    assert json.loads(result.stdout)["messages"][0]["content"] == conv.messages[0].content


def test_unreadable_data_folder_is_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    code, out, err = run(capsys, "list", "--data-dir", str(blocker))
    assert out == ""
    assert code == 1
    assert err.startswith("tui-chat: Could not list ")
    assert "is a file, not a folder" in err

"""`tui-chat ask` and `tui-chat search` from the shell: the installed command in a subprocess,
talking through the real openai SDK to the test server, with the saved files checked after."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_harness import build_app, chat, data_paths, reply_finished, send, wait_for
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, installed_command, run_installed, session_env

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.storage.store import ConversationStore

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
REPLY = "first line of the answer\nsecond line\nthird line\n"


@pytest.fixture
def env(tmp_path: Path, openai_server: FakeOpenAIServer) -> dict[str, str]:
    """A config whose only profile is the test server, a data folder under tmp_path."""
    return session_env(tmp_path, openai_server)


def ask(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_installed(env, "ask", *args, stdin=stdin)


def start_ask(env: dict[str, str], *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [installed_command(), "ask", *args],
        stdin=popen.pop("stdin", subprocess.DEVNULL),
        stdout=popen.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
        **popen,
    )


def saved(tmp_path: Path) -> list[dict[str, Any]]:
    """The saved conversation files, the one written first first. (Not by id: two asks in one
    second get ids that their random suffix sorts; nor by time, which the files keep to the
    second. The asks of a test run one after the other, so their last writes are in order.)"""
    folder = tmp_path / "data" / "conversations"
    paths = sorted(folder.glob("*.toml"), key=lambda path: path.stat().st_mtime_ns)
    return [tomllib.loads(path.read_text(encoding="utf-8")) for path in paths]


def contents(conversation: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in conversation["messages"]]


def sent_messages(server: FakeOpenAIServer, index: int = -1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = server.chat_requests[index].json["messages"]
    return messages


def test_ask_prints_the_exact_reply_into_a_pipe_and_saves_the_exchange(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(text="exact \x1b[31mtext\x1b[0m\r\nno newline added"))
    done = ask(env, "what", "is", "this?")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "exact \x1b[31mtext\x1b[0m\r\nno newline added"
    assert done.stderr == ""
    (conversation,) = saved(tmp_path)
    assert contents(conversation) == [
        ("user", "what is this?"),
        ("assistant", "exact \x1b[31mtext\x1b[0m\r\nno newline added"),
    ]
    assert conversation["messages"][1]["finish_reason"] == "stop"
    assert conversation["profile"] == "local"


def test_piped_text_is_sent_after_the_prompt_marked_or_alone_without_one(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    log = "Dec 02 app[1]: error: connection refused\n"
    assert ask(env, "why does it fail?", stdin=log).returncode == 0
    assert sent_messages(openai_server)[-1]["content"] == (
        "why does it fail?\n\n<stdin>\nDec 02 app[1]: error: connection refused\n</stdin>"
    )
    assert ask(env, stdin=log).returncode == 0
    assert sent_messages(openai_server)[-1]["content"] == log
    first, second = saved(tmp_path)
    assert first["messages"][0]["content"].startswith("why does it fail?")
    assert second["messages"][0]["content"] == log


def test_nothing_to_ask_is_one_sentence(env: dict[str, str]) -> None:
    done = ask(env)
    assert done.returncode == 1
    assert done.stderr == "tui-chat: nothing to ask: give a prompt, or pipe text in.\n"


def test_reply_to_a_terminal_has_its_escape_sequences_made_visible(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    hostile = "safe \x1b]52;c;cHduZWQ=\x07 \x1b[2J end"
    openai_server.enqueue(Script(text=hostile))
    session = TerminalSession(env, command=[installed_command(), "ask", "hello"])
    try:
        assert session.wait_exit() == 0
    finally:
        session.close()
    shown = session.raw.decode("utf-8")
    assert "\x1b" not in shown
    assert "safe ␛]52;c;cHduZWQ=␇ ␛[2J end\r\n" in shown  # and the line ended for the prompt
    (conversation,) = saved(tmp_path)
    assert conversation["messages"][1]["content"] == hostile  # the file keeps the exact text


def test_markdown_is_rendered_on_a_terminal_on_request_and_a_pipe_still_gets_it_exact(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    reply = "# Title\n\nSome **bold** text and \x1b]0;title\x07 an escape."
    openai_server.enqueue(Script(text=reply), Script(text=reply))
    session = TerminalSession(env, command=[installed_command(), "ask", "--markdown", "hello"])
    try:
        assert session.wait_exit() == 0
    finally:
        session.close()
    screen = "\n".join(session.screen.display)  # what the terminal shows after the exit
    assert "Some bold text and ␛]0;title␇ an escape." in screen
    assert "**" not in screen and "# Title" not in screen
    assert "\x1b]0;" not in session.raw.decode("utf-8")
    assert ask(env, "--markdown", "hello").stdout == reply


def test_markdown_is_rendered_on_a_terminal_while_the_reply_still_streams(
    openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    head = "# Title\n\nSome **bold** text, then a list:\n\n- one\n- two\n\n"
    tail = "".join(f"Line {n} of a long answer.\n\n" for n in range(60))
    # The reply stops coming after its head, as a slow model would: it is not complete.
    openai_server.enqueue(Script(text=head + tail, chunk_chars=8, stall_after_chunks=8))
    session = TerminalSession(env, command=[installed_command(), "ask", "--markdown", "hello"])
    try:
        screen = session.wait_for_text("Some bold text, then a list:")
        assert "**" not in screen and "# Title" not in screen
        session.wait_for_text("• two")
        assert session.process.isalive()  # shown before the reply was complete
    finally:
        session.close()


def test_continue_and_conversation_id_add_to_an_existing_conversation(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    assert ask(env, "first question").returncode == 0
    assert ask(env, "an unrelated one").returncode == 0
    older, newer = saved(tmp_path)
    assert ask(env, "-c", "and a follow-up").returncode == 0
    assert [m["content"] for m in sent_messages(openai_server)] == [
        "an unrelated one",
        "You said: an unrelated one",
        "and a follow-up",
    ]
    assert ask(env, "--conversation", older["id"], "back to the first").returncode == 0
    assert sent_messages(openai_server)[0]["content"] == "first question"
    older, newer = saved(tmp_path)
    assert len(older["messages"]) == 4
    assert len(newer["messages"]) == 4


async def test_continue_follows_a_conversation_made_in_the_app(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str], api_key: str
) -> None:
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "asked in the app")
        await wait_for(pilot, reply_finished(chat(app)))
    done = ask(env, "-c", "asked from the shell")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "You said: asked from the shell"
    (conversation,) = saved(tmp_path)
    assert [m["content"] for m in conversation["messages"]] == [
        "asked in the app",
        "You said: asked in the app",
        "asked from the shell",
        "You said: asked from the shell",
    ]


def test_continue_with_no_conversation_and_an_unknown_id_are_one_sentence(
    tmp_path: Path, env: dict[str, str]
) -> None:
    done = ask(env, "-c", "hello")
    assert done.returncode == 1
    assert done.stderr == (
        "tui-chat: there is no conversation to continue yet: ask without -c first.\n"
    )
    done = ask(env, "--conversation", "20260101-000000-dead", "hello")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "20260101-000000-dead" in done.stderr
    assert saved(tmp_path) == []


def test_model_system_and_profile_options(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    done = ask(env, "-m", "gpt-4o", "--system", "Answer in French.", "bonjour")
    assert done.returncode == 0, done.stderr
    request = openai_server.chat_requests[-1].json
    assert request["model"] == "gpt-4o"
    assert request["messages"][0] == {"role": "system", "content": "Answer in French."}
    (conversation,) = saved(tmp_path)
    assert (conversation["model"], conversation["system"]) == ("gpt-4o", "Answer in French.")
    done = ask(env, "--profile", "nowhere", "hello")
    assert done.returncode == 1
    assert (
        done.stderr == "tui-chat: there is no profile named 'nowhere' (profiles: local, openai).\n"
    )
    assert len(openai_server.chat_requests) == 1


def test_prompt_words_may_come_before_between_and_after_options(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    done = ask(env, "why", "-m", "gpt-4o", "is", "the", "-u", "sky", "blue?")
    assert done.returncode == 0, done.stderr
    assert sent_messages(openai_server)[-1] == {"role": "user", "content": "why is the sky blue?"}
    assert openai_server.chat_requests[-1].json["model"] == "gpt-4o"
    assert "gpt-4o" in done.stderr  # -u, after a word of the prompt, was still an option
    done = ask(env, "hi", "--no-such-option", "there")
    assert done.returncode == 2
    assert "unrecognized arguments: --no-such-option" in done.stderr
    assert len(openai_server.chat_requests) == 1


def test_no_save_keeps_nothing_on_disk(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    done = ask(env, "--no-save", "a secret question")
    assert done.returncode == 0
    assert done.stdout == "You said: a secret question"
    assert saved(tmp_path) == []


def test_usage_line_on_stderr_with_cost_or_a_question_mark(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    done = ask(env, "-u", "count me")
    assert done.stdout == "You said: count me"
    usage = saved(tmp_path)[0]["messages"][1]["usage"]  # as the server reported it
    in_out = f"{usage['prompt_tokens']} in, {usage['completion_tokens']} out"
    assert done.stderr == f"tui-chat: {in_out}, ?, gpt-4o-mini\n"  # no known price here
    config = Path(env["TUI_CHAT_CONFIG"])
    config.write_text(
        config.read_text() + '\n[prices."gpt-4o-mini"]\ninput = 1000\noutput = 2000\n'
    )
    done = ask(env, "--usage", "-c", "count me")
    usage = saved(tmp_path)[0]["messages"][3]["usage"]
    cost = (usage["prompt_tokens"] * 1000 + usage["completion_tokens"] * 2000) / 1e6
    in_out = f"{usage['prompt_tokens']} in, {usage['completion_tokens']} out"
    assert done.stderr == f"tui-chat: {in_out}, ${cost:.4f}, gpt-4o-mini\n"


def test_a_failed_request_is_one_sentence_exit_1_and_the_prompt_is_saved(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(status=401, error_message="Incorrect API key provided."))
    done = ask(env, "my carefully written question")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("tui-chat: ")
    assert "Traceback" not in done.stderr
    (conversation,) = saved(tmp_path)
    user, reply = conversation["messages"]
    assert user["content"] == "my carefully written question"
    assert reply["finish_reason"] == "error"
    assert done.stderr == f"tui-chat: {reply['error']}\n"


def test_server_down_is_one_sentence_and_the_prompt_is_saved(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    openai_server.stop()
    done = ask(env, "is anyone there?")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    (conversation,) = saved(tmp_path)
    assert conversation["messages"][0]["content"] == "is anyone there?"


def test_a_config_that_cannot_be_read_sends_nothing_and_keeps_the_message(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    config = Path(env["TUI_CHAT_CONFIG"])
    config.write_text('default_profile = "local"\n[profiles.local\n')
    # On defaults the OpenAI profile would take the words wherever these point.
    elsewhere = {"OPENAI_BASE_URL": openai_server.base_url, "OPENAI_API_KEY": "sk-elsewhere"}
    done = ask({**env, **elsewhere}, "a private log follows", stdin="secret line\n")
    assert done.returncode == 1
    assert openai_server.chat_requests == []
    (conversation,) = saved(tmp_path)
    assert conversation["messages"][0]["content"].endswith("<stdin>\nsecret line\n</stdin>")
    warning, error = done.stderr.splitlines()
    assert warning.startswith(f"tui-chat: warning: {config}:2:") and "not valid TOML" in warning
    assert error == (
        "tui-chat: nothing was sent: the config cannot be read, so which server should get your "
        f"message is unknown; fix it and ask again (your message is saved in conversation "
        f"{conversation['id']})."
    )


def test_config_problems_in_a_readable_file_are_warnings_and_ask_goes_on(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    config = Path(env["TUI_CHAT_CONFIG"])
    config.write_text(config.read_text() + '\n[keys]\nno_such_action = "f9"\n')
    done = ask(env, "hello")
    assert done.returncode == 0
    assert done.stdout == "You said: hello"
    assert done.stderr.startswith(f"tui-chat: warning: {config}:")
    assert "no_such_action" in done.stderr


def test_ctrl_c_mid_reply_saves_the_partial_reply_marked_interrupted(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(text="word " * 400, delay_per_chunk=0.02))
    process = start_ask(env, "a long answer please")
    assert process.stdout is not None
    received = process.stdout.read(20)  # the reply is streaming
    process.send_signal(signal.SIGINT)
    received += process.stdout.read()
    assert process.wait(timeout=20) == 130
    assert process.stderr is not None
    assert process.stderr.read() == (
        b"tui-chat: stopped: the partial reply is saved, marked interrupted.\n"
    )
    (conversation,) = saved(tmp_path)
    reply = conversation["messages"][1]
    assert reply["finish_reason"] == "interrupted"
    assert 20 <= len(reply["content"]) < len("word " * 400)
    assert reply["content"] == received.decode()


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_hang_up_or_sigterm_mid_reply_saves_the_partial_reply_marked_interrupted(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str], signum: int
) -> None:
    openai_server.enqueue(Script(text="word " * 400, delay_per_chunk=0.02))
    process = start_ask(env, "a long answer please")
    assert process.stdout is not None
    received = process.stdout.read(20)  # the reply is streaming
    process.send_signal(signum)
    received += process.stdout.read()
    assert process.wait(timeout=20) == 128 + signum
    (conversation,) = saved(tmp_path)
    reply = conversation["messages"][1]
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"] == received.decode()
    assert 20 <= len(reply["content"]) < len("word " * 400)


def reading_standard_input(process: subprocess.Popen[bytes]) -> bool:
    """The process is blocked in read(0, ...) (Linux: /proc/PID/syscall names the call)."""
    try:
        call = Path(f"/proc/{process.pid}/syscall").read_text().split()
    except OSError:
        return False
    return call[:2] == ["0", "0x0"]


def test_ctrl_c_while_the_pipe_is_still_open_ends_without_a_traceback(
    tmp_path: Path, env: dict[str, str]
) -> None:
    process = start_ask(env, "summarise this", stdin=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not reading_standard_input(process):
        assert time.monotonic() < deadline, "never read its standard input"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 130
    assert process.stderr is not None
    assert process.stderr.read() == b""
    assert saved(tmp_path) == []


def test_a_closed_stdout_ends_the_reply_quietly(
    tmp_path: Path, openai_server: FakeOpenAIServer, env: dict[str, str]
) -> None:
    openai_server.enqueue(Script(text=REPLY + "more\n" * 2000, delay_per_chunk=0.005))
    process = start_ask(env, "many lines")
    head = subprocess.run(
        ["head", "-1"], stdin=process.stdout, capture_output=True, text=True, timeout=30
    )
    assert process.stdout is not None
    process.stdout.close()  # only head holds the pipe now
    assert head.stdout == "first line of the answer\n"
    assert process.wait(timeout=30) == 0
    assert process.stderr is not None
    assert process.stderr.read() == b""
    (conversation,) = saved(tmp_path)
    assert conversation["messages"][1]["finish_reason"] == "interrupted"


def test_ask_never_imports_textual(tmp_path: Path, env: dict[str, str]) -> None:
    script = (
        "import sys\n"
        "from tui_chat.cli import main\n"
        "code = main(['ask', 'hello'])\n"
        "print(code, 'textual' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [str(Path(installed_command()).parent / "python"), "-c", script],
        input="",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    assert done.stdout == "You said: hello"
    assert done.stderr == "0 False\n"


def test_search_finds_titles_and_messages_newest_first_with_hits_and_a_snippet(
    tmp_path: Path, env: dict[str, str]
) -> None:
    store = ConversationStore(data_paths(tmp_path))
    for minute, question in enumerate(
        ("Tomato soup recipe", "bread, and tomato on the side", "nothing here")
    ):
        conversation = Conversation.new(profile="local", model="gpt-4o-mini")
        conversation.add(Message(role="user", content=question))
        conversation.add(Message(role="assistant", content=f"About {question}."))
        conversation.updated = T0 + timedelta(minutes=minute)
        store.save(conversation)
    soup, bread, _ = sorted(saved(tmp_path), key=lambda c: c["updated"])
    listed = run_installed(env, "search", "TOMATO")
    assert listed.stdout.splitlines() == [
        f"{bread['id']}  {local_time(bread)}  3 hits  bread, and tomato on the side",
        "    bread, and tomato on the side",
        f"{soup['id']}  {local_time(soup)}  3 hits  Tomato soup recipe",
        "    Tomato soup recipe",
    ]
    results = json.loads(run_installed(env, "search", "tomato", "--json").stdout)
    assert [(r["id"], r["hits"], r["message_index"], r["snippet"]) for r in results] == [
        (bread["id"], 3, 0, "bread, and tomato on the side"),
        (soup["id"], 3, 0, "Tomato soup recipe"),
    ]
    assert run_installed(env, "search", "absent").stdout == "No conversation matches.\n"


def local_time(conversation: dict[str, Any]) -> str:
    moment: datetime = conversation["updated"]
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")

"""Secrets: the API key never shows up in anything tui-chat writes or shows, on any error path, and
files that may hold secrets are private to the user.

The key is the recognisable FAKE_API_KEY; each test drives error paths where a server echoes the
key back (as some do), then greps every output: messages, notifications, the screen, the bytes
sent to a real terminal, every file in the data folder, exports, and reprs that a crash screen
prints.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from app_harness import FAKE_API_KEY, FAKE_API_KEY_ENV, build_app, notifications, wait_for
from app_harness import chat as chat_screen
from app_harness import reply_finished as reply_done
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, session_env, wait_until

from tui_chat.cli import main as cli_main
from tui_chat.config import Config, Profile, load_config

ECHOED = f"Incorrect API key provided: {FAKE_API_KEY}."
KEY_TAIL = FAKE_API_KEY[-4:]

LEAKY_FAULTS = [
    Script(status=401, error_message=ECHOED, error_code="invalid_api_key"),
    Script(status=400, error_message=f"Bad request for key {FAKE_API_KEY}"),
    Script(status=403, error_message=f"Key {FAKE_API_KEY} has no access"),
    Script(text="partial answer here", error_after_chunks=2, error_message=ECHOED),
    Script(status=400, raw_body=f"{{not json {FAKE_API_KEY}", content_type="application/json"),
    Script(raw_body=f"<html><title>Login {FAKE_API_KEY}</title></html>", content_type="text/html"),
    Script(
        raw_body=json.dumps({"error": {"message": ECHOED, "type": "auth"}}),
        content_type="application/json",
    ),
]


def all_text_under(folder: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


async def test_key_never_appears_on_any_error_path_in_app_files_or_exports(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    api_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    openai_server.enqueue(*LEAKY_FAULTS)
    # The key comes from the environment, as most users set it.
    app = build_app(tmp_path, openai_server, api_key=None, api_key_env=FAKE_API_KEY_ENV)
    shown: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat_screen(app)
        for number, _ in enumerate(LEAKY_FAULTS):
            count = len(screen.conversation.messages) + 2
            screen.composer.focus()
            screen.composer.set_text(f"attempt {number}")
            await pilot.press("enter")
            await wait_for(pilot, reply_done(screen, count), what=f"fault {number}")
            failed = screen.conversation.messages[-1]
            assert failed.error, f"fault {number} gave no message"
            shown.append(failed.error)
            shown.extend(screen.pane.visible_text())
        app.query_one("#messages")  # the screen is still whole
        screen.commands.export_markdown()
        shown.extend(f"{n.title} {n.message}" for n in notifications(app))
        shown.append(repr(app.services.config))
        shown.append(repr(app.services))
    assert len(openai_server.chat_requests) == len(LEAKY_FAULTS)
    everything = "\n".join(shown)
    assert FAKE_API_KEY not in everything
    assert "…" + KEY_TAIL in everything  # said which key was refused, by its last 4 characters
    files = all_text_under(tmp_path / "data")
    assert "attempt 0" in files and "exports" in str(list((tmp_path / "data").rglob("*.md")))
    assert FAKE_API_KEY not in files
    # The command line's views of the same conversation.
    data = str(tmp_path / "data")
    assert cli_main(["list", "--json", "--data-dir", data]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    for form in ("markdown", "json"):
        assert cli_main(["export", entry["id"], "--format", form, "--data-dir", data]) == 0
    out, err = capsys.readouterr()
    assert "attempt 6" in out
    assert FAKE_API_KEY not in out + err


@pytest.mark.slow
def test_key_echoed_by_a_server_never_reaches_the_terminal(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.required_key = "sk-the-right-one-000000000000"  # ours is refused and echoed
    env = session_env(tmp_path, openai_server)
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations")
        session.type("hello\r")
        session.wait_for_text("401")
        openai_server.required_key = None
        openai_server.enqueue(
            Script(text="fine so far", error_after_chunks=1, error_message=ECHOED)
        )
        session.type("\x12")  # ctrl+r
        wait_until(lambda: len(openai_server.chat_requests) == 2, session, "the retry")
        session.wait_for_text("reported an error")
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    assert FAKE_API_KEY.encode() not in bytes(session.raw)
    assert FAKE_API_KEY not in all_text_under(tmp_path / "data")


def test_reprs_that_a_crash_screen_prints_hold_no_key(tmp_path: Path) -> None:
    """Textual's crash screen shows every frame's locals: a Profile or Config is in many."""
    profile = Profile(name="p", api_key=FAKE_API_KEY)
    config = Config(profiles={"p": profile})
    assert FAKE_API_KEY not in repr(profile)
    assert FAKE_API_KEY not in repr(config)
    assert profile.api_key == FAKE_API_KEY  # still there for the client


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


async def test_files_that_may_hold_secrets_are_private_and_a_readable_config_is_flagged(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    previous = os.umask(0o022)  # the usual umask: files would be world-readable unless private
    try:
        await _chat_export_and_save_theme(tmp_path, openai_server)
    finally:
        os.umask(previous)
    config_file = tmp_path / "config" / "config.toml"
    data = tmp_path / "data"
    written = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".md" for p in written) and any(p.suffix == ".toml" for p in written)
    assert [p for p in written if not private(p)] == []
    assert private(config_file)
    assert private(data / "conversations")
    # A config holding a key that others can read is flagged at start.
    config_file.write_text(f'[profiles.x]\nbase_url = "http://h/v1"\napi_key = "{FAKE_API_KEY}"\n')
    config_file.chmod(0o644)
    _, problems = load_config(config_file)
    assert any("chmod 600" in str(p) for p in problems)
    assert all(FAKE_API_KEY not in str(p) for p in problems)


async def _chat_export_and_save_theme(tmp_path: Path, openai_server: FakeOpenAIServer) -> None:
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.set_text("my private question")
        screen.composer.focus()
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), what="the reply")
        screen.commands.export_markdown()
        app.action_pick_theme()
        await pilot.pause()
        await pilot.press("enter")  # saves the theme to config.toml (creates it)
        config_file = tmp_path / "config" / "config.toml"
        await wait_for(pilot, config_file.exists, what="the config file")


def test_private_file_helpers_hold_under_a_permissive_umask(tmp_path: Path) -> None:
    from tui_chat.config import save_setting

    old = os.umask(0)
    try:
        save_setting(tmp_path / "new" / "config.toml", "theme", "x")
    finally:
        os.umask(old)
    assert private(tmp_path / "new" / "config.toml")

"""The keys of `@` completion and of the attached files, as a real terminal sends them: the
installed `tui-chat` on an 80x24 pty (xterm sequences for Tab, shift+Tab and Delete)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer
from terminal_session import TerminalSession, config_env

pytestmark = pytest.mark.slow

KEY_ENV = "TUI_CHAT_ATTACH_E2E_KEY"
KEY = "sk-attach-e2e-DO-NOT-LEAK-1a2b"
TAB, SHIFT_TAB, DELETE, CTRL_Q = "\t", "\x1b[Z", "\x1b[3~", "\x11"


def test_at_tab_attaches_delete_removes_and_enter_sends_in_a_real_terminal(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("The build fails on step 3.\n", encoding="utf-8")
    (work / "other.txt").write_text("Another file.\n", encoding="utf-8")
    monkeypatch.chdir(work)  # the app lists what is where it was started
    session = TerminalSession(config_env(tmp_path, openai_server.base_url, KEY_ENV, KEY))
    try:
        session.wait_for_text("Conversations")
        session.type("look at @no")
        session.wait_for_text("notes.txt")
        session.type(TAB)
        session.wait_for_text("Attached (1)")
        session.type("and @oth")
        session.wait_for_text("other.txt")
        session.type(TAB)
        session.wait_for_text("Attached (2)")
        session.type(SHIFT_TAB)  # to the attached files
        session.type(DELETE)  # the first one, highlighted
        session.wait_for_text("Attached (1)")
        session.type(TAB)  # back to the composer, below the files
        session.type("\r")
        session.wait_for_text("▸ 📎 other.txt")
        session.type(CTRL_Q)
        assert session.wait_exit() == 0
    finally:
        session.close()
    (saved,) = [
        tomllib.loads(p.read_text(encoding="utf-8"))
        for p in (tmp_path / "data" / "conversations").glob("*.toml")
    ]
    prompt = saved["messages"][0]
    assert prompt["content"] == "look at @notes.txt and @other.txt "
    assert [f["name"] for f in prompt["attachments"]] == ["other.txt"]

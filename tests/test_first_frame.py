"""The first frame the installed `tui-chat` draws at 80x24 is already the finished screen.

The virtual terminal answers Textual's question about synchronized output, so every frame
arrives between a begin and an end mark and the very first one can be read on its own.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyte
from openai_server import FakeOpenAIServer
from terminal_session import COLUMNS, LINES, TerminalSession, config_env

from tui_chat.domain import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
SUPPORTS_SYNC = "\x1b[?2026;2$y"  # the terminal's reply: mode 2026 supported, reset
SIDEBAR_TEXT = slice(1, 23)  # inside the sidebar's border, left of its scroll bar


def seed_recent(tmp_path: Path, count: int) -> None:
    """Conversations from the last hours, listed once so the index cache is warm."""
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    )
    now = datetime.now(UTC)
    for n in range(count):
        conversation = Conversation(id=f"20261120-0900{n:02d}-abcd", title=f"topic {n}")
        conversation.add(Message("user", f"question {n}"))
        conversation.add(Message("assistant", f"answer {n}", finish_reason="stop"))
        conversation.updated = now - timedelta(hours=3, minutes=count - n)
        store.save(conversation)
    past = time.time() - 3600  # the index trusts a file's stat only once it is a little old
    for path in store.folder.glob("*.toml"):
        os.utime(path, (past, past))
    store.list_entries()


def screen_after(data: bytes) -> list[str]:
    screen = pyte.Screen(COLUMNS, LINES)
    pyte.ByteStream(screen).feed(data)
    return list(screen.display)


def test_the_first_frame_has_both_lines_of_every_row_and_the_footer_keys(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed_recent(tmp_path, 20)
    session = TerminalSession(config_env(tmp_path, openai_server.base_url, "TUI_FF_KEY", "sk-x"))
    try:
        session.type(SUPPORTS_SYNC)  # waits in the input until Textual asks
        settled = session.wait_for_text("answer 19")  # the newest conversation is open
        session.wait_for_text("^q Quit")
        session.type("\x11")  # ctrl+q
        session.wait_exit()
    finally:
        session.close()
    raw = bytes(session.raw)
    assert SYNC_START in raw and SYNC_END in raw, "the terminal's reply was not heard"
    # Nothing was painted before the first synchronized frame.
    assert b"\x1b[1;1H" not in raw[: raw.index(SYNC_START)]
    first = screen_after(raw[: raw.index(SYNC_END) + len(SYNC_END)])
    frame = "\n".join(first)

    # Every row: its title, then age · count · model (the model wraps at 80 columns).
    rows = [line[SIDEBAR_TEXT].rstrip() for line in first[2:21]]
    titles = [i for i, row in enumerate(rows) if row.startswith("topic ")]
    assert len(titles) >= 5, frame
    for i in titles[:-1]:
        assert rows[i + 1].startswith("3h · 2 msg ·"), frame
        assert rows[i + 2] == "gpt-4o-mini", frame
    # The rows are those of the settled screen: the first frame was not drawn at another width.
    assert rows == [line[SIDEBAR_TEXT].rstrip() for line in settled.splitlines()[2:21]], frame

    footer = first[-1]
    for key in ("^q Quit", "^n New", "^b Sidebar", "F1 Keys", "^p palette"):
        assert key in footer, frame

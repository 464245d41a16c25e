"""A day at the keyboard: one scripted session of the installed `tui-chat` under a real pty at
80x24, walking README's keys and the palette in the order a person would, against the test
server echoing each prompt (so words recur across messages and conversations).

After every step it checks what the user would check: which conversation is open and
highlighted, what the composer holds, and what the files on disk say. This is the test that
would have caught the search crash, the alt+Enter send, the delete that jumped to the top and
keys applied out of order.
"""

from __future__ import annotations

import base64
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, config_env

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.storage.toml_write import conversation_to_toml

pytestmark = pytest.mark.slow

KEY_ENV = "TUI_CHAT_DAY_KEY"
KEY = "sk-day-DO-NOT-LEAK-1a2b3c4d"
TOPICS = ["kubernetes", "postgres", "nginx", "python", "rust", "bash", "systemd", "tmux"]
CONVERSATIONS = 32
PINNED = 5  # the index of the one pinned conversation: it sits at the top of the list
SIDEBAR_WIDTH = 25  # the sidebar's columns at 80x24 (its right border included)


def _write_history(data: Path) -> None:
    """32 conversations, one pinned; each message names its topic and number, so the pane
    shows which conversation is open, and topics recur across conversations."""
    folder = data / "conversations"
    folder.mkdir(parents=True)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for number in range(CONVERSATIONS):
        topic = TOPICS[number % len(TOPICS)]
        when = start + timedelta(hours=number)
        messages: list[Message] = []
        for turn in range(2):
            question = f"Question {turn} about {topic} number {number}"
            messages.append(Message(role="user", content=question, created=when))
            messages.append(
                Message(
                    role="assistant",
                    content=f"You said: {question}",
                    created=when,
                    model="gpt-4o-mini",
                    finish_reason="stop",
                )
            )
        conversation = Conversation(
            id=f"20261101-{number:06d}-d{number:03d}",
            title=f"{topic.title()} notes {number}",
            created=when,
            updated=when,
            profile="local",
            model="gpt-4o-mini",
            pinned=number == PINNED,
            messages=messages,
        )
        (folder / f"{conversation.id}.toml").write_text(
            conversation_to_toml(conversation), encoding="utf-8"
        )


class Day:
    """The user's view: the screen of a `tui-chat` on a pty, and the files behind it."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.data = tmp_path / "data"
        self.env = env
        self.session = TerminalSession(env)

    # --- the screen -------------------------------------------------------------------
    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.session.pump()
            if predicate():
                return
            assert self.session.process.isalive(), f"tui-chat died while waiting for {what}"
            time.sleep(0.05)
        raise AssertionError(f"never saw {what}:\n{self.session.text()}")

    def wait_text(self, needle: str, timeout: float = 30.0) -> None:
        self.wait(lambda: needle in self.session.text(), repr(needle), timeout)

    def wait_gone(self, needle: str, timeout: float = 30.0) -> None:
        self.wait(lambda: needle not in self.session.text(), f"{needle!r} gone", timeout)

    def keys(self, text: str) -> None:
        """One write, as a paste or fast typing over SSH delivers it."""
        self.session.type(text)

    def footer(self) -> str:
        self.session.pump()
        return "".join(char.data for char in self.session.screen.buffer[23].values())

    def sidebar_rows(self) -> list[tuple[str, str]]:
        """(text, background) of each list line inside the sidebar's border (below the filter)."""
        self.session.pump()
        rows = []
        for y in range(2, 23):
            line = self.session.screen.buffer[y]
            text = "".join(line[x].data for x in range(1, SIDEBAR_WIDTH - 1)).rstrip()
            rows.append((text, line[2].bg))
        return rows

    def highlighted(self) -> list[str]:
        """The sidebar lines drawn in the highlight colour (the cursor's row)."""
        rows = self.sidebar_rows()
        backgrounds = [bg for text, bg in rows if text]
        if not backgrounds:
            return []
        common = max(set(backgrounds), key=backgrounds.count)
        return [text for text, bg in rows if text and bg != common]

    def highlighted_title(self) -> str:
        """The title on the cursor's row (its first line), without the pin mark."""
        lines = self.highlighted()
        return lines[0].removeprefix("★").strip() if lines else ""

    def pane(self) -> str:
        self.session.pump()
        return "\n".join(line[SIDEBAR_WIDTH + 1 :] for line in self.session.screen.display[:19])

    def focus(self, footer_word: str) -> None:
        """Tab until the footer shows the keys of the wanted place: "Filter" the list, "Prev msg"
        the messages, "^o Model" the composer (each footer has words the others lack)."""
        for _ in range(4):
            if footer_word in self.footer():
                return
            self.keys("\t")
            time.sleep(0)  # the next check waits on the screen, not on time
            try:
                self.wait(lambda: footer_word in self.footer(), footer_word, timeout=3)
                return
            except AssertionError:
                continue
        raise AssertionError(f"focus never reached {footer_word!r}: {self.footer()!r}")

    def palette(self, query: str, command: str) -> None:
        """ctrl+p, type, and run the command once the palette offers it."""
        self.keys("\x10")
        self.wait_text("Search for commands")
        self.keys(query)
        self.wait_text(command)
        self.keys("\r")
        self.wait_gone(command)

    # --- the files --------------------------------------------------------------------
    def files(self) -> dict[str, dict[str, Any]]:
        folder = self.data / "conversations"
        return {
            path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.toml"))
        }

    def trashed(self) -> set[str]:
        return {path.stem for path in (self.data / "trash").glob("*.toml")}

    def by_title(self, title: str) -> dict[str, Any]:
        (found,) = [c for c in self.files().values() if c["title"] == title]
        return found

    def wait_file(self, predicate: Callable[[dict[str, dict[str, Any]]], bool], what: str) -> None:
        self.wait(lambda: predicate(self.files()), what)

    def quit(self) -> None:
        self.keys("\x11")
        assert self.session.wait_exit(timeout=15) == 0
        self.session.close()


@pytest.fixture
def day_env(tmp_path: Path, openai_server: FakeOpenAIServer) -> dict[str, str]:
    env = config_env(tmp_path, openai_server.base_url, KEY_ENV, KEY)
    _write_history(tmp_path / "data")
    return env


def test_a_day_at_the_keyboard(
    tmp_path: Path, openai_server: FakeOpenAIServer, day_env: dict[str, str]
) -> None:
    day = Day(tmp_path, day_env)
    try:
        _walk_the_day(day, tmp_path, openai_server, day_env)
    finally:
        day.session.close()
    assert KEY not in day.session.raw.decode("utf-8", "replace")


def _walk_the_day(day: Day, tmp_path: Path, server: FakeOpenAIServer, env: dict[str, str]) -> None:
    # Morning: the list is there, its top (the pinned one) is open and marked in the list
    # while the composer has the focus.
    day.wait_text(f"Conversations ({CONVERSATIONS})")
    day.wait_text("about bash number 5")
    day.wait(lambda: day.highlighted_title().endswith("notes 5"), "the open one marked")

    # A question in the open conversation: the reply echoes it; both are on disk.
    day.keys("how do I restart tmux")
    day.wait_text("how do I restart tmux")
    day.keys("\r")
    day.wait_text("You said: how do I restart tmux")
    pinned_id = "20261101-000005-d005"
    day.wait_file(
        lambda f: f[pinned_id]["messages"][-1]["content"] == "You said: how do I restart tmux",
        "the reply saved",
    )

    # alt+Enter (ESC CR from tmux, screen and xterm) and ctrl+j are newlines, Enter sends.
    day.keys("first line\x1b\rsecond line\nthird line")
    day.wait_text("third line")
    assert len(server.chat_requests) == 1, "alt+Enter or ctrl+j sent the message"
    day.keys("\r")
    day.wait_file(
        lambda f: (
            f[pinned_id]["messages"][-2]["content"] == "first line\nsecond line\nthird line"
            and f[pinned_id]["messages"][-1].get("finish_reason") == "stop"
        ),
        "the three-line message and its reply saved",
    )

    # Keys written at once (a paste, tmux send-keys) apply in order: backspace, left, ctrl+a.
    day.keys("abc")
    day.wait_text("abc")
    day.keys("\x7fzz")
    day.keys("\x1b[DQQ")
    day.keys("\x01WW")
    day.wait_text("WWabzQQz")
    day.keys("\x15")  # ctrl+u clears the line: the composer is empty again
    day.wait_gone("WWabzQQz")

    # ctrl+n: a new conversation; its first message names it in the list.
    day.keys("\x0e")
    day.wait_gone("about bash number 5")
    day.keys("zebra crossing plans\r")
    day.wait_text("You said: zebra crossing plans")
    day.wait_text(f"Conversations ({CONVERSATIONS + 1})")
    day.wait(lambda: "zebra" in day.highlighted_title().lower(), "the new one highlighted")
    day.keys("zebra again\r")
    day.wait_text("You said: zebra again")

    # Search message text: "zebra" is in one conversation's title and four of its messages.
    day.focus("Filter")
    day.keys("/")
    day.keys("zebra")
    day.keys("\r")
    day.wait_text("Search: 1 found")
    day.wait_text("5 hits")
    day.keys("\r")  # opens it at the first hit, the messages focused: n / N visit the hits
    # "Hit 1 of" is said as the pane takes the focus. Not "You said: zebra again": that was on
    # screen before Enter, and a Tab sent while the conversation loads would move the focus on
    # from the pane once it lands.
    day.wait_text("Hit 1 of")
    day.focus("Prev msg")
    day.keys("n")
    day.wait_text("Hit 2 of")
    day.keys("N")
    day.wait_text("Hit 1 of")
    day.focus("Filter")
    day.keys("\x1b")  # leave search: the whole list is back, the found one still open
    day.wait_text(f"Conversations ({CONVERSATIONS + 1})")

    # "restart" is in many conversations, twice in some: one row each, no crash.
    day.focus("Filter")
    day.keys("/restart\r")
    day.wait_text("hits")
    assert day.session.process.isalive()
    day.keys("\x1b")
    day.wait_gone("hits")

    # Move in the list and open: the highlighted row is the open conversation.
    day.focus("Filter")
    day.keys("\x1b[H")  # home: the pinned conversation
    day.wait(lambda: day.highlighted_title().endswith("notes 5"), "the pinned row highlighted")
    day.keys("jjjj")  # past the new zebra conversation, 31 and 30
    day.wait(lambda: day.highlighted_title().endswith("notes 29"), "four rows down")
    day.keys("\r")
    day.wait_text("about bash number 29")
    day.wait(lambda: "^o Model" in day.footer(), "the composer focused, ready to write")

    # Rename: back in the list, r; ctrl+u and the new title in one write.
    day.focus("Filter")
    day.keys("r")
    day.wait_text("Rename")
    day.keys("\x15Renamed by keyboard")
    day.wait_text("Renamed by keyboard")
    day.keys("\r")
    day.wait_file(
        lambda f: f["20261101-000029-d029"]["title"] == "Renamed by keyboard", "the new title"
    )

    # Pin it, then unpin it.
    day.keys("p")
    day.wait_file(lambda f: f["20261101-000029-d029"].get("pinned") is True, "pinned")
    day.keys("p")
    day.wait_file(lambda f: not f["20261101-000029-d029"].get("pinned"), "unpinned")

    # Two deletes in a row: each takes the row under the cursor, never the pinned top.
    day.wait(lambda: day.highlighted_title() == "Renamed by keyboard", "cursor kept")
    day.keys("j")  # a look at the row below (the list scrolls it into view), and back
    day.wait(lambda: day.highlighted_title() not in ("", "Renamed by keyboard"), "the next row")
    below = day.highlighted_title()
    day.keys("k")
    day.wait(lambda: day.highlighted_title() == "Renamed by keyboard", "back on the renamed one")
    day.keys("d")
    day.wait_text("“Renamed by keyboard”")  # the confirmation names what goes
    day.keys("y")
    day.wait(lambda: "20261101-000029-d029" in day.trashed(), "the first delete")
    day.wait(lambda: day.highlighted_title() == below, f"the cursor on {below!r}, the next row")
    (second_id,) = [i for i, c in day.files().items() if c["title"] == below]
    day.keys("d")
    day.wait_text(f"“{below}”")
    day.keys("y")
    day.wait(lambda: second_id in day.trashed(), "the second delete")
    assert day.trashed() == {"20261101-000029-d029", second_id}
    assert "20261101-000005-d005" in day.files(), "the pinned conversation was deleted"
    day.keys("u")  # restore the last deleted: the cursor goes to it and opens it
    day.wait(lambda: second_id in day.files(), "restored")
    day.wait(lambda: day.highlighted_title() == below, "the cursor on the restored one")
    restored_text = day.files()[second_id]["messages"][-1]["content"]
    day.wait_text(restored_text)

    # ctrl+o with the server down: the dialog opens at once and keeps the profile's model.
    server.stop()
    day.focus("^o Model")
    day.keys("\x0f")
    day.wait_text("gpt-4o-mini")
    day.wait(
        lambda: "connect" in day.session.text().lower() or "reach" in day.session.text().lower(),
        "why the server's list is missing",
    )
    day.keys("\x1b")  # Esc alone: the next key waits until the dialog has gone, as eyes do
    day.wait_gone("type to narrow")
    server.start()

    # Themes with live preview, then back out; the sidebar hides and comes back.
    day.keys("\x14")
    day.wait_text("nord")
    day.keys("\x1b")
    day.wait_gone("nord")
    day.keys("\x02")
    day.wait_gone("Conversations (")
    day.keys("\x02")
    day.wait_text("Conversations (")

    # Help (F1) lists every key; the palette finds a command.
    day.keys("\x1bOP")
    day.wait_text("Keys  (Esc to close)")
    day.wait_text("ctrl+r             regenerate the last reply")
    day.keys("\x1b[6~")  # page down: the composer's and the list's keys are further down
    day.wait_text("alt+enter, ctrl+j")
    day.keys("\x1b")
    day.wait_gone("Keys  (Esc to close)")
    day.keys("\x10")
    day.keys("theme")
    day.wait_text("Choose theme")
    day.keys("\x1b")
    day.wait_gone("Choose theme")

    # The messages: copy the last reply over OSC 52.
    day.focus("Prev msg")
    day.keys("\x1b[F")  # end: the last message
    day.keys("y")
    expected = base64.b64encode(restored_text.encode()).decode()
    day.wait(lambda: expected in day.session.raw.decode("latin-1"), "an OSC 52 copy")

    # A slow reply stopped with Esc keeps the partial text, marked interrupted.
    server.enqueue(Script(text=" ".join(f"w{i}" for i in range(300)), delay_per_chunk=0.05))
    day.focus("^o Model")
    day.keys("tell me a long story\r")
    day.wait_text("w20")
    day.keys("\x1b")
    stopped = second_id
    day.wait_file(
        lambda f: f[stopped]["messages"][-1].get("finish_reason") == "interrupted",
        "the interrupted reply saved",
    )

    # ctrl+r regenerates it.
    day.keys("\x12")
    day.wait_file(
        lambda f: (
            f[stopped]["messages"][-1].get("finish_reason") == "stop"
            and f[stopped]["messages"][-1]["content"] == "You said: tell me a long story"
        ),
        "the regenerated reply",
    )

    # Quit and come back: the same conversation is open and highlighted; carry on.
    day.quit()
    day.session = TerminalSession(env)
    day.wait_text("tell me a long story")
    day.wait(lambda: day.highlighted_title() == below, "the same one highlighted")
    day.keys("and carry on\r")
    day.wait_file(
        lambda f: f[stopped]["messages"][-1]["content"] == "You said: and carry on",
        "the next day's reply",
    )

    # The palette's commands on the open conversation.
    day.palette("system prompt", "Edit system prompt")
    day.wait_text("ctrl+s save")
    day.keys("Answer in one line.")
    day.keys("\x13")  # ctrl+s
    day.wait_file(lambda f: f[stopped].get("system") == "Answer in one line.", "the system prompt")
    day.palette("export", "Export to Markdown")
    day.wait(lambda: any((day.data / "exports").glob("*.md")), "the Markdown export")
    copies_before = day.session.raw.count(b"\x1b]52;c;")
    day.palette("copy conv", "Copy conversation")
    # The copy reaches the terminal as OSC 52. Its toast is not waited for: it lasts seconds and
    # a reader starved by other work can miss it.
    day.wait(lambda: day.session.raw.count(b"\x1b]52;c;") > copies_before, "an OSC 52 copy")
    day.palette("profile", "Switch profile")
    day.keys("nope\r")
    day.wait_text("There is no profile named 'nope'")
    day.keys("\x1b")
    day.wait_gone("There is no profile named")

    # c on a reply with no code says so; e on a message of mine edits it in a fork.
    day.focus("Prev msg")
    day.keys("\x1b[F")  # end: the last reply
    day.keys("c")
    day.wait_text("No code block in this message.")
    day.keys("k")  # up: my message before it
    day.keys("e")
    day.wait_text("Editing in a new fork")
    day.wait(lambda: "^o Model" in day.footer(), "the composer focused with the text")
    before = set(day.files())
    day.keys(" please\r")
    day.wait_file(
        lambda f: any(
            c["messages"][-1]["content"] == "You said: and carry on please"
            for i, c in f.items()
            if i not in before
        ),
        "the fork with the edited message and its reply",
    )
    assert day.files()[stopped]["messages"][-1]["content"] == "You said: and carry on"
    day.quit()
    for conversation in day.files().values():
        assert conversation["messages"], "a conversation file lost its messages"

"""Random keys: a seeded run of key events drawn from README's keys, text and pastes, through
Pilot against the test server, with the app's promises checked after every event.

Used by tests/test_random_keys.py (a short run in the suite) and benchmarks/random_keys.py (a
long one). A failure names the seed and the events that led to it; the same seed with the same
number of events and keys replays the same run (the app is let settle after every event, so
what a key meets does not depend on the machine's speed).

The promises (README's "What tui-chat promises", issue 12):
- the app is still running: no exception ended it;
- every conversation file parses;
- no sent message is missing: each request the server received is, message for message, the
  start of some conversation file (in the folder or the trash);
- the open conversation is the one the list highlights, whenever the list shows the
  conversations (no filter, not browsing with the list's cursor) and the open one has a file.
"""

from __future__ import annotations

import asyncio
import random
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app_harness import chat, data_paths, make_app, wait_for
from openai_server import FakeOpenAIServer
from textual import events
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen

SEED_ENV = "TUI_CHAT_RANDOM_KEYS_SEED"
EVENTS_ENV = "TUI_CHAT_RANDOM_KEYS_EVENTS"

# Words recur across conversations and in the server's echo ("You said: ..."), so searches and
# filters find several hits, in several conversations and twice in one. Typed words are letters
# (each a key of its own name, as the terminal driver makes them); pastes add the rest.
WORDS = ("tmux", "ssh", "fib", "python", "keys", "list", "echo", "tea", "map", "日本", "שלום")
PASTED = (*WORDS, "😀", "a\ttab", "e\u0301", "`code`", "**bold**", "[x]", "\\", '"q"')

# README's Keys table, less what leaves the app (ctrl+q quits, ctrl+e runs $EDITOR); the
# palette (ctrl+p) is driven as a gesture of its own, so it never runs Quit or $EDITOR.
README_KEYS = (
    "ctrl+n",
    "ctrl+b",
    "f1",
    "question_mark",
    "tab",
    "shift+tab",
    "enter",
    "alt+enter",
    "ctrl+j",
    "escape",
    "ctrl+r",
    "ctrl+o",
    "ctrl+t",
    "ctrl+l",
    "up",
    "down",
    "j",
    "k",
    "slash",
    "f2",
    "r",
    "d",
    "delete",
    "u",
    "p",
    "y",
    "c",
    "e",
    "t",
    "n",
    "home",
    "end",
    "pageup",
    "pagedown",
)
# Editing keys: they move the cursor and change text in the composer and the dialogs.
EDITING_KEYS = ("backspace", "left", "right", "space")
ALL_KEYS = README_KEYS + EDITING_KEYS
PALETTE_COMMANDS = (
    "New conversation",
    "Rename conversation",
    "Delete conversation",
    "Restore deleted conversation",
    "Pin / unpin conversation",
    "Export to Markdown",
    "Copy conversation",
    "Switch model",
    "Switch profile",
    "Edit system prompt",
    "Regenerate reply",
    "Stop reply",
    "Choose theme",
    "Toggle sidebar",
    "Keys",
)
SEARCH = "enter (in the filter box: a search)"


class PromiseBroken(AssertionError):
    """One of the promises did not hold after an event."""


@dataclass
class Run:
    """What one run did: the seed, the events so far, what the server was asked."""

    seed: int
    keys: Sequence[str]
    events: list[str] = field(default_factory=list)
    sent: int = 0  # chat requests checked against the files
    highlights: int = 0  # events after which the list's highlight was checked
    states: list[str] = field(default_factory=list)  # after each event: focus, highlight, open
    browsing: bool = False  # the list's cursor was moved away from the open conversation
    open_id: str = ""

    def replay(self, count: int) -> str:
        keys = "" if set(self.keys) == set(ALL_KEYS) else " (with the same key set)"
        return f"{SEED_ENV}={self.seed} {EVENTS_ENV}={count}{keys}"


def plant_conversations(tmp_path: Path, count: int, rng: random.Random) -> list[str]:
    """`count` saved conversations of a few exchanges each, the second one pinned (so the top
    of the list is not the newest), written as an earlier session would have."""
    store = ConversationStore(data_paths(tmp_path))
    ids = []
    for number in range(count):
        conversation = Conversation.new(profile="test", model="gpt-4o-mini")
        conversation.title = f"{rng.choice(WORDS)} {number}"
        for _ in range(rng.randint(1, 3)):
            prompt = " ".join(rng.choices(WORDS, k=3))
            conversation.add(Message(role="user", content=prompt))
            conversation.add(
                Message(role="assistant", content=f"You said: {prompt}", finish_reason="stop")
            )
        conversation.pinned = number == 1
        store.save(conversation)
        ids.append(conversation.id)
    return ids


class Promises:
    """Checks the promises after each event; parses only files that changed since."""

    def __init__(self, tmp_path: Path, server: FakeOpenAIServer) -> None:
        paths = data_paths(tmp_path)
        self.folders = (paths.conversations_dir, paths.trash_dir)
        self.server = server
        self._parsed: dict[Path, tuple[tuple[int, int], list[tuple[str, str]]]] = {}

    def files(self) -> dict[Path, list[tuple[str, str]]]:
        """Every conversation file (folder and trash) as (role, content) pairs; raises
        PromiseBroken for one that does not parse."""
        found: dict[Path, list[tuple[str, str]]] = {}
        for folder in self.folders:
            for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
                stat = path.stat()
                key = (stat.st_mtime_ns, stat.st_size)
                cached = self._parsed.get(path)
                if cached is None or cached[0] != key:
                    try:
                        data = tomllib.loads(path.read_text(encoding="utf-8"))
                    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                        raise PromiseBroken(f"{path.name} does not parse: {error}") from None
                    messages = [(m["role"], m["content"]) for m in data.get("messages", [])]
                    cached = (key, messages)
                    self._parsed[path] = cached
                found[path] = cached[1]
        return found

    def check(self, app: TuiChatApp, run: Run) -> None:
        if not app.is_running or app.return_code is not None:
            raise PromiseBroken(f"the app stopped (return code {app.return_code})")
        files = self.files()
        run.sent = self.check_requests(files)
        self._check_highlight(app, run, files)

    def check_requests(self, files: dict[Path, list[tuple[str, str]]]) -> int:
        """Every request the server received is the start of some file; returns how many."""
        requests = self.server.chat_requests
        for number, request in enumerate(requests):
            sent = [
                (m["role"], m["content"]) for m in request.json["messages"] if m["role"] != "system"
            ]
            if not any(messages[: len(sent)] == sent for messages in files.values()):
                raise PromiseBroken(
                    f"request {number + 1} is in no conversation file: {sent[-1][1][:80]!r}"
                )
        return len(requests)

    @staticmethod
    def _check_highlight(app: TuiChatApp, run: Run, files: dict[Path, Any]) -> None:
        screen = chat(app)
        sidebar = screen.sidebar
        open_id = screen.conversation.id
        if open_id != run.open_id:
            run.open_id, run.browsing = open_id, False
        if sidebar.option_list.has_focus and sidebar.highlighted_id != open_id:
            run.browsing = True  # the user moves in the list: its cursor is theirs
        if (
            app.screen is not screen
            or run.browsing
            or sidebar.option_list.has_focus
            or sidebar.filter_input.value
            or not sidebar.display
            or not any(path.stem == open_id for path in files if path.parent.name != "trash")
        ):
            return
        run.highlights += 1
        if sidebar.highlighted_id != open_id:
            raise PromiseBroken(
                f"the list highlights {sidebar.highlighted_id} while {open_id} is open"
                f" (focus on {app.focused!r}, listed: {sidebar.option_list.option_count})"
            )


def state_of(app: TuiChatApp) -> str:
    """What a user sees of where they are: focus, the list's highlight, the open conversation."""
    screen = chat(app)
    focused = app.focused.id or type(app.focused).__name__ if app.focused else None
    where = type(app.screen).__name__ if app.screen is not screen else ""
    return (
        f"{where} focus {focused}, list at {screen.sidebar.highlighted_id},"
        f" open {screen.conversation.id} ({len(screen.conversation.messages)} messages)"
    )


async def settle(pilot: Pilot[None]) -> None:
    """Let the app finish what the last event started (a reply, a load, a list, a search). A
    worker waiting for a dialog's answer is the user's turn, not the app's."""
    app = pilot.app

    def idle() -> bool:
        busy = [w for w in app.workers if w.is_running and w.group != "dialog"]
        screen = next((s for s in app.screen_stack if isinstance(s, ChatScreen)), None)
        return not busy and (screen is None or not screen.pane.repaint_pending)

    # Not wait_for: its closing pause is one more wait for an idle process per event.
    deadline = asyncio.get_running_loop().time() + 120
    while not idle():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the app never settled: " + ", ".join(map(str, app.workers)))
        await pilot.pause(0.02)


class Gestures:
    """Draws the next gesture from the seeded generator and plays it; returns its events."""

    def __init__(self, rng: random.Random, keys: Sequence[str], searches: bool) -> None:
        self.rng = rng
        self.keys = list(keys)
        self.searches = searches

    async def play(self, pilot: Pilot[None]) -> list[str]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.30:
            text = rng.choice(WORDS) + rng.choice(("", " "))
            await type_text(pilot, text)
            return [f"text {text!r}"]
        if roll < 0.35:
            lines = (" ".join(rng.choices(PASTED, k=rng.randint(1, 6))) for _ in range(3))
            text = "\n".join(lines)
            pilot.app.post_message(events.Paste(text))  # as the terminal driver does
            await pilot.pause()
            return [f"paste {text!r}"]
        if roll < 0.38:
            return await self.palette(pilot)
        if roll < 0.40 and "slash" in self.keys:
            # Tab to the list, `/`, a word, Enter: drawn key by key, a search happened once in
            # thousands of events.
            played = []
            app = pilot.app
            assert isinstance(app, TuiChatApp)
            for _ in range(5):
                if app.screen is not chat(app) or chat(app).sidebar.option_list.has_focus:
                    break
                await pilot.press("tab")
                await settle(pilot)
                played.append("tab")
            word = rng.choice(WORDS)
            await pilot.press("slash")
            await settle(pilot)
            await type_text(pilot, word)
            await settle(pilot)
            return [*played, "slash", f"text {word!r}", *await self._enter(pilot)]
        # Enter on its own weight too: drawn as one key of forty, it sent a message every
        # two hundred events, and sending is what most promises are about.
        key = "enter" if roll < 0.48 and "enter" in self.keys else rng.choice(self.keys)
        if key == "enter":
            return await self._enter(pilot)
        await pilot.press(key)
        return [key]

    async def _enter(self, pilot: Pilot[None]) -> list[str]:
        """Enter; in the filter box it searches, played as Esc when searches are off."""
        if not self._would_search(pilot):
            await pilot.press("enter")
            return ["enter"]
        if not self.searches:
            await pilot.press("escape")
            return ["escape (for an Enter that would search)"]
        await pilot.press("enter")
        return [SEARCH]

    @staticmethod
    def _would_search(pilot: Pilot[None]) -> bool:
        app = pilot.app
        assert isinstance(app, TuiChatApp)
        filter_input = chat(app).sidebar.filter_input
        return app.screen is chat(app) and filter_input.has_focus and bool(filter_input.value)

    async def palette(self, pilot: Pilot[None]) -> list[str]:
        """ctrl+p, a command's name, Enter once it is the highlighted hit (never Quit)."""
        await pilot.press("ctrl+p")
        app = pilot.app
        if not isinstance(app.screen, CommandPalette):
            return ["ctrl+p"]
        title = self.rng.choice(PALETTE_COMMANDS)
        await type_text(pilot, title.lower())

        def highlighted() -> str:
            hits = app.screen.query_one(CommandList)
            if hits.highlighted is None or not hits.option_count:
                return ""
            return str(hits.get_option_at_index(hits.highlighted).prompt)

        await wait_for(pilot, lambda: highlighted().startswith(title), timeout=60, what=title)
        await pilot.press("enter")
        return ["ctrl+p", f"text {title.lower()!r}", "enter"]


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Letters and spaces as a fast typist's keys: one after another, without waiting between
    them (Pilot.press waits for the app to go idle after each, ~0.1 s on a busy machine)."""
    driver = pilot.app._driver
    assert driver is not None
    for char in text:
        key = events.Key("space" if char == " " else char, char)
        key.set_sender(pilot.app)
        driver.send_message(key)
    await pilot.pause()


async def run_random_keys(
    tmp_path: Path,
    server: FakeOpenAIServer,
    *,
    seed: int,
    events_wanted: int,
    keys: Sequence[str] = ALL_KEYS,
    conversations: int = 10,
    searches: bool = True,
    progress: Callable[[int, Run], None] | None = None,
) -> Run:
    """Play `events_wanted` events from `seed`; raise PromiseBroken (with the seed, the last
    events and how to replay) at the first broken promise. With `searches` False, Enter in the
    list's filter box (a search of every message) becomes Esc."""
    rng = random.Random(seed)
    plant_conversations(tmp_path, conversations, rng)
    run = Run(seed, keys)
    app = make_app(tmp_path, server.base_url)
    promises = Promises(tmp_path, server)
    gestures = Gestures(rng, keys, searches)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: chat(app).listing.start_up.background_started, what="start-up"
        )
        await settle(pilot)
        while len(run.events) < events_wanted:
            done = len(run.events)
            try:
                played = await gestures.play(pilot)
                run.events += played
                await settle(pilot)
                run.states += [state_of(app)] * len(played)  # a palette gesture is three keys
                promises.check(app, run)
            except Exception as error:
                last = "\n  ".join(
                    f"{event:<40} then {state}"
                    for event, state in zip(run.events[-30:], run.states[-30:], strict=False)
                )
                report = (
                    f"seed {seed}, after event {len(run.events)}: {error}\n"
                    f"replay: {run.replay(len(run.events))}\nlast events:\n  {last}"
                )
                # Printed too: leaving run_test re-raises the app's own exception, if any.
                print(f"\nRANDOM KEYS FAILED: {report}", flush=True)
                raise PromiseBroken(report) from error
            if progress is not None and len(run.events) // 500 > done // 500:
                progress(len(run.events), run)
    return run

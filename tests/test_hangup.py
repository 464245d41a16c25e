"""A hang-up or SIGTERM at any moment ends the installed `tui-chat` within seconds, with the
user's words saved: under a real pty, with 10,000 conversations (a wide start-up window), while
it starts, once it shows its first screen, and after a ctrl+e round trip through $EDITOR.

A hang-up here is what a dropped SSH link or a killed tmux window does: the terminal closes
under the app (the kernel sends SIGHUP, and every write to the terminal fails from then on).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer, Script
from terminal_session import TerminalSession, config_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from datasets import small_conversations  # noqa: E402  (benchmarks/ is not a package)

# One worker takes the whole module under pytest-xdist's `--dist loadgroup`, so
# the 10,000-conversation history below is built once, not once per worker (~5 s each).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hangup")]

CONVERSATIONS = 10_000
# Seconds after the process starts: importing, building the app, the first frame, the list
# checked in the background, the tokeniser loading (the order depends on the machine's load).
MOMENTS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.3, 1.6, 2.0)
# Seconds after the first screen is drawn: on a loaded machine every moment above may fall
# before it, and the background work that follows the first frame deserves hang-ups too.
AFTER_FIRST_FRAME = (0.0, 0.2, 0.5, 1.0)
GONE_WITHIN = 5.0
# Runs at once: enough to keep the set short, few enough not to starve two busy cores.
PARALLEL_RUNS = 5
KEY_ENV = "TUI_CHAT_HANGUP_KEY"
# A closed port: nothing here needs a server, and nothing may reach a real one.
NO_SERVER = "http://127.0.0.1:9/v1"

Ending = Callable[[TerminalSession], None]
MakeEnv = Callable[[str], dict[str, str]]  # a run's name -> its environment


def hang_up(session: TerminalSession) -> None:
    session.hang_up()


def terminate(session: TerminalSession) -> None:
    session.process.kill(signal.SIGTERM)


ENDINGS = [pytest.param(hang_up, id="hang-up"), pytest.param(terminate, id="SIGTERM")]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder of 10,000 conversations, built once per module. No index cache: every
    start reads the folder, the widest start-up window there is (a first run, a deleted cache)."""
    data = tmp_path_factory.mktemp("history")
    small_conversations(data, CONVERSATIONS)
    return data


@pytest.fixture
def make_env(history: Path, tmp_path: Path) -> Iterator[MakeEnv]:
    """Environments for runs, each on its own copy of the history. The conversation files are
    hard links (instant; the app's atomic writes replace a link, never the shared file)."""

    def make(name: str) -> dict[str, str]:
        run = tmp_path / name
        run.mkdir()
        env = config_env(run, NO_SERVER, KEY_ENV, "sk-hangup-test-not-a-key")
        data = Path(env["TUI_CHAT_DATA_DIR"])
        data.mkdir()
        shutil.copytree(history / "conversations", data / "conversations", copy_function=os.link)
        return env

    yield make


def drafts(env: dict[str, str]) -> list[str]:
    folder = Path(env["TUI_CHAT_DATA_DIR"]) / "drafts"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]


def ends_in_time(session: TerminalSession, ending: Ending) -> float | None:
    """End the session; the seconds it took the process to go, None if it is still there."""
    began = time.monotonic()
    ending(session)
    gone = session.gone_within(GONE_WITHIN)
    return time.monotonic() - began if gone else None


def in_parallel(runs: list[Callable[[], str | None]]) -> list[str]:
    """Run each check, PARALLEL_RUNS at a time; the failures they report."""
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        return [failure for failure in pool.map(lambda run: run(), runs) if failure]


def test_a_hang_up_or_sigterm_while_starting_with_10000_conversations_ends_the_process(
    make_env: MakeEnv,
) -> None:
    # The sleeps below choose the moment of the hang-up (the input of each run); the outcome
    # is waited for as a condition, with a deadline.
    def run_at(ending: Ending, moment: float) -> str | None:
        session = TerminalSession(make_env(f"{ending.__name__}-at-{moment}"))
        try:
            time.sleep(max(0.0, session.started + moment - time.monotonic()))
            if ends_in_time(session, ending) is None:
                return f"{ending.__name__} {moment} s after start: still running"
            return None
        finally:
            session.close()

    def run_after_first_frame(ending: Ending, moment: float) -> str | None:
        session = TerminalSession(make_env(f"{ending.__name__}-frame-{moment}"))
        try:
            session.wait_for_text("Conversations", timeout=60)
            time.sleep(moment)
            if ends_in_time(session, ending) is None:
                return f"{ending.__name__} {moment} s after the first frame: still running"
            return None
        finally:
            session.close()

    runs: list[Callable[[], str | None]] = []
    for ending in (hang_up, terminate):
        runs += [lambda e=ending, m=m: run_at(e, m) for m in MOMENTS]
        runs += [lambda e=ending, m=m: run_after_first_frame(e, m) for m in AFTER_FIRST_FRAME]
    assert in_parallel(runs) == []


@pytest.mark.parametrize("ending", ENDINGS)
def test_the_words_being_typed_when_the_session_ends_are_kept_as_a_draft(
    make_env: MakeEnv, ending: Ending
) -> None:
    env = make_env("typing")
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations", timeout=60)
        session.type("words typed just before the link dropped")
        # On screen, and ended at once: before the pause in typing that stages a draft.
        session.wait_for_text("link dropped")
        assert ends_in_time(session, ending) is not None, "the process outlived its terminal"
    finally:
        session.close()
    assert drafts(env) == ["words typed just before the link dropped"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_reply_streaming_when_the_terminal_closes_is_saved_marked_interrupted(
    tmp_path: Path, openai_server: FakeOpenAIServer, ending: Ending
) -> None:
    """One conversation only: what matters here is the reply, not a long start-up (reading
    10,000 files on a loaded machine slows the stream itself)."""
    words = " ".join(f"word{i}" for i in range(400))
    openai_server.enqueue(Script(text=words, chunk_chars=6, delay_per_chunk=0.05))
    env = config_env(tmp_path, openai_server.base_url, KEY_ENV, "sk-hangup-test-not-a-key")
    session = TerminalSession(env)
    try:
        session.wait_for_text("Conversations", timeout=60)
        session.type("tell me a long story\r")
        session.wait_for_text("word2")  # streaming: the whole reply takes ~20 s
        assert ends_in_time(session, ending) is not None, "the process outlived its terminal"
    finally:
        session.close()
    (saved,) = (Path(env["TUI_CHAT_DATA_DIR"]) / "conversations").glob("*.toml")
    prompt, reply = tomllib.loads(saved.read_text(encoding="utf-8"))["messages"]
    assert prompt["content"] == "tell me a long story"
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"].startswith("word0 word1 word2") and len(reply["content"]) < len(words)


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_hang_up_or_sigterm_after_editing_in_editor_ends_the_process_and_keeps_the_text(
    make_env: MakeEnv, tmp_path: Path, ending: Ending
) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "written in the editor" > "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    env = make_env("editor")
    session = TerminalSession({**env, "EDITOR": str(editor), "VISUAL": ""})
    try:
        session.wait_for_text("Conversations", timeout=60)
        session.type("\x05")  # ctrl+e: suspend, run the editor, resume
        session.wait_for_text("written in the editor")
        assert ends_in_time(session, ending) is not None, "the process outlived its terminal"
    finally:
        session.close()
    assert drafts(env) == ["written in the editor"]


def test_a_sigcont_or_an_editor_round_trip_leaves_one_writer_and_one_input_thread(
    make_env: MakeEnv, tmp_path: Path
) -> None:
    """A hang-up brings a SIGCONT with its SIGHUP (so does `kill -CONT`), and each ctrl+e stops
    the terminal and starts it again: neither may leave a second thread writing to, or reading
    from, the terminal (a leaked writer idled on in the process that never ended)."""
    editor = tmp_path / "fake-editor"
    count = tmp_path / "edits"
    editor.write_text(
        f'#!/bin/sh\nn=$(( $(cat "{count}" 2>/dev/null || echo 0) + 1 ))\n'
        f'echo "$n" > "{count}"\nprintf "edit number $n" > "$1"\n',
        encoding="utf-8",
    )
    editor.chmod(0o755)
    census = tmp_path / "threads.txt"
    env = {**make_env("census"), "EDITOR": str(editor), "VISUAL": ""}
    env["THREAD_CENSUS_FILE"] = str(census)
    script = str(ROOT / "tests" / "thread_census.py")
    session = TerminalSession(env, command=[sys.executable, script])
    try:
        session.wait_for_text("Conversations", timeout=60)
        session.process.kill(signal.SIGCONT)
        for edit in (1, 2):
            session.type("\x05")
            session.wait_for_text(f"edit number {edit}")
        session.process.kill(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not census.exists():
            assert time.monotonic() < deadline, "no thread census was written"
            session.pump()
            time.sleep(0.05)
        threads = census.read_text(encoding="utf-8").split()
        session.type("\x11")
        assert session.wait_exit() == 0
    finally:
        session.close()
    assert threads.count("textual-output") == 1
    assert threads.count("textual-input") == 1

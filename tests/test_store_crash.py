"""Crashes and concurrent writers: a file is always the old or the new version, never torn,
and two tui-chat processes saving the same conversation lose nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)

# A writer that saves two large versions of one conversation in turn, for ever.
WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from tui_chat.domain.conversation import Conversation, Message
    from tui_chat.paths import AppPaths
    from tui_chat.storage.store import ConversationStore

    def version(letter):
        t0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
        conv = Conversation(id="big", title=f"version {letter}", created=t0, updated=t0)
        for i in range(400):
            text = f"{letter} line {i} " * 60
            conv.messages.append(Message("user", text, created=t0 + timedelta(seconds=i)))
        return conv

    data = Path(sys.argv[1])
    store = ConversationStore(AppPaths(config_file=data / "config.toml", data_dir=data))
    versions = [version("A"), version("B")]
    store.load("big")  # what is on disk now is the base: saves below just replace it
    n = 0
    while True:
        n += 1
        assert store.save(versions[n % 2]).kind in {"saved", "unchanged"}
        if n == 1:
            print("ready", flush=True)
    """
)


def _paths(data: Path) -> AppPaths:
    return AppPaths(config_file=data / "config.toml", data_dir=data)


@pytest.mark.slow
def test_killed_writer_leaves_old_or_new_file_never_torn(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(2)
    start = Conversation(id="big", title="version A", created=T0, updated=T0)
    start.messages = [
        Message("user", f"A line {i} " * 60, created=T0 + timedelta(seconds=i)) for i in range(400)
    ]
    ConversationStore(_paths(tmp_path)).save(start)
    kills = 0
    for _ in range(20):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.08))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        kills += 1
        conv = ConversationStore(_paths(tmp_path)).load("big")
        assert conv.title in {"version A", "version B"}
        letter = conv.title[-1]
        assert len(conv.messages) == 400
        assert all(m.content.startswith(f"{letter} line ") for m in conv.messages)
        assert conv.messages[-1].content == f"{letter} line 399 " * 60
    assert kills == 20
    # Killed writers may leave hidden temp files; they are never listed as conversations,
    # and old ones are swept up by the next save.
    store = ConversationStore(_paths(tmp_path))
    assert [e.id for e in store.list_entries()] == ["big"]
    leftovers = list((tmp_path / "conversations").glob(".*.tmp"))
    for leftover in leftovers:
        os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    store.save(store.load("big"))
    assert list((tmp_path / "conversations").glob(".*.tmp")) == []


def test_two_stores_on_one_folder_both_append_and_nothing_is_lost(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    seed = Conversation(id="shared", title="Shared", created=T0, updated=T0)
    seed.messages.append(Message("user", "start", created=T0))
    ConversationStore(paths).save(seed)

    def append_many(name: str, offset: int) -> None:
        store = ConversationStore(paths)
        conv = store.load("shared")
        for i in range(25):
            moment = T0 + timedelta(seconds=offset + 2 * i)
            conv.messages.append(Message("user", f"{name} {i}", created=moment))
            outcome = store.save(conv)
            assert outcome.kind in {"saved", "merged"}, outcome
            conv = outcome.saved

    threads = [
        threading.Thread(target=append_many, args=("left", 1)),
        threading.Thread(target=append_many, args=("right", 2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = ConversationStore(paths).load("shared")
    contents = [m.content for m in final.messages]
    assert contents[0] == "start"
    assert sorted(contents[1:]) == sorted(
        [f"left {i}" for i in range(25)] + [f"right {i}" for i in range(25)]
    )
    # Each side's messages keep their own order.
    for name in ("left", "right"):
        mine = [c for c in contents if c.startswith(name)]
        assert mine == [f"{name} {i}" for i in range(25)]


SIDE = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from tui_chat.domain.conversation import Message
    from tui_chat.paths import AppPaths
    from tui_chat.storage.store import ConversationStore

    data, name, offset = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = ConversationStore(AppPaths(config_file=data / "config.toml", data_dir=data))
    conv = store.load("shared")
    t0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    for i in range(20):
        moment = t0 + timedelta(seconds=offset + 2 * i)
        conv.messages.append(Message("user", f"{name} {i}", created=moment))
        conv = store.save(conv).saved  # merged with the other side's: go on from that
    """
)


@pytest.mark.slow
def test_two_processes_appending_to_one_file_lose_nothing(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    seed = Conversation(id="shared", title="Shared", created=T0, updated=T0)
    ConversationStore(paths).save(seed)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    sides = [
        subprocess.Popen([sys.executable, "-c", SIDE, str(tmp_path), name, str(offset)], env=env)
        for name, offset in (("left", 1), ("right", 2))
    ]
    assert [side.wait(timeout=60) for side in sides] == [0, 0]
    contents = [m.content for m in ConversationStore(paths).load("shared").messages]
    assert sorted(contents) == sorted(
        [f"left {i}" for i in range(20)] + [f"right {i}" for i in range(20)]
    )


FAILING_WRITE = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from tui_chat.domain.conversation import Message
    from tui_chat.paths import AppPaths
    from tui_chat.storage.errors import StorageError
    from tui_chat.storage.store import ConversationStore

    data = Path(sys.argv[1])
    store = ConversationStore(AppPaths(config_file=data / "config.toml", data_dir=data))
    conv = store.load("small")
    conv.messages.append(Message("user", "x" * 200_000))
    # The disk "fills up" after 20 KB: writes beyond it fail with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    try:
        store.save(conv)
    except StorageError as error:
        print(error)
        sys.exit(3)
    """
)


def test_failed_write_keeps_the_old_file_and_says_why(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    small = Conversation(id="small", title="Small", created=T0, updated=T0)
    small.messages.append(Message("user", "short", created=T0))
    ConversationStore(paths).save(small)
    before = (paths.conversations_dir / "small.toml").read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", FAILING_WRITE, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("Could not save ")
    assert "larger than this system allows" in result.stdout
    assert (paths.conversations_dir / "small.toml").read_bytes() == before
    assert list(paths.conversations_dir.glob(".*.tmp")) == []

"""What `tui-chat -c` does before the app starts: find the most recently updated conversation.

Times, in this process, the whole listing the app used to read first (`list_entries()`, then
the newest of it) next to `ConversationStore.most_recent()`, on a folder of generated
conversations, in three states of the index cache: warm (as the last run left it), stale (the
newest tenth of the files rewritten since it was written) and missing (a synced folder on a new
machine, a deleted cache); then warm again with each file dated when it was last updated, as the
app leaves the files it writes (the generated ones are dated later than their `updated`, as a
git checkout leaves them, which makes `most_recent()` read the whole index). Each round starts
a fresh store, as a new process would; the figures are medians over the rounds, and both ways
must name the same conversation.

Usage: python benchmarks/continue_latest.py [--files N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from datasets import small_conversations

from tui_chat.paths import AppPaths
from tui_chat.storage.index import ConversationEntry, recency
from tui_chat.storage.store import ConversationStore


def whole_listing(paths: AppPaths) -> ConversationEntry | None:
    """What `-c` did before: every entry listed (and any changed file parsed), then the newest."""
    entries = ConversationStore(paths).list_entries()
    return max((entry for entry in entries if not entry.error), key=recency, default=None)


def cheap(paths: AppPaths) -> ConversationEntry | None:
    return ConversationStore(paths).most_recent()


def warm(paths: AppPaths) -> None:
    ConversationStore(paths).list_entries()  # writes the index as a run of the app leaves it


def stale(paths: AppPaths) -> None:
    """The index as warm, then the newest tenth of the files touched since (a sync, a git pull),
    an hour apart, so none of them is within the index's two racy seconds."""
    warm(paths)
    files = sorted(paths.conversations_dir.glob("*.toml"), key=lambda p: p.stat().st_mtime)
    later = time.time() - 600
    for path in files[-len(files) // 10 :]:
        os.utime(path, (later, later))


def missing(paths: AppPaths) -> None:
    (paths.cache_dir / "index.jsonl").unlink(missing_ok=True)


def dated_as_written(paths: AppPaths) -> None:
    """Each file's modification time set to its `updated`, then the index as warm."""
    for entry in ConversationStore(paths).list_entries():
        if entry.updated is not None:
            moment = entry.updated.timestamp()
            os.utime(entry.path, (moment, moment))
    warm(paths)


def median_seconds(
    paths: AppPaths,
    prepare: Callable[[AppPaths], None],
    find: Callable[[AppPaths], ConversationEntry | None],
    rounds: int,
) -> tuple[float, str | None]:
    times = []
    found: str | None = None
    for _ in range(rounds):
        prepare(paths)
        start = time.perf_counter()
        entry = find(paths)
        times.append(time.perf_counter() - start)
        found = entry.id if entry else None
    return statistics.median(times), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = AppPaths(config_file=Path(folder) / "config.toml", data_dir=Path(folder) / "data")
        small_conversations(paths.data_dir, args.files)
        print(f"{args.files:,} conversations, medians of {args.rounds} rounds (seconds)")
        print(f"{'index cache':<12} {'whole listing':>14} {'most_recent()':>14} {'ratio':>7}")
        states = (("warm", warm), ("stale", stale), ("missing", missing))
        for name, prepare in (*states, ("as written", dated_as_written)):
            before, expected = median_seconds(paths, prepare, whole_listing, args.rounds)
            after, found = median_seconds(paths, prepare, cheap, args.rounds)
            if found != expected:
                print(f"{name}: most_recent() found {found}, the listing {expected}")
                return 1
            print(f"{name:<12} {before:>14.3f} {after:>14.3f} {before / after:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

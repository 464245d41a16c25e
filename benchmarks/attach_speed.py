"""Attaching files, timed: reading and counting a 1 MB text file, reading and storing a 20 MB
image and building the data URL it is sent as, listing a folder of 10,000 files for `@`, and
the scan `trash empty` makes of 10,000 conversation files for the images they use.

Everything runs in this process on generated files in a temporary folder; figures are medians
of --rounds runs (min and max beside them), so a busy machine shows as spread, not as a failure.
Each round of the text figure counts a file never counted before (one changed byte), so the
token cache cannot answer it; the cached recount is printed separately.

Usage: python benchmarks/attach_speed.py [--rounds N] [--files N] [--conversations N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from datasets import small_conversations  # noqa: E402
from image_files import padded, png  # noqa: E402  (tests/ is not a package)

from tui_chat.attachments.completion import list_completions  # noqa: E402
from tui_chat.attachments.reading import read_attachment  # noqa: E402
from tui_chat.domain.conversation import Message  # noqa: E402
from tui_chat.engine.prompt import build_chat_messages  # noqa: E402
from tui_chat.engine.tokens import TokenCounter  # noqa: E402
from tui_chat.paths import AppPaths  # noqa: E402
from tui_chat.storage.attachments import ImageStore, referenced_hashes  # noqa: E402
from tui_chat.storage.store import ConversationStore  # noqa: E402

MODEL = "gpt-4o"
TEXT_BYTES = 1_000_000
IMAGE_BYTES = 19_900_000
# A log-like line: what people attach most; tiktoken's speed depends on the text's shape.
LOG_LINE = "2026-12-02 07:00:{n:02d} INFO worker-{w} processed job {j} in {ms} ms (queue {q})\n"


def log_text(size: int, variant: int) -> str:
    lines, total, n = [], 0, 0
    while total < size:
        line = LOG_LINE.format(n=n % 60, w=n % 7, j=n * 31 + variant, ms=n % 997, q=n % 13)
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines)[:size]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def row(label: str, seconds: list[float]) -> None:
    median = statistics.median(seconds) * 1000
    print(
        f"{label:<70} median {median:8.1f} ms  (min {min(seconds) * 1000:.1f}, "
        f"max {max(seconds) * 1000:.1f}, n={len(seconds)})",
        flush=True,
    )


def text_figures(folder: Path, rounds: int) -> None:
    counter = TokenCounter()
    counter.load()
    blobs = ImageStore(folder / "attachments")
    read_and_count, read_only, recount = [], [], []
    for round_number in range(rounds):
        name = f"server-{round_number}.log"
        (folder / name).write_text(log_text(TEXT_BYTES, round_number))
        read_only.append(timed(lambda n=name: read_attachment(n, cwd=folder, blobs=blobs)))

        def read_then_count(name: str = name) -> None:
            attachment = read_attachment(name, cwd=folder, blobs=blobs)
            counter.attachment_tokens(attachment, MODEL)

        # A new name frames the text anew: counted cold, as a first attach is.
        (folder / f"again-{name}").write_bytes((folder / name).read_bytes())
        read_and_count.append(timed(lambda n=f"again-{name}": read_then_count(n)))
        attachment = read_attachment(name, cwd=folder, blobs=blobs)
        counter.attachment_tokens(attachment, MODEL)
        recount.append(timed(lambda a=attachment: counter.attachment_tokens(a, MODEL)))
    tokens = counter.attachment_tokens(attachment, MODEL).tokens
    print(f"1 MB log file: {tokens:,} tokens for {MODEL}")
    row("attach 1 MB text: read only", read_only)
    row("attach 1 MB text: read + count (first time)", read_and_count)
    row("attach 1 MB text: count again (cached)", recount)


def image_figures(folder: Path, rounds: int) -> None:
    blobs = ImageStore(folder / "attachments")
    read_store, send_build = [], []
    for round_number in range(rounds):
        name = f"shot-{round_number}.png"
        # A different size per round: a new hash, so each round stores a new file.
        (folder / name).write_bytes(padded(png(64 + round_number, 48), IMAGE_BYTES))
        read_store.append(timed(lambda n=name: read_attachment(n, cwd=folder, blobs=blobs)))
        attachment = read_attachment(name, cwd=folder, blobs=blobs)
        message = Message("user", "what is this?", attachments=[attachment])
        send_build.append(timed(lambda m=message: build_chat_messages("", [m], blobs.read)))
    row("attach 19.9 MB image: read + hash + store", read_store)
    row("send it: read stored copy + check hash + base64 data URL", send_build)


def listing_figures(folder: Path, rounds: int, files: int) -> None:
    big = folder / "many"
    big.mkdir()
    for number in range(files):
        (big / f"file{number:05}.log").touch()
    for number in range(20):
        (big / f"dir{number:02}").mkdir()
    everything, narrowed = [], []
    for _ in range(rounds):
        everything.append(timed(lambda: list_completions("", big)))
        narrowed.append(timed(lambda: list_completions("file012", big)))
    shown = len(list_completions("", big))
    print(f"folder of {files:,} files and 20 folders: {shown} offered at most")
    row(f"@ completion, {files:,} files, empty prefix", everything)
    row(f"@ completion, {files:,} files, prefix 'file012'", narrowed)


def trash_figures(folder: Path, rounds: int, conversations: int) -> None:
    data = folder / "data"
    small_conversations(data, conversations)
    folders = (data / "conversations", data / "trash")
    scans = [timed(lambda: referenced_hashes(folders)) for _ in range(rounds)]
    row(f"trash empty: find used images in {conversations:,} conversation files", scans)
    # The same files in the trash: how `trash empty` counted them before asking (parsing each
    # one, as `trash list` does) and how it counts them now (their names).
    (data / "conversations").rename(data / "trash")
    paths = AppPaths(config_file=folder / "config.toml", data_dir=data)
    store = ConversationStore(paths)
    parsed = [timed(lambda: len(store.list_trash())) for _ in range(rounds)]
    named = [timed(store.count_trash) for _ in range(rounds)]
    row(f"trash empty: count {conversations:,} trashed files, parsing each (before)", parsed)
    row(f"trash empty: count {conversations:,} trashed files by name (now)", named)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attach-bench-") as name:
        folder = Path(name)
        text_figures(folder, args.rounds)
        image_figures(folder, args.rounds)
        listing_figures(folder, args.rounds, args.files)
        trash_figures(folder, args.rounds, args.conversations)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`tui-chat import` of a generated ChatGPT export: time and peak memory, first import and a
second one of the same file (nothing new), at a few export sizes so the memory can be seen to
stay flat as the export grows.

    python benchmarks/import_chatgpt.py                  # 1,000 / 3,000 / 10,000 conversations
    python benchmarks/import_chatgpt.py --sizes 200 --runs 1   # a quick look

Each import runs the installed command in a fresh process (its peak RSS from wait4), into a
fresh temporary data folder; figures are medians over --runs. The export is written as a
stream, one conversation at a time, shaped as tests/import_harness.py builds them (a hidden
system root, then alternating turns of about 1 KB each).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from import_harness import linear  # noqa: E402  (tests/ is not a package)

TURNS = 16  # messages per conversation: ~20 KB each, so 10,000 make ~200 MB
PARAGRAPH = (
    "Here is a paragraph of an ordinary answer, with `code`, **bold**, a list and some CJK 雪\n"
    "and an emoji 🎉 so the text is not pure ASCII; it goes on for a while.\n"
    "- a list item\n- another one\n\n"
) * 4


def write_export(path: Path, conversations: int) -> int:
    """A conversations.json (or a zip holding it) of `conversations`; returns its size."""
    target = path.with_suffix(".json")
    with target.open("w", encoding="utf-8") as out:
        out.write("[")
        for number in range(conversations):
            texts = [f"{number}-{turn}: {PARAGRAPH}" for turn in range(TURNS)]
            out.write(("," if number else "") + json.dumps(linear(f"conv-{number}", None, texts)))
        out.write("]")
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(target, "conversations.json")
        target.unlink()
    return path.stat().st_size


def timed_import(export: Path, data: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, summary line) of one `tui-chat import` process."""
    command = shutil.which("tui-chat", path=str(Path(sys.executable).parent)) or "tui-chat"
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            command,
            "--data-dir",
            str(data),
            "--config",
            str(data / "none.toml"),
            "import",
            str(export),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"import failed: {output} {process.stderr.read().decode()}")  # type: ignore[union-attr]  # PIPE above
    return seconds, usage.ru_maxrss / 1024, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--zip", action="store_true", help="the export as a .zip")
    args = parser.parse_args()
    print(
        f"{'conversations':>13} {'MB':>7} {'first s':>8} {'RSS MB':>7} {'again s':>8} "
        f"{'RSS MB':>7} {'s / 1k':>7}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            export = Path(scratch) / f"export-{size}{'.zip' if args.zip else '.json'}"
            megabytes = write_export(export, size) / 1e6
            first: list[tuple[float, float]] = []
            again: list[tuple[float, float]] = []
            for run in range(args.runs):
                data = Path(scratch) / f"data-{size}-{run}"
                seconds, rss, summary = timed_import(export, data)
                first.append((seconds, rss))
                seconds, rss, summary_again = timed_import(export, data)
                again.append((seconds, rss))
                shutil.rmtree(data)
            f_s = statistics.median(s for s, _ in first)
            f_rss = statistics.median(r for _, r in first)
            a_s = statistics.median(s for s, _ in again)
            a_rss = statistics.median(r for _, r in again)
            print(
                f"{size:>13,} {megabytes:>7.1f} {f_s:>8.2f} {f_rss:>7.0f} {a_s:>8.2f} "
                f"{a_rss:>7.0f} {f_s / size * 1000:>7.2f}"
            )
            print(f"    first: {summary}\n    again: {summary_again}")
            export.unlink()


if __name__ == "__main__":
    main()

"""`tui-chat import` of a generated ChatGPT export: time, CPU and peak memory of a first import
and of a second one of the same file (nothing new), at a few export sizes, so the memory can be
seen to stay flat as the export grows.

    python benchmarks/import_chatgpt.py                        # 1,000 / 3,000 / 10,000
    python benchmarks/import_chatgpt.py --sizes 200 --runs 1   # a quick look

Each import runs the installed command in a fresh process (its peak RSS and CPU from wait4)
into a fresh temporary data folder; figures are medians over --runs. The export is written as a
stream, one conversation at a time, shaped as tests/import_harness.py builds them (a hidden
system root, then 16 turns of about 1.2 KB of multi-line text each: ~20 KB a conversation).
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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Figures:
    """One import process: wall and CPU seconds (the difference is waiting, mostly for the
    disk, which this 2-core machine shares), peak RSS, and the summary it printed."""

    seconds: float
    cpu_seconds: float
    rss_mb: float
    summary: str


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


def timed_import(export: Path, data: Path) -> Figures:
    """The figures of one `tui-chat import` process."""
    command = shutil.which("tui-chat", path=str(Path(sys.executable).parent)) or "tui-chat"
    argv = [command, "--data-dir", str(data), "--config", str(data / "none.toml")]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen([*argv, "import", str(export)], stdout=out, stderr=out)
        # wait4, not wait: it hands back this one child's peak RSS and CPU time.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode().strip()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the import failed: {output}")
    return Figures(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def _medians(runs: list[Figures]) -> str:
    seconds = statistics.median(f.seconds for f in runs)
    cpu = statistics.median(f.cpu_seconds for f in runs)
    rss = statistics.median(f.rss_mb for f in runs)
    return f"{seconds:>8.2f} {cpu:>6.2f} {rss:>7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--zip", action="store_true", help="the export as a .zip")
    args = parser.parse_args()
    print(
        f"{'conversations':>13} {'MB':>6} {'first s':>8} {'CPU s':>6} {'RSS MB':>7} "
        f"{'again s':>8} {'CPU s':>6} {'RSS MB':>7}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            export = Path(scratch) / f"export-{size}{'.zip' if args.zip else '.json'}"
            megabytes = write_export(export, size) / 1e6
            first: list[Figures] = []
            again: list[Figures] = []
            for run in range(args.runs):
                data = Path(scratch) / f"data-{size}-{run}"
                first.append(timed_import(export, data))
                again.append(timed_import(export, data))
                shutil.rmtree(data)
            print(f"{size:>13,} {megabytes:>6.1f} {_medians(first)} {_medians(again)}")
            print(f"    first: {first[-1].summary}\n    again: {again[-1].summary}")
            export.unlink()


if __name__ == "__main__":
    main()

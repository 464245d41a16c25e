"""The benchmark still runs: a tiny `benchmarks/run.py --quick` prints every figure's row.

No thresholds here (timings do not belong in pass/fail tests); this only keeps the benchmark
from rotting as the app changes under it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs the benchmark's app processes.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

EXPECTED_ROWS = (
    "start-up, bare Textual app",
    "start-up, 0 conversations, cache warm",
    "start-up, 200 conversations, cache cold, newest listed",
    "start-up, 200 conversations, cache cold, whole list read",
    "start-up ratio, 0 conversations / bare app",
    "streaming, last 100 / first 100 tokens",
    "terminal bytes per reply byte at 80x24",
    "terminal bytes per reply byte at 80x24, reply paced at 100 tokens/s",
    "keystroke to repaint p95",
    "open a 60-message conversation, show its end",
    "peak RSS with it open",
    "save a 60-message conversation after one more message",
    "token count, composer",
    "first exact count after process start",
    "first exact count on the app's status bar after process start",
    "long session, replies 3-4",
    "long session, CPU time per reply, last / first window",
    "long session, RSS growth over replies 3-4",
)


def run_benchmark(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """benchmarks/SCRIPT ARGS run to its end; fails with its output if it failed."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_quick_benchmark_prints_a_row_for_every_figure(tmp_path: Path) -> None:
    markdown = tmp_path / "bench.md"
    done = run_benchmark("run.py", "--quick", "--markdown", str(markdown))
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| figure | value | target | met? |"
    for row in EXPECTED_ROWS:
        assert any(line.startswith(f"| {row}") for line in table), f"no row {row!r}"
    assert "failed" not in done.stdout
    written = markdown.read_text(encoding="utf-8")
    assert "Python " in written and "Textual " in written and " CPUs (" in written
    assert table[0] in written


def test_attach_benchmark_prints_its_figures() -> None:
    done = run_benchmark(
        "attach_speed.py", "--rounds", "1", "--files", "300", "--conversations", "50"
    )
    for row in (
        "attach 1 MB text: read + count (first time)",
        "attach 19.9 MB image: read + hash + store",
        "send it: read stored copy + check hash + base64 data URL",
        "@ completion, 300 files, empty prefix",
        "trash empty: find used images in 50 conversation files",
        "trash empty: count 50 trashed files by name (now)",
    ):
        assert any(line.startswith(row) for line in done.stdout.splitlines()), row
    assert "folder of 300 files and 20 folders: 200 offered at most" in done.stdout


def test_long_reply_benchmark_prints_its_figures() -> None:
    done = run_benchmark("long_reply.py", "--rounds", "1", "--deltas", "2000", "--ask", "200")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ReplyRecorder.apply, CPU seconds")
    assert any(line.split()[:1] == ["2,000"] and line.count("s") >= 2 for line in lines)
    assert any(line.startswith("tui-chat ask") for line in lines)
    assert any(line.split()[:1] == ["200"] for line in lines)


def test_attach_typing_benchmark_prints_its_figures() -> None:
    done = run_benchmark("attach_typing.py", "--runs", "1", "--files", "50", "--keys", "3")
    for row in (
        "keystroke to repaint, nothing else going on",
        "attach a 1 MB text file: Tab to counted on screen",
        "keystroke to repaint while a 1 MB file is read and counted",
        "@ list of a folder of 50 files: key to list shown",
    ):
        assert f'"figure": "{row}"' in done.stdout, row

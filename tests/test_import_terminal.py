"""`tui-chat import` on a real terminal: the progress bar of a long import, and the import
benchmark still running (no thresholds: figures belong to the benchmark's output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from import_harness import linear, write_export
from terminal_session import installed_command

# Real processes and a few thousand files.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_a_long_import_shows_a_progress_bar_then_the_summary(tmp_path: Path) -> None:
    long_text = "A paragraph that goes on.\n" * 200
    export = write_export(
        tmp_path / "export.zip",
        [linear(f"c-{n}", f"Title {n}", [long_text] * 8) for n in range(1500)],
    )
    child = pexpect.spawn(
        installed_command(),
        ["--data-dir", str(tmp_path / "data"), "import", str(export)],
        dimensions=(24, 80),
        timeout=180,
        encoding="utf-8",
    )

    child.expect(r"Importing ▕[█░]+▏ +\d+%  [\d,]+ conversations")
    child.expect("1,500 conversations read; 1,500 imported")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0


def test_the_import_benchmark_prints_its_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "import_chatgpt.py"),
            "--sizes",
            "20",
            "--runs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    header, row, first, again = done.stdout.splitlines()
    assert header.split() == [
        "conversations",
        "MB",
        "first",
        "s",
        "CPU",
        "s",
        "RSS",
        "MB",
        "again",
        "s",
        "CPU",
        "s",
        "RSS",
        "MB",
    ]
    assert row.split()[0] == "20"
    assert "20 imported" in first and "20 already present" in again

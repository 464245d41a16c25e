"""Runs the real `tui-chat` (its command line, its app) and, on SIGUSR1, writes the names of the
process's live threads to the file named by $THREAD_CENSUS_FILE, one a line.

The pty tests use it to see the threads a user cannot: Python 3.11 gives the operating system
no thread names, so /proc cannot tell a terminal writer thread from a worker.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def _write_census(_signum: int, _frame: FrameType | None) -> None:
    target = Path(os.environ["THREAD_CENSUS_FILE"])
    names = "\n".join(thread.name for thread in threading.enumerate() if thread.is_alive())
    partial = target.with_suffix(".partial")
    partial.write_text(names + "\n", encoding="utf-8")
    partial.replace(target)  # the test never reads half a census


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _write_census)
    from tui_chat.cli import main

    sys.exit(main())

"""The last resort: when the event loop never gets to handle SIGHUP or SIGTERM (stuck in a
call that does not return), the process still ends within two seconds, with its save done."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from app_harness import make_app
from openai_server import FakeOpenAIServer

from tui_chat.ui.exit_guard import SIGNALS

# A process whose event loop blocks for good right after installing the guard, as the app's did
# on a terminal write that never returned.
STUCK_APP = """
import asyncio, sys, time
from pathlib import Path
from tui_chat.ui.exit_guard import ExitGuard

saved = Path(sys.argv[1])
guard = ExitGuard(
    save=lambda: saved.write_text("the draft", encoding="utf-8"),
    request_exit=lambda: None,
    terminal_gone=lambda: None,
)

async def main() -> None:
    guard.install(asyncio.get_running_loop())
    print("ready", flush=True)
    while True:
        time.sleep(1)  # blocks the loop: the guard's callback on it never runs

asyncio.run(main())
"""


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_stuck_app_still_saves_and_ends_soon_after_a_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    saved = tmp_path / "saved.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", STUCK_APP, str(saved)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signum)
        sent = time.monotonic()
        status = process.wait(timeout=10)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert status == 128 + signum  # ended by the watchdog, as a process ended by the signal
    assert took < 5.0  # ~1.5 s by design; generous for a loaded machine
    assert saved.read_text(encoding="utf-8") == "the draft"


async def test_an_app_that_closes_without_a_signal_leaves_no_handler_or_watchdog_behind(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Tests run many apps in one process: each must give the signals back as it found them."""
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test() as pilot:
        assert signal.getsignal(signal.SIGHUP) != before[signal.SIGHUP]  # the app's, meanwhile
        await pilot.press("ctrl+q")
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == before
    watchdogs = [t for t in threading.enumerate() if t.name == "tui-chat-exit-watchdog"]
    for watchdog in watchdogs:
        watchdog.join(timeout=10)
    assert not any(t.is_alive() for t in watchdogs)

"""SIGHUP and SIGTERM end tui-chat within two seconds, whatever it is doing, with the user's
words saved.

A dropped SSH link sends SIGHUP at any moment: while the app starts, while a reply streams,
right after $EDITOR. The normal way out (save on the event loop, then Textual's shutdown) is
tried first; a watchdog thread makes sure the process ends even if that way is blocked (a
terminal write that never returns, a worker thread the interpreter waits for at exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

# The app's own shutdown gets this long after the signal before the watchdog ends the process.
GRACE_SECONDS = 1.5
# A save still under way at the deadline gets this much longer: cutting it would lose the words.
SAVE_WAIT_SECONDS = 0.4
SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class ExitGuard:
    """Handles SIGHUP and SIGTERM for the app: saves once, asks the app to exit, and ends the
    process itself if the app has not done so in `GRACE_SECONDS`.

    `save` keeps whatever there is to keep (a draft, a partial reply); it runs on the event
    loop, or, if the loop never gets to it, on a thread at the deadline. `request_exit` runs on
    the event loop. `terminal_gone` runs in the signal handler on SIGHUP and must only set flags.
    """

    def __init__(
        self,
        save: Callable[[], None],
        request_exit: Callable[[], None],
        terminal_gone: Callable[[], None],
    ) -> None:
        self._save = save
        self._request_exit = request_exit
        self._terminal_gone = terminal_gone
        self._loop: asyncio.AbstractEventLoop | None = None
        self.signum: int | None = None
        self._signalled = threading.Event()
        self._saved = threading.Event()
        self._save_lock = threading.Lock()
        self._save_claimed = False
        self._released = False
        self._previous: dict[int, object] = {}
        # Started before any signal: starting a thread inside a signal handler could deadlock
        # on a lock the interrupted main thread holds (it may have been starting a thread).
        self._watchdog = threading.Thread(
            target=self._watch, name="tui-chat-exit-watchdog", daemon=True
        )

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Handle SIGHUP and SIGTERM from now on (call from the main thread, on the loop)."""
        self._loop = loop
        if not self._watchdog.is_alive():
            self._watchdog.start()
        for signum in SIGNALS:
            # signal.signal rather than loop.add_signal_handler: a Python-level handler runs in
            # the main thread even when the event loop is stuck in a call that never returns.
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        """The app closed with no signal: put the previous handlers back and let the watchdog
        go (a test process runs many apps; a signal from now on has its default effect)."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()
        self._released = True
        self._signalled.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """Runs in the main thread between two bytecodes of whatever it was doing: it sets
        flags and wakes the others, and takes no lock the interrupted code may hold."""
        if self.signum is not None:
            return  # a second signal: the watchdog is already counting down
        self.signum = signum
        if signum == signal.SIGHUP:
            self._terminal_gone()
        self._signalled.set()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._exit_on_loop)

    def _exit_on_loop(self) -> None:
        try:
            self.save_once()
        finally:
            self._request_exit()

    def save_once(self) -> None:
        """Run `save` unless it has run or is running: the loop and the watchdog race for it,
        and two saves of one conversation at once could fork it."""
        with self._save_lock:
            if self._save_claimed:
                return
            self._save_claimed = True
        try:
            self._save()
        finally:
            self._saved.set()

    def app_closed(self) -> None:
        """The app has closed. After a signal (terminal restored, words saved): end the process
        now, rather than wait for worker threads that are still reading files or loading the
        tokeniser (seconds at 10,000 conversations), whose results nobody will see. Without
        one: stand down."""
        if self.signum is None:
            self.uninstall()
        elif self._saved.is_set():
            self._exit()

    def _exit(self) -> None:
        # The conventional status of a process ended by a signal; skips the interpreter's
        # wait for worker threads, whose writes are atomic (a file is whole, old or new).
        os._exit(128 + (self.signum or signal.SIGTERM))

    def _watch(self) -> None:
        self._signalled.wait()
        if self._released and self.signum is None:
            return
        # Normally the process is gone before this wait ends (the thread is a daemon).
        time.sleep(GRACE_SECONDS)
        saver = threading.Thread(target=self.save_once, name="tui-chat-last-save", daemon=True)
        saver.start()
        self._saved.wait(SAVE_WAIT_SECONDS)
        self._exit()

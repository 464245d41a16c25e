"""A terminal driver whose output can never hold the app up for good, and whose writer thread
ends with the terminal mode it served.

Why this exists (checked against Textual 8.2.8, `textual/drivers/linux_driver.py` and
`textual/drivers/_writer_thread.py`): `LinuxDriver` hands every write to a `WriterThread`
through a queue of at most 30 items, and `WriterThread.write` / `.stop` block in `Queue.put`
without a timeout. When the terminal hangs up (a dropped SSH link, a closed tmux window) the
thread's next write fails with EIO and the thread ends; the next 30 writes fill the queue and
the one after blocks the event loop forever, in the middle of `App._shutdown` as often as not,
where no signal handler can run any more (the process was found on a futex 26 minutes after its
terminal was gone). Besides, `LinuxDriver` answers every SIGCONT by starting application mode
again, suspended or not; a hang-up brings a SIGCONT with its SIGHUP (so does `kill -CONT`), and
the driver then ran a second writer thread and a second input thread on the same terminal, the
first writer left idle forever.

This subclass overrides the public driver methods (`start_application_mode`, `write`,
`stop_application_mode`, `close`)
and reaches into three private names: `LinuxDriver._writer_thread` and `WriterThread._queue`,
to put with a timeout, and `App._driver`, to reach the running driver from a signal handler.
It is the only place in tui-chat that does so: check them when Textual is upgraded.
"""

from __future__ import annotations

import queue

from textual.app import App
from textual.drivers._writer_thread import WriterThread
from textual.drivers.linux_driver import LinuxDriver

# How often a write waiting for room in the queue looks whether the writer thread is still there.
_PUT_POLL_SECONDS = 0.1
# How long closing waits for the writer thread to put the last bytes on the terminal: a healthy
# terminal takes milliseconds; one that stopped reading must not keep the app from exiting.
_WRITER_JOIN_SECONDS = 1.0


class HangupSafeDriver(LinuxDriver):
    """`LinuxDriver` that drops output once the terminal is gone (or its writer thread died),
    never blocks forever on a write, stops its writer thread when application mode ends, and
    runs one writer and one input thread at most."""

    _terminal_gone = False

    def terminal_gone(self) -> None:
        """The terminal hung up: from now on output is dropped (nobody can see it, and a write
        would only fail). Safe to call from a signal handler: it only sets a flag."""
        self._terminal_gone = True

    def start_application_mode(self) -> None:
        """Take over the terminal, unless already done (a SIGCONT that followed no suspend) or
        the terminal is gone."""
        if self._writer_thread is not None or self._terminal_gone:
            return
        super().start_application_mode()

    def write(self, data: str) -> None:
        """Queue `data` for the terminal; dropped when the terminal or its writer is gone, or
        when application mode has ended (Textual's shutdown repeats a few mode resets then)."""
        writer = self._writer_thread
        if writer is None or self._terminal_gone:
            return
        self._put(writer, data)

    def stop_application_mode(self) -> None:
        """Restore the terminal, then end the writer thread once it has written the restore
        sequences; `start_application_mode` starts a fresh one (after $EDITOR, ctrl+z). No
        writer thread marks the driver as out of application mode."""
        super().stop_application_mode()
        self._stop_writer()

    def close(self) -> None:
        """End the writer thread if application mode did not (bounded, unlike Textual's)."""
        self._stop_writer()

    def _stop_writer(self) -> None:
        writer, self._writer_thread = self._writer_thread, None
        if writer is None or not writer.is_alive():
            return
        if self._terminal_gone:
            # Whatever is still queued is for a terminal that no longer exists: make room for
            # the stop marker rather than wait for writes that will fail.
            pending: queue.Queue[str | None] = writer._queue
            while True:
                try:
                    pending.get_nowait()
                except queue.Empty:
                    break
        self._put(writer, None)
        writer.join(_WRITER_JOIN_SECONDS)

    def _put(self, writer: WriterThread, item: str | None) -> None:
        """`WriterThread.write` with a way out: a full queue is waited on (a slow terminal
        is read at its pace) only while the thread that empties it is alive and the terminal
        is there."""
        pending: queue.Queue[str | None] = writer._queue
        while writer.is_alive() and not (self._terminal_gone and item is not None):
            try:
                pending.put(item, timeout=_PUT_POLL_SECONDS)
            except queue.Full:
                continue
            return


def drop_output(app: App[None]) -> None:
    """The terminal hung up: the app's driver drops its output from now on. Only sets a flag,
    so it is safe in a signal handler."""
    driver = app._driver
    if isinstance(driver, HangupSafeDriver):
        driver.terminal_gone()

"""Blocking work (disk, tiktoken, sockets) off the event loop, its results handed back to it.

The chat screen's helpers are plain objects, not widgets, so they cannot own Textual workers:
`ThreadWork` runs their jobs as thread workers of the node that owns them (the screen) and
hands results back with `App.call_from_thread`. Jobs call `to_ui` only from their thread, so
nothing needs to ask which thread it is on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol

from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.worker import get_current_worker


class Notify(Protocol):
    """A toast, as `DOMNode.notify` raises one (on the event loop only)."""

    def __call__(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None: ...


class ThreadWork:
    """Thread workers owned by one node, and the way back from them to the event loop."""

    def __init__(self, owner: Widget) -> None:
        self._owner = owner

    def start(self, job: Callable[[], object], *, group: str, exclusive: bool = False) -> None:
        """Run `job` in a thread worker of the owner. `exclusive` cancels the group's earlier
        workers, which a thread cannot notice by itself: a job asks `cancelled()` before it
        hands back a result that a newer one has replaced."""
        self._owner.run_worker(job, group=group, exclusive=exclusive, thread=True)

    @staticmethod
    def cancelled() -> bool:
        """From a job's thread: a newer job of its exclusive group has replaced it."""
        return get_current_worker().is_cancelled

    def to_ui(self, callback: Callable[..., object], *args: object) -> None:
        """From a job's thread: run `callback(*args)` on the event loop and wait for it.

        A job can finish after the user quit: then the owner's widgets are gone and there is
        nothing left to update, so the callback is skipped rather than crashing the exit.
        """
        owner = self._owner

        def if_still_shown() -> None:
            if owner.is_mounted and owner.app.is_running:
                callback(*args)

        with contextlib.suppress(RuntimeError):  # the event loop has already closed
            owner.app.call_from_thread(if_still_shown)

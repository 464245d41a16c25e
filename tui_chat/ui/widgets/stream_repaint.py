"""How the message pane repaints a streaming reply: throttled, and with room below the reply so
the view does not move on every line.

Two small objects the pane owns, with no widget in them: `RepaintThrottle` collects the messages
that changed and says when the next repaint may run; `FollowRoom` says how tall the scrollable
column is while a reply grows. (Which cells of a row changed is `row_diff.py`'s job.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Seconds between repaints of a streaming reply: 12 a second reads as smooth, and each frame
# resends the changed lines, so fewer frames mean fewer bytes over SSH than at 20 a second.
FLUSH_INTERVAL = 1 / 12
MAX_FLUSH_INTERVAL = 0.5  # however slow a repaint is, the stream shows at least twice a second
MAX_FLUSH_SHARE = 4  # a repaint may take at most a quarter of the time between repaints
# While a reply streams, the view follows it a third of a pane at a time (see `FollowRoom`).
FOLLOW_STEPS_PER_PANE = 3


class RepaintThrottle:
    """The messages changed since the last repaint, and how long until the next may run.

    Repaints run at most every `interval` seconds (~12 a second); a repaint that takes long
    stretches the interval, so a pathological tail (a huge table) cannot eat the CPU the stream
    needs.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed: set[int] = set()
        self._last_repaint = 0.0
        self.interval = FLUSH_INTERVAL
        """Seconds from one repaint to the next."""

    @property
    def pending(self) -> bool:
        """True while a change waits for the next repaint."""
        return bool(self._changed)

    def mark(self, index: int) -> None:
        """Message `index` changed."""
        self._changed.add(index)

    def forget(self) -> None:
        """Drop the changes not repainted yet (the pane shows another conversation)."""
        self._changed.clear()

    def delay(self) -> float:
        """Seconds until the next repaint may run (never zero, so a timer can be set)."""
        return max(0.001, self._last_repaint + self.interval - self._clock())

    @contextmanager
    def repaint(self) -> Iterator[list[int]]:
        """Gives the changed indexes in order and forgets them; the time spent in the block sets
        the interval to the next repaint (at most 1/MAX_FLUSH_SHARE of it is spent repainting)."""
        started = self._clock()
        self._last_repaint = started
        changed = sorted(self._changed)
        self._changed.clear()
        try:
            yield changed
        finally:
            if changed:
                spent = self._clock() - started
                self.interval = min(
                    MAX_FLUSH_INTERVAL, max(FLUSH_INTERVAL, spent * MAX_FLUSH_SHARE)
                )


class FollowRoom:
    """How many lines the pane scrolls through: the conversation's, and while a reply streams,
    some empty room below it.

    Scrolling or a new virtual size redraws the whole pane. Following a reply a line at a time
    did that for every line; with room for a third of a pane below the reply, the view (and the
    scroll bar) move only when the room is used up, and the newest line is always on screen. The
    room goes once the reply ends, so a finished conversation looks the same whether it was
    streamed or opened.
    """

    def __init__(self) -> None:
        self.streaming = False
        """A reply is growing: leave room below it."""
        self._padded_height = 0

    def height(self, total: int, view: int) -> int:
        """The virtual height for `total` lines of conversation in a `view` lines tall."""
        if not self.streaming:
            self._padded_height = 0
            return total
        if total <= view:
            self._padded_height = view  # nothing to scroll yet, and no room needed
            return view
        step = max(1, view // FOLLOW_STEPS_PER_PANE)
        # Keep the height while the reply fits in it and has not shrunk far above its end.
        if not total <= self._padded_height <= total + 2 * step:
            self._padded_height = total + step
        return self._padded_height

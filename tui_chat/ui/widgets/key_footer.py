"""The footer of key hints, complete from the first frame.

Textual 8.2.8's `Footer` composes nothing until the screen first publishes its bindings, which
happens after the first refresh (and only while the terminal reports focus): for a moment after
start, and longer in terminals that send no focus events, the footer was a blank line. This is
the one place that sets Footer's private `_bindings_ready` (checked against Textual 8.2.8): the
first compose then shows the screen's keys, and later changes recompose as before.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's Footer, with its keys in the first frame."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(Footer._bindings_ready, True)

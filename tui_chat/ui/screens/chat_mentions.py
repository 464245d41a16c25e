"""`@` completion in the composer: the files and folders an `@path` being typed could name.

`PathCompletion` is a helper the chat screen owns. Each time the composer's text or cursor
changes it looks at the `@path` ending at the cursor (a look at the current line only); the
folder it points into is listed in a thread worker (a folder of 10,000 files must not hold up
the next keystroke), and a listing that a newer one has replaced, or whose prefix is no longer
the one typed, is dropped. The composer puts the entry taken in its text itself (so keys read
in one burst with Tab/Enter see the text as it will show); a folder taken is listed next, a
file is attached.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.timer import Timer
from textual.widgets.text_area import Location

from tui_chat.attachments.completion import list_completions
from tui_chat.ui.background import ThreadWork
from tui_chat.ui.widgets.composer import CompletionCommand, Composer
from tui_chat.ui.widgets.path_menu import PathMenu

# A folder is listed once typing pauses this long: a thread cannot be stopped, and listing a
# folder of 10,000 files on every key of a fast typist piled up scans that slowed the keys.
LIST_DELAY = 0.06
SetTimer = Callable[[float, Callable[[], object]], Timer]


class PathCompletion:
    """Opens, fills and closes the `@` list as the user types, and acts on its keys."""

    def __init__(
        self,
        composer: Composer,
        menu: PathMenu,
        threads: ThreadWork,
        attach: Callable[[str], None],
        cwd: Path,
        set_timer: SetTimer,
    ) -> None:
        """`attach(path)`: attach the file chosen; `cwd`: where relative paths start;
        `set_timer`: the screen's, to wait for a pause in typing."""
        self._composer = composer
        self._menu = menu
        self._threads = threads
        self._attach = attach
        self._cwd = cwd
        self._listed: str | None = None  # the prefix listed (or being listed) now
        self._closed_at: Location | None = None  # Esc closed the list of the @ at this place
        self._set_timer = set_timer
        self._timer: Timer | None = None

    @property
    def waiting(self) -> bool:
        """Whether a listing waits for a pause in typing (tests and benchmarks ask)."""
        return self._timer is not None

    def cursor_moved(self) -> None:
        """The composer's text or cursor changed: follow the `@path` at the cursor, if any."""
        mention = self._composer.mention_at_cursor()
        if mention is None or mention.start == self._closed_at:
            self._close()
            if mention is None:
                self._closed_at = None
            return
        if mention.prefix == self._listed:
            return
        self._listed = mention.prefix
        if self._menu.is_open:
            self._narrow(mention.prefix)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._set_timer(LIST_DELAY, lambda: self._list(mention.prefix))

    def _narrow(self, prefix: str) -> None:
        """Until the folder is listed again, the list keeps the entries still matching what is
        typed: it never offers (and Enter never takes) an entry the text has moved past."""
        kept = [entry for entry in self._menu.entries if entry.startswith(prefix)]
        if kept and kept != [prefix]:
            self._menu.open_with(kept, prefix, self._composer.cursor_screen_offset)
            self._offer()
        else:
            self._hide()

    def _list(self, prefix: str) -> None:
        self._timer = None
        cwd = self._cwd

        def job() -> None:
            found = list_completions(prefix, cwd)
            if not self._threads.cancelled():
                self._threads.to_ui(self._listed_now, prefix, [c.text for c in found])

        self._threads.start(job, group="completion", exclusive=True)

    def _listed_now(self, prefix: str, entries: list[str]) -> None:
        mention = self._composer.mention_at_cursor()
        if mention is None or mention.prefix != prefix or mention.start == self._closed_at:
            return  # typed on meanwhile: a newer listing is on its way
        if entries == [prefix]:
            # A file's whole name is typed: nothing to choose, and Enter must send (the
            # `@path` is attached then).
            self._hide()
            return
        self._menu.open_with(entries, prefix, self._composer.cursor_screen_offset)
        self._offer()

    def command(self, command: CompletionCommand, chosen: str | None) -> None:
        """A completion key pressed in the composer while the list was open; for "accept",
        the composer has already put `chosen` in its text."""
        if command == "next":
            self._menu.move(1)
            self._offer()
        elif command == "previous":
            self._menu.move(-1)
            self._offer()
        elif command == "close":
            mention = self._composer.mention_at_cursor()
            self._closed_at = mention.start if mention is not None else None
            self._close()
        elif chosen is not None and not chosen.endswith("/"):
            self._close()  # a folder lists what is in it next, as its path is now typed
            self._attach(chosen)

    def _offer(self) -> None:
        """Tell the composer what its completion keys would take now."""
        self._composer.completion_choice = self._menu.chosen or ""

    def _close(self) -> None:
        self._listed = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._hide()

    def _hide(self) -> None:
        if self._menu.is_open:
            self._menu.close()
        self._composer.completion_choice = None

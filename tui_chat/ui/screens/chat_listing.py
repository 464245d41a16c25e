"""The conversation list of the chat screen: drawn at start-up, checked, kept current.

`ConversationListing` is a helper the chat screen owns. At start-up the list is drawn from the
index cache in the first frame and the conversation open at the last exit opened (the newest
when that one is gone); the folder is checked, and the rest of the background work started,
once that is on screen; afterwards a poll picks up files that other programs add, change or
remove. It alone keeps where start-up is (`StartUp`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tui_chat.domain import Conversation
from tui_chat.storage.errors import StorageError
from tui_chat.storage.index import ConversationEntry
from tui_chat.storage.last_open import LastOpen
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.background import Notify, ThreadWork
from tui_chat.ui.widgets.sidebar import MAX_LISTED, Sidebar

CachedHead = tuple[list[ConversationEntry], int] | None


def _newest_readable(entries: list[ConversationEntry]) -> str | None:
    """The id of the first conversation in the list whose file could be read."""
    return next((entry.id for entry in entries if not entry.error), None)


def newest_update(head: CachedHead) -> datetime | None:
    """When the newest conversation of a cached head was last updated."""
    if head is None:
        return None
    return max((entry.updated for entry in head[0] if entry.updated), default=None)


@dataclass
class StartUp:
    """Where start-up is: the list drawn from the index cache waits for its check, and the
    conversation opened from it may give way to the checked list's choice, unless the user has
    already chosen something else (opened, created or sent)."""

    background_started: bool = False
    # The list came from the cache, or from the head of a first reading; no checked list shown yet.
    awaiting_check: bool = False
    reading_folder: bool = False  # that first reading goes on: its whole list is the check
    opened_from_cache: str | None = None
    user_chose: bool = False
    last_open: str | None = None  # the conversation open at the last exit


class ConversationListing:
    """Lists the conversations in `sidebar` and opens the last one used at start-up.

    `open_at_start(id, quiet)` opens a conversation at start-up; `reopen` shows the open
    conversation again after another program changed its file; `background_work` is the rest
    of what starts once the first screen is drawn.
    """

    def __init__(
        self,
        store: ConversationStore,
        last_open: LastOpen,
        sidebar: Sidebar,
        threads: ThreadWork,
        notify: Notify,
        *,
        open_id: Callable[[], str],
        open_at_start: Callable[[str, bool], None],
        reopen: Callable[[], None],
        background_work: Callable[[], None],
    ) -> None:
        self._store = store
        self._last_open = last_open
        self._sidebar = sidebar
        self._threads = threads
        self._notify = notify
        self._open_id = open_id
        self._open_at_start = open_at_start
        self._reopen = reopen
        self._background_work = background_work
        self.start_up = StartUp()

    def user_chose(self) -> None:
        """The user opened, created, typed or sent: start-up's own choice gives way."""
        self.start_up.user_chose = True

    # ------------------------------------------------------------ start-up
    def read_cache(self, open_first: str | None = None) -> CachedHead:
        """The head of the list as the index last recorded it, and the note of the
        conversation open at the last exit (`open_first` instead: the shell asked for it).

        Reading at most MAX_LISTED lines of the cache takes ~5 ms: it is done on the event
        loop, not in a thread, so the list is in the first frame; so is the one-line note.
        """
        self.start_up.last_open = open_first or self._last_open.read()
        return self._store.cached_head(MAX_LISTED)

    def show_first_list(self, head: CachedHead) -> None:
        """Draw the cached list in the first frame and open the conversation open at the last
        exit (or the newest); every file is checked once that is on screen (0.3 s at 10,000
        files, which would otherwise hold up the first frame), and the checked list replaces
        this one, visibly only if files changed while tui-chat was closed."""
        if head is None:  # the first run, or the cache was deleted: read the folder now
            self.reload(open_newest=True)
            return
        self._show_head(*head)

    def _show_head(self, entries: list[ConversationEntry], count: int) -> None:
        """Show the head of the list before every file is checked, and open from it; the
        checked list replaces it."""
        self._sidebar.show_entries(entries, current_id=self._open_id(), count=count)
        self.start_up.awaiting_check = True
        self.start_up.opened_from_cache = self._to_open_at_start(entries)
        self._after_listing(self.start_up.opened_from_cache, quiet=True)

    def _to_open_at_start(self, entries: list[ConversationEntry]) -> str | None:
        """The conversation open at the last exit while its file is there (one stat: it may
        be further down than the cached head), else the newest readable one."""
        last = self.start_up.last_open
        if last is not None and self._store.path_for(last).exists():
            return last
        return _newest_readable(entries)

    def start_background_work(self) -> None:
        """Once the first screen is drawn (or the start-up open failed): check the list drawn
        from the cache, and start the rest of the background work (preparing the engine is
        ~0.8 s of GIL-bound work that would slow the first frames)."""
        if self.start_up.background_started:
            return
        self.start_up.background_started = True
        if self.start_up.awaiting_check and not self.start_up.reading_folder:
            self.reload()
        self._background_work()

    def remember_open(self, conversation: Conversation) -> None:
        """At exit: note the open conversation, for the next start to open it again (one that
        has no file, a new one, makes the next start fall back to the newest)."""
        if not conversation.messages and not self.start_up.user_chose:
            return  # still the blank of start-up, before the open there landed: keep the note
        with contextlib.suppress(StorageError):  # exiting: nobody is left to tell
            self._last_open.write(conversation.id)

    # ------------------------------------------------------------ reading
    def reload(self, open_newest: bool = False, select: str | None = None) -> None:
        """Read the conversation list off the event loop; a long first reading (thousands of
        files, no index yet) shows its progress in the sidebar. `select`: the conversation to
        highlight once listed (the neighbour of a deleted one, a restored one). `open_newest`:
        nothing is listed yet (start-up without a cache), so a long reading shows its newest
        conversations, and opens one, while it reads the rest."""
        self._threads.start(lambda: self._read(open_newest, select), group="list", exclusive=True)

    def _read(self, open_newest: bool, select: str | None) -> None:
        def progress(parsed: int, to_parse: int) -> None:
            self._threads.to_ui(self._sidebar.show_progress, parsed, to_parse)

        def head(entries: list[ConversationEntry], count: int) -> None:
            if not self._threads.cancelled():  # a newer reading has shown its list already
                self._threads.to_ui(self._show_reading_head, entries, count)

        try:
            entries = self._store.list_entries(progress, head if open_newest else None)
        except StorageError as error:
            self._threads.to_ui(self._say_unreadable, error)
            return
        # Exclusive workers cannot stop a thread: a newer reload (each send asks for two) may
        # have shown a newer list already, which this older one must not replace.
        if self._threads.cancelled():
            return
        self._threads.to_ui(self._show_entries, entries, open_newest, select)

    def _show_reading_head(self, entries: list[ConversationEntry], count: int) -> None:
        self.start_up.reading_folder = True
        self._show_head(entries, count)

    def _say_unreadable(self, error: StorageError) -> None:
        self._notify(str(error), severity="error", timeout=10)

    def _show_entries(
        self, entries: list[ConversationEntry], open_newest: bool, select: str | None
    ) -> None:
        self._sidebar.show_entries(entries, current_id=self._open_id())
        if select is not None:
            self._sidebar.select_conversation(select)
        start_up = self.start_up
        needed = open_newest or start_up.awaiting_check
        to_open = self._to_open_at_start(entries) if needed else None
        if start_up.awaiting_check:
            # The first checked list: files may have come, gone or changed while tui-chat was
            # closed, or the head of a first reading missed the newest, so the one to open may
            # not be the one opened from the head.
            start_up.awaiting_check = start_up.reading_folder = False
            open_newest = not start_up.user_chose and to_open != start_up.opened_from_cache
        self._after_listing(to_open if open_newest else None)

    def _after_listing(self, open_id: str | None, quiet: bool = False) -> None:
        if open_id is not None:
            # Background work starts once this open is done, whatever its outcome.
            self._open_at_start(open_id, quiet)
        else:
            self._sidebar.call_after_refresh(self.start_background_work)

    # ------------------------------------------------------------ polling
    def poll(self) -> None:
        """Pick up files added, edited or removed by someone else (another tui-chat, git pull)."""
        open_id = self._open_id()
        self._threads.start(lambda: self._poll(open_id), group="poll", exclusive=True)

    def _poll(self, open_id: str) -> None:
        store = self._store
        try:
            if not store.refresh():
                return
            entries = store.list_entries()
            # Compares contents: an edit that keeps `updated` or lands in the same second counts.
            reopen = store.changed_elsewhere(open_id)
        except StorageError:
            return  # said once by reload; polling must not repeat it every 2 s
        self._threads.to_ui(self._external_change, entries, reopen)

    def _external_change(self, entries: list[ConversationEntry], reopen: bool) -> None:
        self._sidebar.show_entries(entries, current_id=self._open_id())
        if reopen:
            self._reopen()

"""The conversation list of the chat screen: drawn at start-up, checked, kept current.

Kept apart from `chat.py`, which owns the screen's layout and the send/stream/save flow, so each
module has one job. `ConversationListing` is mixed into `ChatScreen`. At start-up the list is
drawn from the index cache in the first frame and the conversation open at the last exit opened
(the newest when that one is gone); the folder is checked, and the engine prepared, once that is
on screen; afterwards a poll picks up files that other programs add, change or remove.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from tui_chat.storage.errors import StorageError
from tui_chat.ui.widgets.sidebar import MAX_LISTED

if TYPE_CHECKING:
    from tui_chat.ui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


def _newest_readable(entries: list) -> str | None:  # type: ignore[type-arg]
    """The id of the first conversation in the list whose file could be read."""
    return next((entry.id for entry in entries if not entry.error), None)


@dataclass
class StartUp:
    """Where start-up is: the list drawn from the index cache waits for its check, and the
    conversation opened from it may give way to the checked list's choice, unless the user has
    already chosen something else (opened, created or sent)."""

    background_started: bool = False
    awaiting_check: bool = False  # the list came from the cache; no checked list shown yet
    opened_from_cache: str | None = None
    user_chose: bool = False
    last_open: str | None = None  # the conversation open at the last exit


class ConversationListing(_Base):
    """Lists the conversations in the sidebar and opens the last one used at start-up."""

    def _show_list_from_cache(self) -> None:
        """Draw the list as the index last recorded it, in the first frame, and open the
        conversation open at the last exit (or the newest); every file is checked once that is
        on screen (0.3 s at 10,000 files, which would otherwise hold up the first frame), and
        the checked list replaces this one, visibly only if files changed while tui-chat was
        closed.

        Reading at most MAX_LISTED lines of the cache takes ~5 ms: it is done here, not in a
        thread, so the list is in the first frame; so is the one-line note of the last open
        conversation.
        """
        request = self.start_request  # from the shell: a conversation, or piped text
        self.start_up.last_open = request.conversation_id or self.services.last_open.read()
        head = self.services.store.cached_head(MAX_LISTED)
        newest = max((e.updated for e in head[0] if e.updated), default=None) if head else None
        if request.composer_text:
            self.start_up.user_chose = True  # the new conversation stays: nothing replaces it
            self.composer.set_text(request.composer_text)
        elif request.conversation_id is None:
            self.resume_unsaved_draft_at_start(newest)
        if head is None:  # the first run, or the cache was deleted: read the folder now
            self.reload_list(open_newest=True)
            return
        entries, count = head
        self.sidebar.show_entries(entries, current_id=self.conversation.id, count=count)
        self.start_up.awaiting_check = True
        self.start_up.opened_from_cache = self._to_open_at_start(entries)
        self._after_listing(self.start_up.opened_from_cache, quiet=True)

    def _to_open_at_start(self, entries: list) -> str | None:  # type: ignore[type-arg]
        """The conversation open at the last exit while its file is there (one stat: it may
        be further down than the cached head), else the newest readable one."""
        last = self.start_up.last_open
        if last is not None and self.services.store.path_for(last).exists():
            return last
        return _newest_readable(entries)

    def remember_open_conversation(self) -> None:
        """At exit: note the open conversation, for the next start to open it again (one that
        has no file, a new one, makes the next start fall back to the newest)."""
        if not self.is_mounted or (not self.conversation.messages and not self.start_up.user_chose):
            return  # still the blank of start-up, before the open there landed: keep the note
        with contextlib.suppress(StorageError):  # exiting: nobody is left to tell
            self.services.last_open.write(self.conversation.id)

    def _start_background_work(self) -> None:
        """Once the first screen is drawn (or the start-up open failed): check the list drawn
        from the cache, prepare the engine (~0.8 s of GIL-bound work that would slow the
        first frames), and, with no API key, look for local servers."""
        if self.start_up.background_started:
            return
        self.start_up.background_started = True
        if self.start_up.awaiting_check:
            self.reload_list()
        self.prepare_engine()
        self.look_for_local_servers()

    @work(thread=True, exclusive=True, group="list")
    def reload_list(self, open_newest: bool = False, select: str | None = None) -> None:
        """Read the conversation list off the event loop; a long first reading (thousands of
        files, no index yet) shows its progress in the sidebar. `select`: the conversation to
        highlight once listed (the neighbour of a deleted one, a restored one)."""

        def progress(parsed: int, to_parse: int) -> None:
            self._call_on_ui(self.sidebar.show_progress, parsed, to_parse)

        try:
            entries = self.services.store.list_entries(progress)
        except StorageError as error:
            self._notify_any_thread(str(error), "error")
            return
        # Exclusive workers cannot stop a thread: a newer reload (each send asks for two) may
        # have shown a newer list already, which this older one must not replace.
        if get_current_worker().is_cancelled:
            return
        self._call_on_ui(self._show_entries, entries, open_newest, select)

    def _show_entries(
        self,
        entries: list,  # type: ignore[type-arg]
        open_newest: bool,
        select: str | None = None,
    ) -> None:
        self.sidebar.show_entries(entries, current_id=self.conversation.id)
        if select is not None:
            self.sidebar.select_conversation(select)
        start_up = self.start_up
        if start_up.awaiting_check:
            # The first checked list: files may have come, gone or changed while tui-chat was
            # closed, so the one to open may not be the one the cache named.
            start_up.awaiting_check = False
            if (
                not start_up.user_chose
                and self._to_open_at_start(entries) != start_up.opened_from_cache
            ):
                open_newest = True
        self._after_listing(self._to_open_at_start(entries) if open_newest else None)

    def _after_listing(self, open_id: str | None, quiet: bool = False) -> None:
        if open_id is not None:
            # Background work starts once this open is done, whatever its outcome.
            self.open_conversation(open_id, quiet=quiet, at_start=True)
        else:
            self.call_after_refresh(self._start_background_work)

    @work(thread=True, exclusive=True, group="poll")
    def poll_store(self) -> None:
        """Pick up files added, edited or removed by someone else (another tui-chat, git pull)."""
        store = self.services.store
        try:
            if not store.refresh():
                return
            entries = store.list_entries()
            # Compares contents: an edit that keeps `updated` or lands in the same second counts.
            reopen = store.changed_elsewhere(self.conversation.id)
        except StorageError:
            return  # said once by reload_list; polling must not repeat it every 2 s
        self._call_on_ui(self._external_change, entries, reopen)

    def _external_change(self, entries: list, reopen: bool) -> None:  # type: ignore[type-arg]
        self.sidebar.show_entries(entries, current_id=self.conversation.id)
        if reopen and not self.streaming:
            self.open_conversation(self.conversation.id, quiet=True)

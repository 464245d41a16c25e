"""Searching message text from the list: results, opening at a hit, and the hits n / N visit.

Kept apart from `chat.py`, which owns the screen's layout and the send/stream/save flow, so each
module has one job. `MessageSearch` is mixed into `ChatScreen`. `/`, a word and Enter in the list
search every conversation (in a thread: it reads files); the sidebar shows one row per
conversation found; the results stay, and n / N in the message pane visit the open
conversation's hits, until a new search or until the user leaves the results (Esc).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import work

from tui_chat.storage.errors import StorageError
from tui_chat.storage.search import SearchResult

# Conversations listed for one search, the newest: enough to find one by a word, cheap to list.
SEARCH_LIMIT = 200

if TYPE_CHECKING:
    from tui_chat.ui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


class MessageSearch(_Base):
    """Runs a search, keeps its results (`search_results`), and gives the pane its hits."""

    @work(thread=True, exclusive=True, group="search")
    def search_messages(self, query: str) -> None:
        """Search message text and titles in every conversation and list what was found."""
        try:
            # One more than are listed: whether older ones matched too.
            results = self.services.store.search(query, limit=SEARCH_LIMIT + 1)
        except StorageError as error:
            self._notify_any_thread(str(error), "error")
            return
        self._call_on_ui(self._show_search_results, results)

    def _show_search_results(self, results: Sequence[SearchResult]) -> None:
        listed = results[:SEARCH_LIMIT]
        self.search_results = {result.conversation_id: result for result in listed}
        self.sidebar.show_search_results(listed, more=len(results) > SEARCH_LIMIT)
        self.give_pane_its_hits()

    def forget_search(self) -> None:
        """The user left the results: n / N have nothing to visit any more."""
        self.search_results = {}
        self.give_pane_its_hits()

    def give_pane_its_hits(self) -> None:
        """Tell the pane which of the open conversation's messages the search found."""
        result = self.search_results.get(self.conversation.id)
        self.pane.search_hits = result.message_indexes if result else []

    def opens_at_a_hit(self, conversation_id: str) -> bool:
        """True when opening this conversation should show its first message hit."""
        result = self.search_results.get(conversation_id)
        return result is not None and bool(result.message_indexes)

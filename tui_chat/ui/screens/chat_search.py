"""Searching message text from the list: results, opening at a hit, and the hits n / N visit.

`MessageSearch` is a helper the chat screen owns. `/`, a word and Enter in the list search
every conversation (in a thread: it reads files); the sidebar shows one row per conversation
found; the results stay, and n / N in the message pane visit the open conversation's hits,
until a new search or until the user leaves the results (Esc).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tui_chat.storage.errors import StorageError
from tui_chat.storage.search import SearchResult
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.background import Notify, ThreadWork
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.sidebar import Sidebar

# Conversations listed for one search, the newest: enough to find one by a word, cheap to list.
SEARCH_LIMIT = 200


class MessageSearch:
    """Runs a search, keeps its results, and gives the pane the open conversation's hits."""

    def __init__(
        self,
        store: ConversationStore,
        sidebar: Sidebar,
        pane: MessagePane,
        threads: ThreadWork,
        notify: Notify,
        open_id: Callable[[], str],
    ) -> None:
        self._store = store
        self._sidebar = sidebar
        self._pane = pane
        self._threads = threads
        self._notify = notify
        self._open_id = open_id
        # The last search's results, by conversation id, until the user leaves them.
        self._results: dict[str, SearchResult] = {}

    def search(self, query: str) -> None:
        """Search message text and titles in every conversation and list what was found."""
        self._threads.start(lambda: self._search(query), group="search", exclusive=True)

    def _search(self, query: str) -> None:
        try:
            # One more than are listed: whether older ones matched too.
            results = self._store.search(query, limit=SEARCH_LIMIT + 1)
        except StorageError as error:
            self._threads.to_ui(self._say_failed, error)
            return
        self._threads.to_ui(self._show_results, results)

    def _say_failed(self, error: StorageError) -> None:
        self._notify(str(error), severity="error", timeout=10)

    def _show_results(self, results: Sequence[SearchResult]) -> None:
        listed = results[:SEARCH_LIMIT]
        self._results = {result.conversation_id: result for result in listed}
        self._sidebar.show_search_results(listed, more=len(results) > SEARCH_LIMIT)
        self.give_pane_its_hits()

    def forget(self) -> None:
        """The user left the results: n / N have nothing to visit any more."""
        self._results = {}
        self.give_pane_its_hits()

    def give_pane_its_hits(self) -> None:
        """Tell the pane which of the open conversation's messages the search found."""
        result = self._results.get(self._open_id())
        self._pane.search_hits = result.message_indexes if result else []

    def opens_at_a_hit(self, conversation_id: str) -> bool:
        """True when opening this conversation should show its first message hit."""
        result = self._results.get(conversation_id)
        return result is not None and bool(result.message_indexes)

"""The sidebar: a filter box above the list of saved conversations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui_chat.sanitize import one_line
from tui_chat.storage.search import Hit, SearchResult
from tui_chat.ui.bindings import SIDEBAR_BINDINGS
from tui_chat.ui.textual_compat import KeyOrderInput
from tui_chat.ui.widgets.widget_css import css_beside

MAX_LISTED = 300


class ListedConversation(Protocol):
    """What the sidebar reads of a store entry (tui_chat.storage's ConversationEntry)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def updated(self) -> datetime | None: ...
    @property
    def model(self) -> str: ...
    @property
    def message_count(self) -> int: ...
    @property
    def pinned(self) -> bool: ...
    @property
    def error(self) -> str | None: ...


# How a search's match stands out in its row: no colour, so it reads in every theme and on the
# highlighted row.
MATCH_STYLE = "bold underline"
# Columns of a snippet kept before its match: at 80 columns the sidebar shows ~14 of a snippet.
SNIPPET_LEAD = 8


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """A short age for the list: 'now', '5m', '3h', '2d', or a date for anything older."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d"
    return moment.astimezone().strftime("%Y-%m-%d")


def entry_prompt(entry: ListedConversation) -> Content:
    """Two lines per conversation: the title, then age · model · message count (or the error)."""
    if entry.error:
        title = Content.styled(f"⚠ {one_line(entry.title or entry.id)}", "$error")
        detail = Content.styled(one_line(entry.error), "$text-muted")
        return Content("\n").join([title, detail])
    pin = "★ " if entry.pinned else ""
    title = Content(f"{pin}{one_line(entry.title) or 'New conversation'}")
    age = relative_time(entry.updated)
    detail = Content.styled(
        # The count before the model: at 80 columns a long model name is what wraps.
        f"{age} · {entry.message_count} msg · {one_line(entry.model)}",
        "$text-muted",
    )
    return Content("\n").join([title, detail])


def _highlighted(hit: Hit) -> Content:
    return Content(hit.snippet).stylize(MATCH_STYLE, hit.match_start, hit.match_end)


def search_result_prompt(result: SearchResult) -> Content:
    """Two lines per conversation found: the title, then how many hits and the first message
    hit's snippet (the title's own, highlighted, when only the title matched)."""
    title_hit = result.hits[0] if result.hits[0].message_index is None else None
    title = _highlighted(title_hit) if title_hit else Content(one_line(result.title))
    count = len(result.hits)
    hits = f"{count} hit{'s' if count > 1 else ''}"
    first = result.first_message_hit
    if first is None:
        detail = Content.styled(f"{hits}, in the title", "$text-muted")
    else:
        snippet = _highlighted(first.with_lead(SNIPPET_LEAD))
        detail = Content.assemble(Content.styled(f"{hits}: ", "$text-muted"), snippet)
    return Content("\n").join([title, detail])


class ConversationList(OptionList):
    """The list of conversations; option ids are conversation ids.

    Its keys act on the highlighted conversation: each posts its own `Sidebar` message.
    """

    BINDINGS = SIDEBAR_BINDINGS

    @property
    def highlighted_id(self) -> str | None:
        """The id of the highlighted row, None on an empty list."""
        if self.highlighted is None or not self.option_count:
            return None
        return self.get_option_at_index(self.highlighted).id

    def action_rename(self) -> None:
        if (conversation_id := self.highlighted_id) is not None:
            self.post_message(Sidebar.RenameRequested(conversation_id))

    def action_delete(self) -> None:
        if (conversation_id := self.highlighted_id) is not None:
            self.post_message(Sidebar.DeleteRequested(conversation_id))

    def action_restore(self) -> None:
        self.post_message(Sidebar.RestoreRequested())

    def action_toggle_pin(self) -> None:
        if (conversation_id := self.highlighted_id) is not None:
            self.post_message(Sidebar.PinToggled(conversation_id))

    def action_focus_filter(self) -> None:
        self.query_ancestor(Sidebar).focus_filter()


class Sidebar(Vertical):
    """Filter box and conversation list. Posts messages; the screen acts on them."""

    DEFAULT_CSS = css_beside(__file__)  # sidebar.tcss (widget_css.py says why not CSS_PATH)

    @dataclass
    class Opened(Message):
        """The user chose a conversation to open."""

        conversation_id: str

    @dataclass
    class RenameRequested(Message):
        """The user asked to give a conversation a new title."""

        conversation_id: str

    @dataclass
    class DeleteRequested(Message):
        """The user asked to move a conversation to the trash (the screen asks first)."""

        conversation_id: str

    @dataclass
    class PinToggled(Message):
        """The user asked to pin a conversation to the top of the list, or to unpin it."""

        conversation_id: str

    @dataclass
    class RestoreRequested(Message):
        """The user asked for the conversation deleted last in this session back."""

    @dataclass
    class SearchRequested(Message):
        """Enter in the filter box: search message text across all conversations."""

        query: str

    @dataclass
    class SearchLeft(Message):
        """The search results gave way to the list (Esc, or the filter was changed)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries: list[ListedConversation] = []
        self._count = 0  # all conversations, when only the head of the list is known yet
        self._showing_search = False  # search results, not the list, are on show
        self._results: list[SearchResult] = []
        self._more_found = False
        self.border_title = "Conversations"

    def compose(self) -> ComposeResult:
        # Short enough for the 80-column sidebar: typing filters titles, Enter searches text.
        yield KeyOrderInput(placeholder="/ title, Enter: text", id="conversation-filter")
        yield ConversationList(id="conversation-list")

    @property
    def option_list(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#conversation-filter", Input)

    @property
    def searching(self) -> bool:
        """True while search results, not the list, are on show."""
        return self._showing_search

    @property
    def highlighted_id(self) -> str | None:
        return self.option_list.highlighted_id

    def show_entries(
        self,
        entries: Sequence[ListedConversation],
        *,
        current_id: str | None = None,
        count: int | None = None,
    ) -> None:
        """Replace the listed conversations, keeping the highlight on the same conversation.

        `count` is the number of all conversations when `entries` is only the head of the list.
        """
        # While the user moves in the list, keep their place; otherwise show the open conversation.
        navigating = self.option_list.has_focus and self.highlighted_id is not None
        keep_id = self.highlighted_id if navigating else current_id
        entries = list(entries)
        count = len(entries) if count is None else count
        if self._showing_search:
            # The results stay until the user leaves them (the list is kept for then), less the
            # conversations that are gone (`d` on a result).
            self._entries, self._count = entries, count
            if len(entries) >= count:
                present = {entry.id for entry in entries}
                kept = [r for r in self._results if r.conversation_id in present]
                if len(kept) < len(self._results):
                    self._show_results(kept, index=self.option_list.highlighted or 0)
            return
        same_options = (
            not self._needle()
            and count == self._count
            and entries[:MAX_LISTED] == self._entries[:MAX_LISTED]
            and self.option_list.option_count > 0
        )
        self._entries, self._count = entries, count
        if same_options:
            # What is drawn stays the same (the start-up check found nothing new): building 300
            # options costs ~30 ms, so only the title and the highlight are set.
            self._set_title(max(count, len(entries)), "")
            if keep_id is not None:
                self.select_conversation(keep_id)
            return
        self._render_options(keep_id=keep_id)

    def show_progress(self, parsed: int, to_parse: int) -> None:
        """While the folder is read for the first time: how far it got."""
        self.border_title = f"Reading {parsed:,}/{to_parse:,}"

    def show_search_results(self, results: Sequence[SearchResult], more: bool = False) -> None:
        """One row per conversation found, newest first, until the user leaves the results;
        `more` when older conversations matched too but are not listed."""
        self._showing_search = True
        self._more_found = more
        # One line per line of a row: a long snippet ends in … rather than wrapping.
        self.option_list.add_class("-search")
        self._show_results(list(results), index=0)

    def _show_results(self, results: list[SearchResult], index: int) -> None:
        self._results = results
        plus = "+" if self._more_found else ""  # older ones matched too
        found = f"{len(results):,}{plus} found" if results else "none found"
        self.border_title = f"Search: {found}"
        options = [Option(search_result_prompt(r), id=r.conversation_id) for r in results]
        if not options:
            no_match = Content.styled("No text matches. Esc: list", "$text-muted")
            self.option_list.set_options([Option(no_match, disabled=True)])
            return
        self.option_list.set_options(options)
        self.option_list.highlighted = min(index, len(options) - 1)

    def _needle(self) -> str:
        return self.filter_input.value.strip().casefold() if self.is_mounted else ""

    def _set_title(self, matching: int, needle: str) -> None:
        self.border_title = (
            f"Conversations ({matching:,}/{self._count:,})"
            if needle
            else f"Conversations ({matching:,})"
        )

    def _render_options(self, keep_id: str | None) -> None:
        if self._showing_search:
            self._showing_search = False
            self._results = []
            self.option_list.remove_class("-search")
            self.post_message(self.SearchLeft())
        needle = self._needle()
        shown = [e for e in self._entries if not needle or needle in (e.title or "").casefold()]
        # Unfiltered, the head of a longer list stands for all of it.
        matching = len(shown) if needle else max(self._count, len(shown))
        self._set_title(matching, needle)
        # OptionList measures every option it holds: 10,000 took 1.6 s on the event loop. The
        # filter searches all entries, so listing the first few hundred loses nothing.
        options = [Option(entry_prompt(e), id=e.id) for e in shown[:MAX_LISTED]]
        if matching > MAX_LISTED:
            more = matching - MAX_LISTED
            options.append(
                Option(
                    Content.styled(f"{more:,} more: type / to filter", "$text-muted"), disabled=True
                )
            )
        self._replace_options(options, keep_id=keep_id)

    def _replace_options(self, options: list[Option], keep_id: str | None) -> None:
        option_list = self.option_list
        option_list.set_options(options)
        if not options:
            return
        index = 0
        if keep_id is not None:
            index = next((i for i, o in enumerate(options) if o.id == keep_id), 0)
        option_list.highlighted = index

    def title_of(self, conversation_id: str) -> str | None:
        """The listed title of a conversation (its id for a broken file), if the list holds it."""
        entry = next((e for e in self._entries if e.id == conversation_id), None)
        if entry is None:
            return None
        return entry.title or (entry.id if entry.error else "New conversation")

    def remove_conversation(self, conversation_id: str) -> str | None:
        """Take a trashed conversation off the list at once and put the highlight on its
        neighbour: the next row, or the previous one when it was the last.

        Returns the neighbour's id (None when no conversation is left on the list). Done before
        the list is read again, so the highlight never falls back to the top entry meanwhile,
        where a second `d` would trash a conversation the user did not point at.
        """
        option_list = self.option_list
        ids = [
            option_list.get_option_at_index(index).id for index in range(option_list.option_count)
        ]
        self._entries = [e for e in self._entries if e.id != conversation_id]
        if conversation_id not in ids:
            return self.highlighted_id
        self._count = max(0, self._count - 1)
        at = ids.index(conversation_id)
        # The "N more" row has no id: it is never a neighbour.
        rest = [i for i in ids[:at] + ids[at + 1 :] if i is not None]
        after = [i for i in ids[at + 1 :] if i is not None]
        neighbour = after[0] if after else (rest[-1] if rest else None)
        if self._showing_search:
            option_list.remove_option(conversation_id)
            if neighbour is not None:
                self.select_conversation(neighbour)
        else:
            self._render_options(keep_id=neighbour)
        return neighbour

    def select_conversation(self, conversation_id: str) -> None:
        """Move the highlight to a conversation, if it is listed."""
        option_list = self.option_list
        for index in range(option_list.option_count):
            if option_list.get_option_at_index(index).id == conversation_id:
                option_list.highlighted = index
                return

    @on(Input.Changed, "#conversation-filter")
    def _filter_changed(self) -> None:
        self._render_options(keep_id=self.highlighted_id)

    @on(Input.Submitted, "#conversation-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.SearchRequested(event.value.strip()))
        self.option_list.focus()

    @on(OptionList.OptionSelected, "#conversation-list")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Opened(event.option.id))

    def clear_filter(self, current_id: str | None = None) -> None:
        """Empty the filter box and go back to the whole list: from search results with the
        cursor on `current_id` (the open conversation), from a title filter where it was."""
        keep_id = current_id if self._showing_search else self.highlighted_id
        self.filter_input.value = ""
        self._render_options(keep_id=keep_id or self.highlighted_id)

    def focus_filter(self) -> None:
        self.filter_input.focus()

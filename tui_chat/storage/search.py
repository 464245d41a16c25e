"""Full-text search and totals over the conversation files, for the search screen and
`tui-chat search` / `tui-chat stats`.

Both work from the list of entries the store gives them, so they read only what the index says
is there and skip broken files rather than fail on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from tui_chat.domain.conversation import Conversation, Message, Spend
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.storage.errors import ConversationFileError
from tui_chat.storage.index import (
    ConversationEntry,
    parse_conversation_bytes,
    read_file_bytes,
    recency,
)

SNIPPET_COLUMNS = 76
"""A snippet's widest, in terminal columns: one line of an 80-column terminal, with room for an
indent."""

# Columns of text kept before the match: enough to read it in context, yet in a narrow sidebar
# the match itself stays in view.
_LEAD_COLUMNS = 12
# Characters read on each side of a match: a snippet never needs more (even with whitespace
# runs collapsed), and a megabyte message is not copied for each of its hits.
_WINDOW = 4 * SNIPPET_COLUMNS
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Hit:
    """A message that contains the searched text (or the title, `message_index` None).

    `snippet` is one line around the first match in that text, at most `SNIPPET_COLUMNS`
    columns wide, with whitespace collapsed, control characters made visible and `…` where text
    was cut; the match is `snippet[match_start:match_end]`, for highlighting.
    """

    message_index: int | None
    snippet: str
    match_start: int
    match_end: int

    def with_lead(self, columns: int) -> Hit:
        """This hit with at most `columns` columns of text before the match: how a narrow list
        keeps the match in view."""
        lead = _lead(self.snippet[: self.match_start], columns)
        if lead == self.snippet[: self.match_start]:
            return self
        length = self.match_end - self.match_start
        return Hit(
            self.message_index,
            lead + self.snippet[self.match_start :],
            len(lead),
            len(lead) + length,
        )


@dataclass(frozen=True)
class SearchResult:
    """A conversation that contains the searched text, with every place it occurs.

    `hits` holds the title's hit first (if the title matches), then one per matching message,
    in the conversation's order.
    """

    conversation_id: str
    title: str
    updated: datetime | None
    hits: tuple[Hit, ...]

    @property
    def message_indexes(self) -> list[int]:
        """The indexes of the matching messages, in order (the title's hit left out)."""
        return [hit.message_index for hit in self.hits if hit.message_index is not None]

    @property
    def first_message_hit(self) -> Hit | None:
        """The first matching message's hit; None when only the title matches."""
        return next((hit for hit in self.hits if hit.message_index is not None), None)


@dataclass(frozen=True)
class StoreStats:
    """Totals over every conversation file, for `tui-chat stats`."""

    conversations: int
    messages: int
    total_tokens: int
    spend: Spend
    broken_files: int


def search_conversations(
    list_entries: Callable[[], Iterable[ConversationEntry]], query: str, limit: int = 200
) -> list[SearchResult]:
    """The conversations whose title or messages contain `query` (case-insensitive), newest
    first, at most `limit` of them, each with all its hits. Reads raw file text first and
    parses only files that contain the query.

    Takes the listing as a callable so an empty query does not list (and index) the folder.
    """
    query = query.strip()
    if not query:
        return []
    pattern = _pattern(query)
    # Text with quotes, backslashes or control characters may be escaped in the file, so the
    # raw-text shortcut would miss it: such queries parse every file.
    raw_ok = not any(ch in '"\\' or ord(ch) < 32 or ord(ch) == 127 for ch in query)
    # Newest first whatever the list's order (it puts pinned conversations first), so the limit
    # keeps the most recent.
    entries = sorted(list_entries(), key=recency, reverse=True)
    results: list[SearchResult] = []
    for entry in entries:
        if entry.error:
            continue
        try:
            data = read_file_bytes(entry.path)
        except (OSError, ConversationFileError):
            continue  # removed or grown too large since listed
        if raw_ok and not pattern.search(data.decode("utf-8", "replace")):
            continue
        try:
            conv = parse_conversation_bytes(data, entry.path)
        except ConversationFileError:
            continue
        hits = conversation_hits(conv, query)
        if hits:
            results.append(SearchResult(conv.id, conv.display_title, conv.updated, hits))
            if len(results) >= limit:
                break
    return results


def conversation_hits(conversation: Conversation, query: str) -> tuple[Hit, ...]:
    """Where `query` occurs in a conversation (case-insensitive): the title's hit first, then
    one per matching message, in order."""
    query = query.strip()
    if not query:
        return ()
    pattern = _pattern(query)
    texts: list[tuple[int | None, str]] = [(None, conversation.title)]
    texts += [
        (index, _searched_text(message)) for index, message in enumerate(conversation.messages)
    ]
    return tuple(
        _hit(index, text, match)
        for index, text in texts
        if (match := pattern.search(text)) is not None
    )


def _searched_text(message: Message) -> str:
    """A message's text and the results of its tool calls: what it shows, unfolded."""
    results = [call.result for call in message.tool_calls if call.result]
    return "\n".join([message.content, *results]) if results else message.content


def stats_of(entries: list[ConversationEntry]) -> StoreStats:
    """Counts, tokens and all-time spend of the listed files; broken files are only counted."""
    good = [e for e in entries if e.error is None]
    return StoreStats(
        conversations=len(good),
        messages=sum(e.message_count for e in good),
        total_tokens=sum(e.total_tokens for e in good),
        spend=sum((e.spend for e in good), Spend()),
        broken_files=len(entries) - len(good),
    )


def _pattern(query: str) -> re.Pattern[str]:
    # The query is literal text, not a regular expression.
    return re.compile(re.escape(query), re.IGNORECASE)


def _hit(message_index: int | None, text: str, match: re.Match[str]) -> Hit:
    """The hit of a match in `text`: a snippet that starts a little before the match (so it
    stays in view when a narrow list cuts the snippet's end) and fills the columns after it."""
    start, end = match.span()
    before = _one_line(text[max(0, start - _WINDOW) : start]).lstrip()
    lead = _lead(before, _LEAD_COLUMNS, cut=start > _WINDOW)
    found = _cut_to_columns(_one_line(text[start:end]), SNIPPET_COLUMNS - _columns(lead))
    after = _one_line(text[end : end + _WINDOW]).rstrip()
    room = max(0, SNIPPET_COLUMNS - _columns(lead) - _columns(found))
    if _columns(after) > room or end + _WINDOW < len(text):
        after = (_cut_to_columns(after, room - 1).rstrip() + "…") if room else ""
    return Hit(message_index, lead + found + after, len(lead), len(lead) + len(found))


def _lead(before: str, columns: int, cut: bool = False) -> str:
    """The text before a match, shortened to `columns` with a leading … if it is longer (or
    was already `cut`), starting at a word when one starts within the kept text."""
    if not cut and _columns(before) <= columns:
        return before
    lead = _tail_to_columns(before.removeprefix("…"), columns - 1)
    space = lead.find(" ")
    if 0 <= space < len(lead) - 1:
        lead = lead[space + 1 :]
    return "…" + lead


def _one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces, control characters made
    visible: a snippet is printed on one line of a terminal."""
    return sanitize_for_terminal(_WHITESPACE.sub(" ", text))


def _char_columns(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _columns(text: str) -> int:
    """The columns `text` takes in a terminal (wide East Asian characters and emoji take 2)."""
    return sum(_char_columns(char) for char in text)


def _cut_to_columns(text: str, columns: int) -> str:
    """The longest start of `text` that fits in `columns`."""
    used = 0
    for index, char in enumerate(text):
        used += _char_columns(char)
        if used > columns:
            return text[:index]
    return text


def _tail_to_columns(text: str, columns: int) -> str:
    """The longest end of `text` that fits in `columns`."""
    used = 0
    for index in range(len(text) - 1, -1, -1):
        used += _char_columns(text[index])
        if used > columns:
            return text[index + 1 :]
    return text

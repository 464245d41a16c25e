"""Full-text search and totals over the conversation files, for the search screen and
`tui-chat search` / `tui-chat stats`.

Both work from the list of entries the store gives them, so they read only what the index says
is there and skip broken files rather than fail on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tui_chat.domain.conversation import Spend
from tui_chat.storage.errors import ConversationFileError
from tui_chat.storage.index import ConversationEntry, parse_conversation_bytes, read_file_bytes


@dataclass(frozen=True)
class SearchHit:
    """A message (or a title, `message_index` None) that contains the searched text."""

    conversation_id: str
    title: str
    message_index: int | None
    snippet: str


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
) -> list[SearchHit]:
    """Messages and titles containing `query` (case-insensitive), in the order `list_entries`
    gives the files. Reads raw file text first and parses only files that contain the query.

    Takes the listing as a callable so an empty query does not list (and index) the folder.
    """
    query = query.strip()
    if not query:
        return []
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    # Text with quotes, backslashes or control characters may be escaped in the file, so the
    # raw-text shortcut would miss it: such queries parse every file.
    raw_ok = not any(ch in '"\\' or ord(ch) < 32 or ord(ch) == 127 for ch in query)
    hits: list[SearchHit] = []
    for entry in list_entries():
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
        if pattern.search(conv.title):
            hits.append(SearchHit(conv.id, conv.display_title, None, _snippet(conv.title, pattern)))
        for index, message in enumerate(conv.messages):
            if pattern.search(message.content):
                hits.append(
                    SearchHit(
                        conv.id, conv.display_title, index, _snippet(message.content, pattern)
                    )
                )
        if len(hits) >= limit:
            return hits[:limit]
    return hits


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


def _snippet(text: str, pattern: re.Pattern[str], width: int = 80) -> str:
    """One line around the first match, with … where text was cut."""
    match = pattern.search(text)
    start = match.start() if match else 0
    begin = max(0, start - width // 3)
    end = min(len(text), begin + width)
    snippet = " ".join(text[begin:end].split())
    return ("…" if begin > 0 else "") + snippet + ("…" if end < len(text) else "")

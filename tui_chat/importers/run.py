"""Writing imported conversations through the ConversationStore, adding only what is new.

A conversation already imported is found by its `source` and `source_id` keys, read from the
head of each file (the keys before the first message), so a re-import of thousands of
conversations reads no messages. When the recorded `source_version` matches, nothing changed;
otherwise the messages whose source ids the file lacks are appended. One conversation that
fails (a broken source row, a disk error on its file) is reported and the others go on.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tui_chat.domain.conversation import new_conversation_id
from tui_chat.importers.records import (
    FORK_SEPARATOR,
    SOURCE_ID_KEY,
    SOURCE_KEY,
    SOURCE_VERSION_KEY,
    BrokenConversation,
    ImportedConversation,
    ImportItem,
    ReadContext,
    Unchanged,
)
from tui_chat.storage.errors import ConversationFileError, ConversationNotFound, StorageError
from tui_chat.storage.index import SUFFIX
from tui_chat.storage.store import ConversationStore

_MESSAGES_TABLE = b"\n[[messages]]"
_HEAD_BYTES = 4096
# The three provenance lines of a file's head, as the writer writes them (one line each).
_SOURCE_LINES = re.compile(rb"^source(?:_id|_version)? = .*$", re.MULTILINE)


@dataclass(frozen=True)
class Done:
    """One conversation written (or that would be, in a dry run)."""

    source_id: str
    conversation_id: str
    title: str
    new_messages: int


@dataclass
class ImportSummary:
    """What an import did, for the summary and for --json."""

    imported: list[Done] = field(default_factory=list)
    updated: list[Done] = field(default_factory=list)
    present: int = 0
    failed: list[BrokenConversation] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return len(self.imported) + len(self.updated) + self.present + len(self.failed)


@dataclass(frozen=True)
class _Known:
    conversation_id: str
    version: str


def imported_sources(folder: Path) -> dict[tuple[str, str], _Known]:
    """(source, source id) -> the file that holds it, from the head of every file."""
    known: dict[tuple[str, str], _Known] = {}
    if not folder.is_dir():
        return known
    for path in folder.glob(f"*{SUFFIX}"):
        try:
            head = _head(path)
        except OSError:
            continue
        # The writer puts every top-level key before the first message, each on one line:
        # parsing those lines of the head is enough, and much cheaper than the whole head.
        # A system prompt that holds such a line too makes more than three: parse it all.
        lines = _SOURCE_LINES.findall(head)
        try:
            header = tomllib.loads((b"\n".join(lines) if len(lines) <= 3 else head).decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue  # a broken file is the list's to report; it is never ours to touch
        source, source_id = header.get(SOURCE_KEY), header.get(SOURCE_ID_KEY)
        if isinstance(source, str) and isinstance(source_id, str):
            version = header.get(SOURCE_VERSION_KEY)
            known[(source, source_id)] = _Known(
                path.stem, version if isinstance(version, str) else ""
            )
    return known


def _head(path: Path) -> bytes:
    """A file's top-level keys: the bytes before its first message. Most heads fit in the
    first few KB; a long system prompt makes one read on."""
    with path.open("rb") as handle:
        data = handle.read(_HEAD_BYTES)
        while _MESSAGES_TABLE not in data:
            more = handle.read(_HEAD_BYTES)
            if not more:
                break
            data += more
    return data.split(_MESSAGES_TABLE, 1)[0]


class Importer:
    """Applies imported conversations to a store; `dry_run` decides without writing. New
    conversations go on `profile`."""

    def __init__(self, store: ConversationStore, *, profile: str, dry_run: bool) -> None:
        self.store = store
        self.profile = profile
        self.dry_run = dry_run
        self.summary = ImportSummary()
        self._known = imported_sources(store.folder)
        self._taken: set[str] = set()
        self._forks: Counter[tuple[str, str]] | None = None

    def context_for(self, source: str) -> ReadContext:
        """What a reader of `source` is told: the versions of its conversations imported."""
        return ReadContext(
            known_versions={
                sid: k.version for (src, sid), k in self._known.items() if src == source
            }
        )

    def _forks_known(self, source: str, source_id: str) -> int:
        if self._forks is None:
            self._forks = Counter(
                (src, sid.split(FORK_SEPARATOR, 1)[0])
                for src, sid in self._known
                if FORK_SEPARATOR in sid
            )
        return self._forks[(source, source_id)]

    def run(
        self,
        source: str,
        items: Iterable[ImportItem],
        on_item: Callable[[], None] | None = None,
    ) -> None:
        """Apply every item read from `source`; `on_item` is called after each (for a
        progress bar)."""
        try:
            for item in items:
                if isinstance(item, BrokenConversation):
                    self.summary.failed.append(item)
                elif isinstance(item, Unchanged):
                    self.summary.present += 1 + self._forks_known(source, item.source_id)
                else:
                    self._apply(item)
                if on_item is not None:
                    on_item()
        finally:
            if self.summary.imported and not self.dry_run:
                self.store.sync()  # what was written is kept, even when the source failed later

    def _apply(self, item: ImportedConversation) -> None:
        known = self._known.get((item.source, item.source_id))
        try:
            if known is None:
                self._create(item)
            elif known.version == item.version:
                self.summary.present += 1
            else:
                self._extend(item, known)
        except (StorageError, ConversationFileError) as error:
            self.summary.failed.append(BrokenConversation(item.source_id, item.title, str(error)))

    def _create(self, item: ImportedConversation) -> None:
        conversation = item.to_conversation(self.profile)
        # Forks share their conversation's creation time, so ids of one second can collide.
        while conversation.id in self._taken or self.store.path_for(conversation.id).exists():
            conversation.id = new_conversation_id(conversation.created)
        self._taken.add(conversation.id)
        if not self.dry_run:
            self.store.add_new(conversation)
        self._known[(item.source, item.source_id)] = _Known(conversation.id, item.version)
        self.summary.imported.append(
            Done(item.source_id, conversation.id, item.title, len(conversation.messages))
        )

    def _extend(self, item: ImportedConversation, known: _Known) -> None:
        try:
            conversation = self.store.load(known.conversation_id)
        except ConversationNotFound:
            self._create(item)  # its file went between the scan and now
            return
        have = {
            str(m.extra[SOURCE_ID_KEY]) for m in conversation.messages if SOURCE_ID_KEY in m.extra
        }
        after = conversation.messages[-1].created if conversation.messages else item.created
        new = item.new_messages(have, after or conversation.created)
        conversation.extra[SOURCE_VERSION_KEY] = item.version
        if not new:
            # Same messages, another version (a rename in the source): recorded so the next
            # import needs no look inside.
            if not self.dry_run:
                self.store.save(conversation)
            self.summary.present += 1
            return
        conversation.messages.extend(new)
        conversation.updated = max(conversation.updated, new[-1].created)
        if not self.dry_run:
            self.store.save(conversation)
        self.summary.updated.append(
            Done(item.source_id, conversation.id, conversation.title, len(new))
        )

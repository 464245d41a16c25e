"""The conversation store: one TOML file per conversation, and nothing is ever silently lost.

* Every write is atomic (temp file, fsync, rename), files are 0600 in 0700 folders.
* The store remembers what it last read or wrote of each file. If the file changed on disk since
  (another tui-chat, an editor, `git pull`), a save merges appended messages, or else writes our
  version to a new "conflict copy" file and keeps theirs. A file that cannot be parsed is never
  overwritten.
* Deleting moves a file to `trash/`; only `empty_trash` unlinks.
* Two tui-chat processes on one folder take turns through an advisory lock (flock) around each
  check-then-write, so their saves cannot interleave.

The store is safe to call from several threads (the UI saves and lists from thread workers).
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tui_chat.domain.conversation import Conversation, new_conversation_id
from tui_chat.paths import AppPaths
from tui_chat.storage.atomic import atomic_write_bytes, make_private_dir, remove_stale_temp_files
from tui_chat.storage.attachments import ImageStore, referenced_hashes
from tui_chat.storage.errors import (
    ConversationFileError,
    ConversationNotFound,
    InvalidConversationId,
    StorageError,
)
from tui_chat.storage.index import (
    SUFFIX,
    ConversationEntry,
    ConversationIndex,
    Head,
    Progress,
    entry_for,
    parse_conversation_bytes,
    read_conversation,
    read_file_bytes,
    scan,
)
from tui_chat.storage.merge import merge_conversations

# SearchResult and StoreStats are what `search` and `stats` return; importable from here too.
from tui_chat.storage.search import SearchResult, StoreStats, search_conversations, stats_of
from tui_chat.storage.snapshot import Snapshot, digest
from tui_chat.storage.toml_write import conversation_to_toml
from tui_chat.storage.trash import (
    count_trashed,
    delete_trashed_files,
    find_trashed,
    move_out_of_trash,
    move_to_trash,
    trashed_entries,
)

try:
    import fcntl
except ImportError:  # Windows: no flock; saves are still atomic and conflict-checked
    fcntl = None  # type: ignore[assignment]

FILE_MODE = 0o600
DIR_MODE = 0o700
CONFLICT_SUFFIX = " (conflict copy)"
# A write takes milliseconds; a temp file this old was left by a process that was killed.
STALE_TEMP_SECONDS = 3600
_MAX_ID_BYTES = 200

SaveKind = Literal["saved", "unchanged", "merged", "conflict_copy", "recreated"]


def validate_id(conversation_id: str) -> str:
    """An id names a file in the conversations folder and nothing else: no path separators, no
    `..`, no NUL, not hidden. Raises InvalidConversationId."""
    if (
        not conversation_id
        or "/" in conversation_id
        or "\\" in conversation_id
        or "\x00" in conversation_id
        or ".." in conversation_id
        or conversation_id.startswith(".")
        or conversation_id != conversation_id.strip()
        or len(conversation_id.encode("utf-8", "surrogatepass")) > _MAX_ID_BYTES
    ):
        raise InvalidConversationId(conversation_id)
    return conversation_id


def id_typed_by_user(text: str) -> str:
    """The id in what a user typed: a file name is accepted too (`2026….toml`), as people copy
    it from `ls`. Raises InvalidConversationId."""
    return validate_id(text.removesuffix(SUFFIX))


@dataclass(frozen=True)
class EmptiedTrash:
    """What emptying the trash deleted: conversation files, and the images only they used."""

    conversations: int
    images: int


@dataclass(frozen=True)
class SaveOutcome:
    """What a save did. `message` is a sentence for the user, empty for an ordinary save.

    `saved` is what the file now holds: the conversation given to `save` itself, unless a merge
    or a conflict copy made another one (`changed`). The store never changes the conversation
    it is given, which may be in use on another thread: its owner applies `saved` to it.
    """

    kind: SaveKind
    conversation_id: str
    saved: Conversation
    message: str = ""
    conflict_copy_id: str | None = None

    @property
    def changed(self) -> bool:
        """The file holds another version than the one given: a merge or a conflict copy."""
        return self.kind in ("merged", "conflict_copy")


class ConversationStore:
    """Reads, writes, lists, searches and trashes the conversation files of one data folder."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        self.folder = paths.conversations_dir
        self.trash_folder = paths.trash_dir
        self._index = ConversationIndex(self.folder, paths.cache_dir / "index.jsonl")
        self._known: dict[str, Snapshot] = {}
        self._lock = threading.RLock()  # file reads and writes
        # The list has its own lock: a first, cold listing of thousands of files must not hold
        # up a save.
        self._index_lock = threading.Lock()
        self._last_scan: dict[str, tuple[int, int, int]] | None = None
        self._swept = False

    # ------------------------------------------------------------ paths

    def path_for(self, conversation_id: str) -> Path:
        return self.folder / f"{validate_id(conversation_id)}{SUFFIX}"

    def _ensure_folders(self) -> None:
        try:
            for folder in (self.folder, self.trash_folder):
                make_private_dir(folder, mode=DIR_MODE)
        except OSError as error:
            raise StorageError.from_os_error("create the folder", folder, error) from None
        if not self._swept:
            self._swept = True
            remove_stale_temp_files(self.folder, STALE_TEMP_SECONDS)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This thread, and this process against other tui-chat processes, hold the folder."""
        with self._lock:
            if fcntl is None:
                yield
                return
            lock_path = self.paths.cache_dir / "store.lock"
            try:
                make_private_dir(lock_path.parent, mode=DIR_MODE)
                handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            except OSError:
                yield  # a read-only cache folder: go on without the cross-process lock
                return
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield
            finally:
                os.close(handle)  # closing releases the lock

    # ------------------------------------------------------------ listing

    def list_entries(
        self, progress: Progress | None = None, head: Head | None = None
    ) -> list[ConversationEntry]:
        """Every conversation file, pinned first then most recent; broken files carry `error`.

        `progress(parsed, to_parse)` hears how a long first reading of the folder goes, and
        `head(entries, count)` gets the newest entries of it once, to show while it goes on.
        """
        with self._index_lock:
            entries = self._index.entries(progress, head)
            if self._last_scan is None:
                self._last_scan = dict(self._index.last_signatures)
            return entries

    def never_saved(self, conversation_id: str) -> bool:
        """No file of this id, here or in the trash: a conversation made in memory and not
        written yet (a fork not sent), not one deleted."""
        if self.path_for(conversation_id).exists():
            return False
        try:
            find_trashed(self.trash_folder, conversation_id)
        except ConversationNotFound:
            return True
        except (StorageError, OSError):
            pass  # a trash that cannot be read: not known to be new, so not written
        return False

    def most_recent(self) -> ConversationEntry | None:
        """The most recently updated conversation that can be read, found from the index cache
        and the files' modification times, parsing only the few files changed since
        (`tui-chat -c`, before the app starts)."""
        with self._index_lock:
            return self._index.most_recent()

    def cached_head(self, limit: int) -> tuple[list[ConversationEntry], int] | None:
        """The first `limit` entries of the list and the count of all, as last recorded, without
        reading the folder: what to draw at start-up while `list_entries` checks the files.
        None when nothing was recorded yet."""
        # No index lock: this reads the cache file (replaced atomically) and no shared state,
        # so it never waits behind a first listing of thousands of files.
        return self._index.cached_head(limit)

    def refresh(self) -> bool:
        """Cheap rescan (stat only): True if any file was added, changed or removed since the
        previous call. Poll this every few seconds to pick up other programs' edits."""
        with self._index_lock:
            current = dict(scan(self.folder))
            changed = self._last_scan is not None and current != self._last_scan
            self._last_scan = current
            return changed

    # ------------------------------------------------------------ reading

    def load(self, conversation_id: str) -> Conversation:
        """Read one conversation. Raises ConversationNotFound, ConversationFileError or
        StorageError."""
        path = self.path_for(conversation_id)
        with self._lock:
            conv, data = self._read(path, conversation_id)
            self._known[conversation_id] = Snapshot.of(data, conv)
            return conv

    def changed_elsewhere(self, conversation_id: str) -> bool:
        """True when the file no longer holds what this store last read or wrote of it: another
        program changed it. Compares contents, so an edit that keeps `updated` (a typo fixed in
        an editor) or lands in the same second counts too. False if never read here, or gone."""
        with self._lock:
            known = self._known.get(conversation_id)
            if known is None:
                return False
            try:
                data = read_file_bytes(self.path_for(conversation_id))
            except ConversationFileError:
                return True  # it grew too large to read: certainly not what we wrote
            except OSError:
                return False
            return digest(data) != known.digest

    def read_entry(self, conversation_id: str) -> tuple[Conversation, bytes]:
        """Parse a file without taking it as a base for later saves (for export and the CLI)."""
        path = self.path_for(conversation_id)
        try:
            return read_conversation(path)
        except FileNotFoundError:
            raise ConversationNotFound(conversation_id) from None
        except OSError as error:
            raise StorageError.from_os_error("read", path, error) from None

    def _read(self, path: Path, conversation_id: str) -> tuple[Conversation, bytes]:
        try:
            data = read_file_bytes(path)
        except FileNotFoundError:
            raise ConversationNotFound(conversation_id) from None
        except OSError as error:
            raise StorageError.from_os_error("read", path, error) from None
        return parse_conversation_bytes(data, path), data

    # ------------------------------------------------------------ saving

    def save(self, conversation: Conversation) -> SaveOutcome:
        """Write `conversation` to its file, never overwriting someone else's change.

        If the file changed on disk since this store read or wrote it, appended messages are
        merged (the outcome's `saved` is the merged result); otherwise our version goes to a new
        conflict-copy file (`saved` is that copy: its id and title differ) while theirs stays.
        `conversation` itself is left as it is. Raises StorageError when the disk refuses.
        """
        conversation_id = validate_id(conversation.id)
        with self._exclusive():
            self._ensure_folders()
            path = self.path_for(conversation_id)
            known = self._known.get(conversation_id)
            # Always compare contents, not just mtime and size: an editor that rewrites a file in
            # place within one clock tick keeps both.
            try:
                current: bytes | None = read_file_bytes(path)
            except FileNotFoundError:
                current = None
            except ConversationFileError as error:
                return self._conflict_copy(conversation, f"its file cannot be read ({error})")
            except OSError as error:
                raise StorageError.from_os_error("read", path, error) from None

            if current is None:
                kind: SaveKind = "recreated" if known is not None else "saved"
                self._write(path, conversation, None)
                message = (
                    f"“{conversation.display_title}” had been removed elsewhere; saved it again."
                    if known is not None
                    else ""
                )
                return SaveOutcome(kind, conversation_id, conversation, message)
            if known is not None and digest(current) == known.digest:
                return self._write_unless_same(path, conversation, current, known.digest)

            # Changed on disk since we read it (or never read by us): merge or keep both.
            try:
                theirs = parse_conversation_bytes(current, path)
            except ConversationFileError as error:
                return self._conflict_copy(conversation, f"its file cannot be read ({error})")
            # Merge a snapshot: the caller's thread may append a message (the reply it starts
            # streaming) while this save runs; the merged result is a new object, built from it.
            result = copy.copy(conversation)
            result.messages = list(conversation.messages)
            merged = merge_conversations(known.base if known else None, result, theirs)
            if merged is None:
                self._known[conversation_id] = Snapshot.of(current, theirs)
                return self._conflict_copy(result, "it was changed elsewhere too")
            adopted = [n for n, v in merged.fields.items() if getattr(result, n) != v]
            for name in adopted:
                setattr(result, name, merged.fields[name])
            result.messages = merged.messages
            result.created = merged.created
            result.updated = merged.updated
            self._write(path, result, current)
            title = result.display_title
            count = merged.theirs_added
            if count:
                plural = "message" if count == 1 else "messages"
                message = f"“{title}” was changed elsewhere; merged {count} {plural} from there."
            elif adopted:
                message = f"“{title}” was changed elsewhere; took its new {', '.join(adopted)}."
            else:
                message = ""
            return SaveOutcome("merged", conversation_id, result, message)

    def add_new(self, conversation: Conversation) -> None:
        """Write a conversation that has no file yet, for a bulk import of thousands.

        Unlike `save`, it is not remembered as a base for merges (an import holds none of them
        open, and remembering 10,000 would hold them all in memory) and not made durable one by
        one: call `sync()` once at the end. The index learns the entry without parsing the file
        again. Raises StorageError when the disk refuses or the id already has a file.
        """
        conversation_id = validate_id(conversation.id)
        data = conversation_to_toml(conversation).encode("utf-8")
        with self._exclusive():
            self._ensure_folders()
            path = self.path_for(conversation_id)
            if path.exists():
                raise StorageError(f"Could not save {path}: a file of that name exists.", path)
            try:
                atomic_write_bytes(path, data, mode=FILE_MODE, durable=False)
                with self._index_lock:
                    self._index.note_written(path, entry_for(conversation, path))
            except OSError as error:
                raise StorageError.from_os_error("save", path, error) from None

    def sync(self) -> None:
        """Make everything `add_new` wrote durable, at once (POSIX; elsewhere a no-op)."""
        if hasattr(os, "sync"):
            os.sync()

    def _write_unless_same(
        self, path: Path, conversation: Conversation, current: bytes, known_digest: str
    ) -> SaveOutcome:
        data = conversation_to_toml(conversation).encode("utf-8")
        if digest(data) == known_digest:
            self._remember(conversation, data)
            return SaveOutcome("unchanged", conversation.id, conversation)
        self._write(path, conversation, current, data)
        return SaveOutcome("saved", conversation.id, conversation)

    def _write(
        self,
        path: Path,
        conversation: Conversation,
        current: bytes | None,
        data: bytes | None = None,
    ) -> None:
        if data is None:
            data = conversation_to_toml(conversation).encode("utf-8")
        if data != current:
            try:
                # Through a symlink (a file kept in another folder or repository) to its target,
                # so the link stays a link.
                atomic_write_bytes(path.resolve(), data, mode=FILE_MODE)
            except OSError as error:
                raise StorageError.from_os_error("save", path, error) from None
        self._remember(conversation, data)

    def _remember(self, conversation: Conversation, data: bytes) -> None:
        self._known[conversation.id] = Snapshot.of(data, conversation)

    def _conflict_copy(self, conversation: Conversation, why: str) -> SaveOutcome:
        original_id = conversation.id
        original_title = conversation.display_title
        copy_id = new_conversation_id()
        while self.path_for(copy_id).exists():
            copy_id = new_conversation_id()
        title = conversation.title
        if not title.endswith(CONFLICT_SUFFIX):
            title = f"{original_title}{CONFLICT_SUFFIX}"
        copied = copy.copy(conversation)
        copied.id, copied.title, copied.messages = copy_id, title, list(conversation.messages)
        self._write(self.path_for(copy_id), copied, None)
        return SaveOutcome(
            "conflict_copy",
            original_id,
            copied,
            f"“{original_title}” was not overwritten because {why}; your version is saved "
            f"as “{copied.title}”.",
            conflict_copy_id=copy_id,
        )

    # ------------------------------------------------------------ trash

    def trash(self, conversation_id: str) -> str:
        """Move a conversation's file to the trash folder; returns its name there (its id, or
        `id~N` when the trash already holds that id)."""
        source = self.path_for(conversation_id)
        with self._exclusive():
            self._ensure_folders()
            if not source.exists():
                raise ConversationNotFound(conversation_id)
            name = move_to_trash(source, self.trash_folder, conversation_id)
            self._known.pop(conversation_id, None)
            return name

    def restore(self, trashed_id: str) -> str:
        """Move a trashed file back; returns the conversation id it has now. `trashed_id` is the
        name in the trash, or the original id (the latest trashed copy of it is restored)."""
        validate_id(trashed_id)
        with self._exclusive():
            source = find_trashed(self.trash_folder, trashed_id)
            self._ensure_folders()
            return move_out_of_trash(source, self.folder)

    def list_trash(self) -> list[ConversationEntry]:
        """Trashed conversations (id = name in the trash), most recently trashed first."""
        with self._lock:
            return trashed_entries(self.trash_folder)

    def count_trash(self) -> int:
        """How many conversations the trash holds (their files are not read)."""
        with self._lock:
            return count_trashed(self.trash_folder)

    def empty_trash(self) -> EmptiedTrash:
        """Delete every trashed file for good (the only place the store unlinks), then the
        attached images no conversation left, live or trashed, mentions."""
        with self._exclusive():
            conversations = delete_trashed_files(self.trash_folder)
            referenced = referenced_hashes((self.folder, self.trash_folder))
            images = ImageStore(self.paths.attachments_dir).remove_unreferenced(referenced)
            return EmptiedTrash(conversations, images)

    # ------------------------------------------------------------ search and stats

    def search(self, query: str, limit: int = 200) -> list[SearchResult]:
        """The conversations whose title or messages contain `query` (case-insensitive), newest
        first, one result per conversation with each of its hits. Reads raw file text first and
        parses only files that contain the query."""
        return search_conversations(self.list_entries, query, limit)

    def stats(self) -> StoreStats:
        """Counts, tokens and all-time spend, from the files (through the index)."""
        return stats_of(self.list_entries())

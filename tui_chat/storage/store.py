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
import dataclasses
import errno
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tui_chat.domain.conversation import Conversation, Message, new_conversation_id
from tui_chat.paths import AppPaths
from tui_chat.storage.atomic import atomic_write_bytes, make_private_dir, remove_stale_temp_files
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
    Progress,
    entry_from_file,
    parse_conversation_bytes,
    read_conversation,
    read_file_bytes,
    scan,
)
from tui_chat.storage.merge import merge_conversations
from tui_chat.storage.toml_format import conversation_to_toml

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
_TRASH_CLASH = re.compile(r"^(?P<id>.+)~(?P<n>\d+)$")

SaveKind = Literal["saved", "unchanged", "merged", "conflict_copy", "recreated"]


def detached_copy(conversation: Conversation) -> Conversation:
    """A copy the caller's later edits cannot reach, for merging against later.

    Shallow where that is safe (strings, datetimes and Usage are replaced, never changed in
    place): a deep copy of a 2,000-message conversation took 25 ms of every save, this ~3 ms.
    """
    return dataclasses.replace(
        conversation,
        tags=list(conversation.tags),
        extra=copy.deepcopy(conversation.extra),
        messages=[
            dataclasses.replace(message, extra=copy.deepcopy(message.extra))
            for message in conversation.messages
        ],
    )


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


@dataclass(frozen=True)
class SaveOutcome:
    """What a save did. `message` is a sentence for the user, empty for an ordinary save."""

    kind: SaveKind
    conversation_id: str
    message: str = ""
    conflict_copy_id: str | None = None


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
    spend_usd: float
    unknown_cost_replies: int
    broken_files: int


@dataclass
class _Snapshot:
    """What this store last read or wrote of one file: its hash (to tell it changed) and the
    base for a three-way merge."""

    digest: str
    base: Conversation


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ConversationStore:
    """Reads, writes, lists, searches and trashes the conversation files of one data folder."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        self.folder = paths.conversations_dir
        self.trash_folder = paths.trash_dir
        self._index = ConversationIndex(self.folder, paths.cache_dir / "index.jsonl")
        self._known: dict[str, _Snapshot] = {}
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

    def list_entries(self, progress: Progress | None = None) -> list[ConversationEntry]:
        """Every conversation file, pinned first then most recent; broken files carry `error`.

        `progress(parsed, to_parse)` hears how a long first reading of the folder goes.
        """
        with self._index_lock:
            entries = self._index.entries(progress)
            if self._last_scan is None:
                self._last_scan = dict(self._index.last_signatures)
            return entries

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
            self._known[conversation_id] = _Snapshot(_digest(data), detached_copy(conv))
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
            return _digest(data) != known.digest

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
        merged (and `conversation` is updated in place to the merged result); otherwise our
        version goes to a new conflict-copy file (and `conversation` becomes that copy: its id and
        title change) while theirs stays. Raises StorageError when the disk refuses.
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
                return SaveOutcome(kind, conversation_id, message)
            if known is not None and _digest(current) == known.digest:
                return self._write_unless_same(path, conversation, current, known.digest)

            # Changed on disk since we read it (or never read by us): merge or keep both.
            try:
                theirs = parse_conversation_bytes(current, path)
            except ConversationFileError as error:
                return self._conflict_copy(conversation, f"its file cannot be read ({error})")
            # Merge a snapshot: the UI may append a message (the reply it starts streaming)
            # while this save runs in a thread, and that message must survive the merge.
            ours = copy.copy(conversation)
            ours.messages = list(conversation.messages)
            merged = merge_conversations(known.base if known else None, ours, theirs)
            if merged is None:
                self._known[conversation_id] = _Snapshot(_digest(current), detached_copy(theirs))
                return self._conflict_copy(conversation, "it was changed elsewhere too")
            adopted = [n for n, v in merged.fields.items() if getattr(conversation, n) != v]
            for name in adopted:
                setattr(conversation, name, merged.fields[name])
            conversation.messages[:] = merged.messages + _appended_since(conversation, ours)
            conversation.created = merged.created
            conversation.updated = merged.updated
            self._write(path, conversation, current)
            title = conversation.display_title
            count = merged.theirs_added
            if count:
                plural = "message" if count == 1 else "messages"
                message = f"“{title}” was changed elsewhere; merged {count} {plural} from there."
            elif adopted:
                message = f"“{title}” was changed elsewhere; took its new {', '.join(adopted)}."
            else:
                message = ""
            return SaveOutcome("merged", conversation_id, message)

    def _write_unless_same(
        self, path: Path, conversation: Conversation, current: bytes, digest: str
    ) -> SaveOutcome:
        data = conversation_to_toml(conversation).encode("utf-8")
        if _digest(data) == digest:
            self._remember(conversation, data)
            return SaveOutcome("unchanged", conversation.id)
        self._write(path, conversation, current, data)
        return SaveOutcome("saved", conversation.id)

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
        self._known[conversation.id] = _Snapshot(_digest(data), detached_copy(conversation))

    def _conflict_copy(self, conversation: Conversation, why: str) -> SaveOutcome:
        original_id = conversation.id
        original_title = conversation.display_title
        copy_id = new_conversation_id()
        while self.path_for(copy_id).exists():
            copy_id = new_conversation_id()
        previous_title = conversation.title
        conversation.id = copy_id
        if not conversation.title.endswith(CONFLICT_SUFFIX):
            conversation.title = f"{original_title}{CONFLICT_SUFFIX}"
        try:
            self._write(self.path_for(copy_id), conversation, None)
        except StorageError:
            conversation.id, conversation.title = original_id, previous_title
            raise
        return SaveOutcome(
            "conflict_copy",
            original_id,
            f"“{original_title}” was not overwritten because {why}; your version is saved "
            f"as “{conversation.title}”.",
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
            target = self._free_name(self.trash_folder, conversation_id)
            self._move(source, target, "move to the trash")
            self._known.pop(conversation_id, None)
            return target.stem

    def restore(self, trashed_id: str) -> str:
        """Move a trashed file back; returns the conversation id it has now. `trashed_id` is the
        name in the trash, or the original id (the latest trashed copy of it is restored)."""
        validate_id(trashed_id)
        with self._exclusive():
            source = self._trashed_file(trashed_id)
            match = _TRASH_CLASH.match(source.stem)
            wanted = match.group("id") if match else source.stem
            target = self._free_name(self.folder, wanted)
            self._ensure_folders()
            self._move(source, target, "restore")
            return target.stem

    def _trashed_file(self, trashed_id: str) -> Path:
        exact = self.trash_folder / f"{trashed_id}{SUFFIX}"
        if exact.exists():
            return exact
        clashes = [
            self.trash_folder / name
            for name, _ in scan(self.trash_folder)
            if (m := _TRASH_CLASH.match(name[: -len(SUFFIX)])) and m.group("id") == trashed_id
        ]
        if not clashes:
            raise ConversationNotFound(trashed_id, "the trash")
        return max(clashes, key=lambda p: p.stat().st_ctime_ns)

    def list_trash(self) -> list[ConversationEntry]:
        """Trashed conversations (id = name in the trash), most recently trashed first."""
        with self._lock:
            found = [
                (sig, entry_from_file(self.trash_folder / n)) for n, sig in scan(self.trash_folder)
            ]
        ctimes = {}
        for _, entry in found:
            with contextlib.suppress(OSError):
                ctimes[entry.id] = entry.path.stat().st_ctime_ns
        return sorted((e for _, e in found), key=lambda e: -ctimes.get(e.id, 0))

    def empty_trash(self) -> int:
        """Delete every trashed file for good (the only place the store unlinks); returns how
        many."""
        removed = 0
        with self._exclusive():
            for name, _ in list(scan(self.trash_folder)):
                path = self.trash_folder / name
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                except OSError as error:
                    raise StorageError.from_os_error("delete", path, error) from None
                removed += 1
        return removed

    @staticmethod
    def _free_name(folder: Path, conversation_id: str) -> Path:
        target = folder / f"{conversation_id}{SUFFIX}"
        number = 2
        while target.exists():
            target = folder / f"{conversation_id}~{number}{SUFFIX}"
            number += 1
        return target

    @staticmethod
    def _move(source: Path, target: Path, action: str) -> None:
        try:
            # link + unlink never replaces a file that appeared at `target` meanwhile.
            os.link(source, target)
            os.unlink(source)
        except FileExistsError:
            raise StorageError(
                f"Could not {action} {source}: {target} appeared meanwhile."
            ) from None
        except OSError as link_error:
            if not target.exists() and source.exists() and link_error.errno in _NO_LINKS:
                try:
                    os.rename(source, target)  # file systems without hard links (FAT, some NAS)
                    return
                except OSError as error:
                    raise StorageError.from_os_error(action, source, error) from None
            raise StorageError.from_os_error(action, source, link_error) from None

    # ------------------------------------------------------------ search and stats

    def search(self, query: str, limit: int = 200) -> list[SearchHit]:
        """Messages and titles containing `query` (case-insensitive), most recent conversations
        first. Reads raw file text first and parses only files that contain the query."""
        query = query.strip()
        if not query:
            return []
        pattern = re.compile(re.escape(query), re.IGNORECASE)
        # Text with quotes, backslashes or control characters may be escaped in the file, so the
        # raw-text shortcut would miss it: such queries parse every file.
        raw_ok = not any(ch in '"\\' or ord(ch) < 32 or ord(ch) == 127 for ch in query)
        hits: list[SearchHit] = []
        for entry in self.list_entries():
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
                hits.append(
                    SearchHit(conv.id, conv.display_title, None, _snippet(conv.title, pattern))
                )
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

    def stats(self) -> StoreStats:
        """Counts, tokens and all-time spend, from the files (through the index)."""
        entries = self.list_entries()
        good = [e for e in entries if e.error is None]
        return StoreStats(
            conversations=len(good),
            messages=sum(e.message_count for e in good),
            total_tokens=sum(e.total_tokens for e in good),
            spend_usd=sum(e.cost_usd for e in good),
            unknown_cost_replies=sum(e.unknown_cost_count for e in good),
            broken_files=len(entries) - len(good),
        )

    def total_spend(self) -> float:
        """All-time spend in US dollars recorded in the files (unknown prices excluded)."""
        return self.stats().spend_usd

    def read_entry(self, conversation_id: str) -> tuple[Conversation, bytes]:
        """Parse a file without taking it as a base for later saves (for export and the CLI)."""
        path = self.path_for(conversation_id)
        try:
            return read_conversation(path)
        except FileNotFoundError:
            raise ConversationNotFound(conversation_id) from None
        except OSError as error:
            raise StorageError.from_os_error("read", path, error) from None


_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP}


def _appended_since(conversation: Conversation, snapshot: Conversation) -> list[Message]:
    """Messages another thread appended to `conversation` after `snapshot` was taken."""
    now = list(conversation.messages)
    before = snapshot.messages
    if len(now) <= len(before) or any(a is not b for a, b in zip(now, before, strict=False)):
        return []
    return now[len(before) :]


def _snippet(text: str, pattern: re.Pattern[str], width: int = 80) -> str:
    """One line around the first match, with … where text was cut."""
    match = pattern.search(text)
    start = match.start() if match else 0
    begin = max(0, start - width // 3)
    end = min(len(text), begin + width)
    snippet = " ".join(text[begin:end].split())
    return ("…" if begin > 0 else "") + snippet + ("…" if end < len(text) else "")

"""The conversation list, kept cheap: a rebuildable JSON cache of each file's metadata.

Listing 10,000 conversations must not parse 10,000 files at every start. The cache maps a file name
to its (mtime_ns, size, inode) and the few fields the sidebar shows. A file whose stat still matches
is not read again. The cache is only ever an optimisation: deleting it loses nothing, a corrupt one
is ignored, and a read-only cache folder just means files are parsed again next start.

A rewrite can keep the same size and land in the same mtime tick (file systems stamp times with a
coarse clock), so an entry read less than `RACY_SECONDS` after its mtime is checked again next time
(the trick git uses for its index).

The cache is JSON Lines in list order (a header line, then one line per file, pinned first, newest
first), so the head of the list can be drawn from its first lines at start-up (`cached_head`)
before the folder is checked: 0.005 s for 300 of 10,000 entries, against 0.2 s for all of them.
With no cache (a synced folder on a new machine), files are parsed most recently modified first
and the head of the list is handed over after the first HEAD_FILES, so it can be shown while the
rest is read (~1 ms a file): a guess at the head, exact once every file is read.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_chat.domain.conversation import Conversation, Spend
from tui_chat.storage.atomic import atomic_write_text, make_private_dir
from tui_chat.storage.errors import ConversationFileError, StorageError
from tui_chat.storage.toml_read import conversation_from_toml

INDEX_FORMAT = 2
RACY_SECONDS = 2.0
SUFFIX = ".toml"
# Far above any real conversation (a 50 MB one reads in half a second), far below what would
# exhaust memory.
MAX_FILE_BYTES = 256_000_000

Signature = tuple[int, int, int]  # (mtime_ns, size, inode)
Progress = Callable[[int, int], None]  # (files parsed so far, files to parse)
PROGRESS_EVERY = 250  # files; parsing one takes ~0.5 ms, so about every eighth of a second
# (the newest entries parsed, files in the folder): what to show while the rest is read
Head = Callable[[list["ConversationEntry"], int], None]
# More than a screenful of the list: the newest of a long first reading, shown before the rest.
HEAD_FILES = 100


@dataclass(frozen=True)
class ConversationEntry:
    """What the list of conversations shows about one file, without the messages."""

    id: str
    path: Path
    title: str
    updated: datetime | None
    model: str
    profile: str
    message_count: int
    pinned: bool
    tags: tuple[str, ...] = ()
    error: str | None = None  # file, line and reason, for a file that cannot be read
    created: datetime | None = None
    total_tokens: int = 0
    cost_usd: float = 0.0  # the replies whose price was known
    unknown_cost_count: int = 0  # assistant replies with no known price

    @property
    def display_title(self) -> str:
        return self.title or ("New conversation" if self.error is None else self.id)

    @property
    def spend(self) -> Spend:
        """What this conversation's replies cost, as recorded when its file was read."""
        return Spend(self.cost_usd, self.unknown_cost_count)


def read_file_bytes(path: Path) -> bytes:
    """A conversation file's bytes, refusing one too large to be a conversation (a symlink to a
    disk image, a log that grew without bound) before reading it into memory.

    Raises OSError (e.g. FileNotFoundError) or ConversationFileError.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        # Some files (/proc, pipes behind a symlink) report no size: the read is capped too.
        data = handle.read(MAX_FILE_BYTES + 1) if size <= MAX_FILE_BYTES else b""
    if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
        shown = max(size, len(data))
        raise ConversationFileError(
            path,
            None,
            f"is {shown / 1e6:,.0f} MB, more than the {MAX_FILE_BYTES / 1e6:,.0f} MB a "
            "conversation file may be",
        )
    return data


def read_conversation(path: Path) -> tuple[Conversation, bytes]:
    """Read and parse one file. Raises OSError (e.g. FileNotFoundError) or ConversationFileError."""
    data = read_file_bytes(path)
    return parse_conversation_bytes(data, path), data


def parse_conversation_bytes(data: bytes, path: Path) -> Conversation:
    """Decode and parse a file's bytes; text that is not UTF-8 is reported with its line.

    A byte-order mark (some Windows editors add one) is skipped: tomllib would reject it.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConversationFileError(path, line, "is not UTF-8 text") from None
    return conversation_from_toml(text, path)


def entry_for(conv: Conversation, path: Path) -> ConversationEntry:
    """The list entry of a parsed conversation."""
    spend = conv.spend
    return ConversationEntry(
        id=conv.id,
        path=path,
        title=conv.title,
        updated=conv.updated,
        model=conv.model,
        profile=conv.profile,
        message_count=len(conv.messages),
        pinned=conv.pinned,
        tags=tuple(conv.tags),
        created=conv.created,
        total_tokens=conv.total_tokens,
        cost_usd=spend.known_usd,
        unknown_cost_count=spend.unknown_replies,
    )


def entry_for_broken(path: Path, error: ConversationFileError | OSError) -> ConversationEntry:
    """A file that cannot be read is still listed (by file name and date) with its error."""
    try:
        updated: datetime | None = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        updated = None
    reason = str(error) if isinstance(error, ConversationFileError) else f"{path}: {error}"
    return ConversationEntry(
        id=path.stem,
        path=path,
        title="",
        updated=updated,
        model="",
        profile="",
        message_count=0,
        pinned=False,
        error=reason,
    )


def entry_from_file(path: Path) -> ConversationEntry:
    """Parse `path` into its entry; never raises for a broken file."""
    try:
        conv, _ = read_conversation(path)
    except ConversationFileError as error:
        return entry_for_broken(path, error)
    except OSError as error:
        return entry_for_broken(path, error)
    return entry_for(conv, path)


def scan(folder: Path) -> Iterator[tuple[str, Signature]]:
    """(file name, signature) of each conversation file; temp and hidden files are skipped.

    A missing folder holds no files yet; an unreadable one raises StorageError.
    """
    try:
        iterator = os.scandir(folder)
    except FileNotFoundError:
        return
    except OSError as error:
        raise StorageError.from_os_error("list", folder, error) from None
    with iterator:
        for item in iterator:
            if not item.name.endswith(SUFFIX) or item.name.startswith("."):
                continue
            try:
                info = item.stat()
            except FileNotFoundError:
                continue  # removed while we looked
            if not stat.S_ISREG(info.st_mode):
                continue
            yield item.name, (info.st_mtime_ns, info.st_size, info.st_ino)


@dataclass
class _Cached:
    signature: Signature
    checked_ns: int
    entry: ConversationEntry
    line: str | None = None  # its cache line, made once: rewriting 10,000 lines must be cheap

    def still_valid(self, signature: Signature) -> bool:
        return _unchanged(self.signature, self.checked_ns, signature)


def _unchanged(recorded: Signature, checked_ns: int, signature: Signature) -> bool:
    """A file recorded with `recorded` at `checked_ns` still holds that: same signature, and
    not modified within RACY_SECONDS of the check (a write in the same tick would not show)."""
    racy = checked_ns - recorded[0] < RACY_SECONDS * 1e9
    return signature == recorded and not racy


def recency(entry: ConversationEntry) -> tuple[bool, float]:
    """Sort key: the most recently updated last (files with no date first)."""
    return (entry.updated is not None, entry.updated.timestamp() if entry.updated else 0.0)


def _newer(entry: ConversationEntry, best: ConversationEntry | None) -> ConversationEntry | None:
    """`entry` if it can be read and was updated after `best`, else `best`."""
    if entry.error or (best is not None and recency(entry) <= recency(best)):
        return best
    return entry


def _written_before(mtime_ns: int, best: ConversationEntry | None) -> bool:
    """A file last modified at `mtime_ns` was written before `best` was updated."""
    return (
        best is not None and best.updated is not None and mtime_ns < best.updated.timestamp() * 1e9
    )


def _in_list_order(files: Iterable[tuple[str, _Cached]]) -> list[tuple[str, _Cached]]:
    """Pinned first, then the most recently updated; within one second (timestamps are whole
    seconds) the newer id first, since ids start with their creation time."""

    def recency(file: tuple[str, _Cached]) -> tuple[bool, float]:
        entry = file[1].entry
        return (not entry.pinned, -(entry.updated.timestamp() if entry.updated else 0.0))

    # Two stable sorts: the second keeps the first's order among equals.
    by_id = sorted(files, key=lambda file: file[1].entry.id, reverse=True)
    return sorted(by_id, key=recency)


@dataclass
class ConversationIndex:
    """The entries of every file in a folder, re-parsing only files that changed."""

    folder: Path
    cache_file: Path
    _cached: dict[str, _Cached] = field(default_factory=dict)
    _loaded: bool = False
    last_signatures: dict[str, Signature] = field(default_factory=dict)
    # Files the store just wrote, with the entries of what it wrote: not parsed again while
    # their signature still matches (an import of 10,000 files would re-read them all).
    _written: dict[str, tuple[Signature, ConversationEntry]] = field(default_factory=dict)

    def note_written(self, path: Path, entry: ConversationEntry) -> None:
        """The store wrote `entry`'s conversation to `path` just now."""
        info = path.stat()
        self._written[path.name] = ((info.st_mtime_ns, info.st_size, info.st_ino), entry)

    def entries(
        self, progress: Progress | None = None, head: Head | None = None
    ) -> list[ConversationEntry]:
        """All entries, pinned first then most recent; writes the cache when it changed.

        When there are more than PROGRESS_EVERY files to parse (a first start on a synced
        folder of thousands of files), `progress(parsed, to_parse)` is called every
        PROGRESS_EVERY files parsed, and `head(entries, count)` once, with the entries known
        after the HEAD_FILES most recently modified files are parsed (files are parsed newest
        first) and the count of all files: the list to show while the rest is read.
        """
        dirty = False
        if not self._loaded:
            from_cache = self._read_cache()
            dirty = from_cache is None  # written even when empty: an empty list is worth drawing
            self._cached = from_cache or {}
            self._loaded = True
        seen: dict[str, _Cached] = {}
        stale: list[tuple[str, Signature]] = []
        for name, signature in scan(self.folder):
            cached = self._cached.get(name)
            if cached is None or not cached.still_valid(signature):
                stale.append((name, signature))
            else:
                seen[name] = cached
        written, self._written = self._written, {}
        # Newest first by modification time (already known from the scan), so that the head of
        # a long reading is most likely the head of the list; the id breaks ties, as in the list.
        stale.sort(key=lambda file: (file[1][0], file[0]), reverse=True)
        long_reading = len(stale) > PROGRESS_EVERY
        count = len(seen) + len(stale)
        parsed = 0
        for name, signature in stale:
            checked_ns = time.time_ns()
            known = written.get(name)
            if known is not None and known[0] == signature:
                # Checked now, like a parse: one written within RACY_SECONDS of now is parsed
                # again next time, as any other.
                seen[name] = _Cached(signature, checked_ns, known[1])
                continue
            seen[name] = _Cached(signature, checked_ns, entry_from_file(self.folder / name))
            parsed += 1
            if not long_reading:
                continue
            if head is not None and parsed == HEAD_FILES:
                head([cached.entry for _, cached in _in_list_order(seen.items())], count)
            if progress is not None and parsed % PROGRESS_EVERY == 0:
                progress(parsed, len(stale))
        dirty = dirty or bool(stale)
        if set(seen) != set(self._cached):
            dirty = True
        self._cached = dict(_in_list_order(seen.items()))
        self.last_signatures = {name: cached.signature for name, cached in seen.items()}
        if dirty:
            self._write_cache()
        return [cached.entry for cached in self._cached.values()]

    def most_recent(self) -> ConversationEntry | None:
        """The most recently updated conversation that can be read (`tui-chat -c`), without
        reading the folder: the cache tells of unchanged files; of the others, most recently
        modified first, those written after the best found so far (a file's `updated` is
        never later than its last write) are parsed, at most HEAD_FILES of them. With no cache
        that is the newest of the most recently modified, as a first start shows them. Writes
        no cache."""
        signatures = dict(scan(self.folder))
        best, unchanged = self._newest_in_cache(signatures)
        changed = [(name, sig) for name, sig in signatures.items() if name not in unchanged]
        changed.sort(key=lambda file: (file[1][0], file[0]), reverse=True)
        for name, (mtime_ns, _, _) in changed[:HEAD_FILES]:
            if _written_before(mtime_ns, best):
                break  # and so updated before it too, as are all the files after it
            best = _newer(entry_from_file(self.folder / name), best)
        return best

    def _newest_in_cache(
        self, signatures: dict[str, Signature]
    ) -> tuple[ConversationEntry | None, set[str]]:
        """The newest readable entry the cache holds of an unchanged file, and the files it
        showed unchanged. The cache is in list order (pinned, then most recently updated), so
        the first unpinned one is the newest of its kind: past it, lines are read only while a
        file modified after that one was updated is not accounted for yet (after an import of
        old conversations, all of them)."""
        best: ConversationEntry | None = None
        unchanged: set[str] = set()
        unknown: set[str] | None = None  # files that might be newer, once the head is read
        try:
            with open(self.cache_file, encoding="utf-8") as lines:
                if not self._is_our_header(json.loads(lines.readline())):
                    return None, unchanged
                for line in lines:
                    try:
                        name, recorded, checked_ns = _recorded_signature(line)
                        signature = signatures.get(name)
                        if signature is None or not _unchanged(recorded, checked_ns, signature):
                            continue  # gone, or changed since: its line says nothing now
                        # The whole entry only for the head: 10,000 of them take 0.3 s.
                        entry = (
                            _cached_from_line(self.folder, line)[1].entry
                            if unknown is None
                            else None
                        )
                    except (KeyError, TypeError, ValueError):
                        continue  # one odd line: its file is parsed if it matters
                    unchanged.add(name)
                    if entry is not None:
                        best = _newer(entry, best)
                        if entry.pinned or entry.error:
                            continue
                        unknown = {
                            other
                            for other, (mtime_ns, _, _) in signatures.items()
                            if not _written_before(mtime_ns, best)
                        }
                        unknown -= unchanged
                    elif unknown is not None:
                        unknown.discard(name)
                    if unknown is not None and not unknown:
                        break
        except (OSError, ValueError):
            pass  # missing or corrupt: only a cache, the files tell the rest
        return best, unchanged

    def cached_head(self, limit: int) -> tuple[list[ConversationEntry], int] | None:
        """The first `limit` entries and the count of all, as the cache last recorded them,
        without looking at the folder: instant, and possibly out of date until `entries()` has
        checked the files. None when there is no usable cache."""
        head: list[ConversationEntry] = []
        try:
            with open(self.cache_file, encoding="utf-8") as lines:
                header = json.loads(lines.readline())
                if not self._is_our_header(header):
                    return None
                for _name, cached in self._usable(lines):
                    if len(head) >= limit:
                        break
                    head.append(cached.entry)
            return head, int(header["count"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, corrupt or half-written by an older version: only a cache

    def _usable(self, lines: Iterable[str]) -> Iterator[tuple[str, _Cached]]:
        """The cache's entry lines that parse; one odd line is re-read from its file later, the
        rest still count."""
        for line in lines:
            try:
                yield _cached_from_line(self.folder, line)
            except (KeyError, TypeError, ValueError):
                continue

    def _is_our_header(self, header: object) -> bool:
        return (
            isinstance(header, dict)
            and header.get("format") == INDEX_FORMAT
            and header.get("folder") == str(self.folder)
        )

    def _read_cache(self) -> dict[str, _Cached] | None:
        """The cached entries; None when there is no usable cache."""
        try:
            with open(self.cache_file, encoding="utf-8") as file:
                lines = file.read().splitlines()
            header = json.loads(lines[0]) if lines else None
        except (OSError, ValueError):
            return None  # missing or corrupt: it is only a cache, rebuild it
        if not self._is_our_header(header):
            return None
        return dict(self._usable(lines[1:]))

    def _write_cache(self) -> None:
        """Header, then one line per file in list order (`_cached` is kept in that order)."""
        header = {"format": INDEX_FORMAT, "folder": str(self.folder), "count": len(self._cached)}
        lines = [json.dumps(header, separators=(",", ":"))]
        lines.extend(_cache_line(name, cached) for name, cached in self._cached.items())
        try:
            make_private_dir(self.cache_file.parent)
            atomic_write_text(self.cache_file, "\n".join(lines) + "\n")
            # The format-1 cache of earlier versions (one JSON document) is not read any more.
            self.cache_file.with_name("index.json").unlink(missing_ok=True)
        except OSError:
            # The cache only saves time; a read-only or full disk must not stop the list.
            pass


def _cache_line(name: str, cached: _Cached) -> str:
    if cached.line is None:
        entry = {f.name: getattr(cached.entry, f.name) for f in fields(ConversationEntry)}
        entry.pop("path")
        entry["tags"] = list(cached.entry.tags)
        for key in ("updated", "created"):
            moment = entry[key]
            entry[key] = moment.isoformat() if moment is not None else None
        item = {
            "file": name,
            "sig": list(cached.signature),
            "checked_ns": cached.checked_ns,
            "entry": entry,
        }
        cached.line = json.dumps(item, separators=(",", ":"))
    return cached.line


def _cached_from_line(folder: Path, line: str) -> tuple[str, _Cached]:
    item = json.loads(line)
    name = item["file"]
    if not isinstance(name, str) or not name.endswith(SUFFIX) or "/" in name or os.sep in name:
        raise ValueError(f"not a file name: {name!r}")  # the cache must not point elsewhere
    cached = _cached_from_json(folder / name, item)
    cached.line = line.rstrip("\n")  # written back as read while the file is unchanged
    return name, cached


def _recorded_signature(line: str) -> tuple[str, Signature, int]:
    """A cache line's file name, signature and time of check, without its entry."""
    item = json.loads(line)
    mtime_ns, size, inode = (int(n) for n in item["sig"])
    return str(item["file"]), (mtime_ns, size, inode), int(item["checked_ns"])


def _cached_from_json(path: Path, item: dict[str, Any]) -> _Cached:
    raw = dict(item["entry"])
    for key in ("updated", "created"):
        raw[key] = datetime.fromisoformat(raw[key]) if raw.get(key) else None
    raw["tags"] = tuple(raw.get("tags", ()))
    entry = ConversationEntry(path=path, **raw)
    mtime_ns, size, inode = (int(n) for n in item["sig"])
    return _Cached((mtime_ns, size, inode), int(item["checked_ns"]), entry)

"""The conversation store: files on disk are the truth, and nobody's work is silently lost."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from tui_chat.domain.conversation import Conversation, Message, Usage
from tui_chat.paths import AppPaths
from tui_chat.storage.errors import (
    ConversationFileError,
    ConversationNotFound,
    InvalidConversationId,
    StorageError,
)
from tui_chat.storage.merge import merge_conversations
from tui_chat.storage.search import conversation_hits
from tui_chat.storage.store import ConversationStore
from tui_chat.storage.toml_write import conversation_to_toml

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")


@pytest.fixture
def store(paths: AppPaths) -> ConversationStore:
    return ConversationStore(paths)


def make_conversation(cid: str = "20261124-013000-a1b2", title: str = "Fibonacci", n: int = 2):
    conv = Conversation(id=cid, title=title, created=T0, updated=T0)
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        conv.messages.append(Message(role, f"message {i}", created=T0 + timedelta(seconds=i)))
    return conv


def age_files(folder: Path, seconds: float = 3600) -> None:
    """Make files look written a while ago (as real conversations mostly are)."""
    past = time.time() - seconds
    for path in folder.glob("*.toml"):
        os.utime(path, (past, past))


def test_saved_conversation_loads_back_equal(store: ConversationStore) -> None:
    conv = make_conversation()
    conv.messages[1].usage = Usage(25, 40)
    conv.messages[1].cost_usd = 0.0000277
    outcome = store.save(conv)
    assert outcome.kind == "saved"
    assert outcome.message == ""
    assert ConversationStore(store.paths).load(conv.id) == conv


def test_files_are_private_to_the_user(store: ConversationStore, paths: AppPaths) -> None:
    store.save(make_conversation())
    path = paths.conversations_dir / "20261124-013000-a1b2.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.conversations_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.data_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize("bad", ["../escape", "a/b", "x\x00y", "..", ".hidden", "", " padded"])
def test_ids_that_could_escape_the_folder_are_refused(store: ConversationStore, bad: str) -> None:
    with pytest.raises(InvalidConversationId):
        store.load(bad)
    with pytest.raises(InvalidConversationId):
        store.save(Conversation(id=bad))
    with pytest.raises(InvalidConversationId):
        store.trash(bad)
    assert not (store.paths.data_dir.parent / "escape.toml").exists()


def test_title_never_decides_the_file_name(store: ConversationStore, paths: AppPaths) -> None:
    conv = make_conversation(title="../../etc/passwd")
    store.save(conv)
    assert [p.name for p in paths.conversations_dir.iterdir()] == [f"{conv.id}.toml"]


def test_list_shows_pinned_first_then_most_recent(store: ConversationStore) -> None:
    old = make_conversation("old", "Old")
    new = make_conversation("new", "New")
    new.updated = T0 + timedelta(days=1)
    pinned = make_conversation("pinned", "Pinned")
    pinned.pinned = True
    pinned.updated = T0 - timedelta(days=9)
    for conv in (old, new, pinned):
        store.save(conv)
    entries = store.list_entries()
    assert [e.id for e in entries] == ["pinned", "new", "old"]
    assert entries[1].title == "New"
    assert entries[1].message_count == 2
    assert entries[1].model == "gpt-4o-mini"
    assert entries[1].error is None


def test_broken_file_is_listed_with_its_error_and_never_rewritten(
    store: ConversationStore, paths: AppPaths
) -> None:
    store.save(make_conversation("good"))
    broken = paths.conversations_dir / "broken.toml"
    original = b'schema = 1\ntitle = "half written\n'
    broken.write_bytes(original)
    entries = {e.id: e for e in store.list_entries()}
    assert entries["broken"].error is not None
    assert "broken.toml, line 2" in entries["broken"].error
    with pytest.raises(ConversationFileError):
        store.load("broken")
    # Saving over it keeps it as it is and puts our version in a copy.
    outcome = store.save(make_conversation("broken", "Mine"))
    assert outcome.kind == "conflict_copy"
    assert "cannot be read" in outcome.message
    assert broken.read_bytes() == original
    copy = store.load(outcome.conflict_copy_id or "")
    assert copy.title == "Mine (conflict copy)"


def test_unknown_schema_is_listed_as_an_error(store: ConversationStore, paths: AppPaths) -> None:
    paths.conversations_dir.mkdir(parents=True)
    (paths.conversations_dir / "future.toml").write_text("schema = 2\n")
    (entry,) = store.list_entries()
    assert entry.error is not None and "schema 2" in entry.error


def test_index_cache_spares_parsing_unchanged_files(
    store: ConversationStore, paths: AppPaths
) -> None:
    for n in range(30):
        store.save(make_conversation(f"c{n:02d}", f"Title {n}"))
    age_files(paths.conversations_dir)
    first = store.list_entries()
    # A new start (a new store, same folder) reads the cache and parses nothing: a file whose
    # bytes changed behind an unchanged size, time and inode still lists as it was cached.
    path = store.path_for("c05")
    text, stat = path.read_bytes(), path.stat()
    with path.open("r+b") as file:
        file.write(b"#" * len(text))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ConversationStore(paths).list_entries() == first
    with path.open("r+b") as file:  # the real bytes back, for what follows
        file.write(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # Deleting the cache loses nothing; a corrupt cache is ignored.
    (paths.cache_dir / "index.jsonl").unlink()
    assert ConversationStore(paths).list_entries() == first
    (paths.cache_dir / "index.jsonl").write_text("{not json")
    assert ConversationStore(paths).list_entries() == first


def test_cached_head_is_the_list_as_last_recorded_without_reading_the_folder(
    store: ConversationStore, paths: AppPaths
) -> None:
    assert store.cached_head(5) is None  # nothing recorded yet
    for n in range(30):
        conv = make_conversation(f"c{n:02d}", f"Title {n}")
        conv.updated = T0 + timedelta(minutes=n)
        conv.pinned = n == 3
        store.save(conv)
    age_files(paths.conversations_dir)
    listed = store.list_entries()
    head, count = ConversationStore(paths).cached_head(5) or ([], 0)
    assert count == 30
    assert head == listed[:5]
    assert [e.id for e in head] == ["c03", "c29", "c28", "c27", "c26"]
    # It reports the last listing, not the folder: a file deleted since is still there...
    (paths.conversations_dir / "c29.toml").unlink()
    assert [e.id for e in (store.cached_head(2) or ([], 0))[0]] == ["c03", "c29"]
    # ...until the list is checked again.
    store.list_entries()
    assert [e.id for e in (store.cached_head(2) or ([], 0))[0]] == ["c03", "c28"]
    (paths.cache_dir / "index.json").write_text("{}")  # an earlier version's cache
    conv = make_conversation("c00", "Title 0, renamed")
    store.save(conv)
    store.list_entries()
    assert not (paths.cache_dir / "index.json").exists()  # cleared when the cache is written
    # A cache from another folder, an older format or a torn write is not used.
    cache = paths.cache_dir / "index.jsonl"
    cache.write_text(cache.read_text().replace('"format":2', '"format":1'))
    assert store.cached_head(5) is None
    cache.write_text('{"format":2,"folder":')
    assert store.cached_head(5) is None


def test_a_long_first_reading_reports_progress(
    store: ConversationStore, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui_chat.storage.index as index

    monkeypatch.setattr(index, "PROGRESS_EVERY", 2)
    for n in range(5):
        store.save(make_conversation(f"c{n}", f"Title {n}"))
    age_files(paths.conversations_dir)
    heard: list[tuple[int, int]] = []
    ConversationStore(paths).list_entries(lambda parsed, total: heard.append((parsed, total)))
    assert heard == [(2, 5), (4, 5)]
    heard.clear()
    ConversationStore(paths).list_entries(lambda parsed, total: heard.append((parsed, total)))
    assert heard == []  # nothing to parse: the index had them all


def test_a_long_first_reading_shows_the_most_recently_modified_first(
    store: ConversationStore, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui_chat.storage.index as index

    monkeypatch.setattr(index, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(index, "HEAD_FILES", 2)
    for n in range(6):
        conv = make_conversation(f"c{n}", f"Title {n}")
        conv.updated = T0 + timedelta(hours=n)
        conv.pinned = n == 0  # the oldest, pinned: first in the list once all are read
        store.save(conv)
        past = time.time() - 3600 + n  # modified in the order they were updated
        os.utime(paths.conversations_dir / f"c{n}.toml", (past, past))
    heads: list[tuple[list[str], int]] = []
    entries = ConversationStore(paths).list_entries(
        head=lambda head, count: heads.append(([e.id for e in head], count))
    )
    assert heads == [(["c5", "c4"], 6)]  # once, before the rest was read
    assert [e.id for e in entries] == ["c0", "c5", "c4", "c3", "c2", "c1"]
    heads.clear()
    ConversationStore(paths).list_entries(head=lambda head, count: heads.append(([], count)))
    assert heads == []  # nothing to read: the index had them all


def files_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the conversation files the index parses from now on."""
    import tui_chat.storage.index as index

    parsed: list[str] = []
    parse = index.entry_from_file

    def counted(path: Path) -> index.ConversationEntry:
        parsed.append(path.name)
        return parse(path)

    monkeypatch.setattr(index, "entry_from_file", counted)
    return parsed


def test_the_most_recent_is_found_from_the_index_parsing_only_files_changed_since(
    store: ConversationStore, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        conv = make_conversation(f"c{n}", f"Title {n}")
        conv.updated = T0 + timedelta(hours=n)
        conv.pinned = n == 0
        store.save(conv)
    age_files(paths.conversations_dir)
    store.list_entries()  # the index, as the last run of the app left it
    changed = ConversationStore(paths).load("c1")
    changed.updated = T0 + timedelta(hours=10)
    store.save(changed)
    (paths.conversations_dir / "zz.toml").write_text("not = [toml", encoding="utf-8")
    past = time.time() - 1800  # both changed since the index, outside its racy seconds
    for name in ("c1.toml", "zz.toml"):
        os.utime(paths.conversations_dir / name, (past, past))
    parsed = files_parsed(monkeypatch)
    latest = ConversationStore(paths).most_recent()
    assert latest is not None and latest.id == "c1"
    assert sorted(parsed) == ["c1.toml", "zz.toml"]  # the broken one is read, not chosen


def test_without_an_index_the_most_recent_is_the_newest_of_the_last_modified(
    store: ConversationStore, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui_chat.storage.index as index

    for n in range(6):
        conv = make_conversation(f"c{n}", f"Title {n}")
        conv.updated = T0 + timedelta(hours=n)
        store.save(conv)
        moment = conv.updated.timestamp()  # written when it was updated, as the app does
        os.utime(paths.conversations_dir / f"c{n}.toml", (moment, moment))
    parsed = files_parsed(monkeypatch)
    latest = ConversationStore(paths).most_recent()
    assert latest is not None and latest.id == "c5"
    assert parsed == ["c5.toml"]  # the others were written before c5 was updated
    assert not (paths.cache_dir / "index.jsonl").exists()

    # Modified long after they were updated (a git checkout): the newest of the last modified.
    monkeypatch.setattr(index, "HEAD_FILES", 2)
    for n in range(6):
        moment = time.time() - 3600 + (10 if n == 3 else n)
        os.utime(paths.conversations_dir / f"c{n}.toml", (moment, moment))
    parsed.clear()
    latest = ConversationStore(paths).most_recent()
    assert parsed == ["c3.toml", "c5.toml"]
    assert latest is not None and latest.id == "c5"


def test_cache_lines_cannot_point_outside_the_folder(
    store: ConversationStore, paths: AppPaths
) -> None:
    store.save(make_conversation("c", "Title"))
    age_files(paths.conversations_dir)
    store.list_entries()
    cache = paths.cache_dir / "index.jsonl"
    cache.write_text(cache.read_text().replace('"file":"c.toml"', '"file":"../c.toml"'))
    assert store.cached_head(5) == ([], 1)  # that line is not used; the rest would be
    assert [e.id for e in ConversationStore(paths).list_entries()] == ["c"]


def test_external_edit_is_seen_even_with_same_size_and_mtime(
    store: ConversationStore, paths: AppPaths
) -> None:
    store.save(make_conversation("c", "AAAA"))
    path = paths.conversations_dir / "c.toml"
    age_files(paths.conversations_dir)
    assert store.list_entries()[0].title == "AAAA"
    info = path.stat()
    # An editor rewriting in place: same inode, same size, mtime forced back to the old value.
    with path.open("r+b") as handle:
        handle.write(path.read_bytes().replace(b"AAAA", b"BBBB"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    # A save compares contents, not stat, so it does not overwrite the editor's change.
    conv = make_conversation("c", "AAAA")
    conv.messages.append(Message("user", "new here", created=T0 + timedelta(minutes=1)))
    store.save(conv)
    saved = store.load("c")
    assert saved.title == "BBBB"
    assert saved.messages[-1].content == "new here"


def test_refresh_reports_files_added_changed_and_removed(
    store: ConversationStore, paths: AppPaths
) -> None:
    store.save(make_conversation("a"))
    assert store.refresh() is False  # first call: the baseline
    assert store.refresh() is False
    other = ConversationStore(paths)
    other.save(make_conversation("b"))
    assert store.refresh() is True
    assert store.refresh() is False
    conv = other.load("b")
    conv.title = "renamed elsewhere"
    other.save(conv)
    assert store.refresh() is True
    assert {e.title for e in store.list_entries()} == {"Fibonacci", "renamed elsewhere"}
    (paths.conversations_dir / "a.toml").unlink()
    assert store.refresh() is True
    assert [e.id for e in store.list_entries()] == ["b"]


def test_both_sides_append_and_both_keep_their_messages(paths: AppPaths) -> None:
    here, there = ConversationStore(paths), ConversationStore(paths)
    here.save(make_conversation())
    mine, theirs = here.load("20261124-013000-a1b2"), there.load("20261124-013000-a1b2")
    theirs.messages.append(Message("user", "from there", created=T0 + timedelta(minutes=1)))
    there.save(theirs)
    mine.messages.append(Message("user", "from here", created=T0 + timedelta(minutes=2)))
    outcome = here.save(mine)
    assert outcome.kind == "merged"
    assert "merged 1 message" in outcome.message
    contents = [m.content for m in ConversationStore(paths).load(mine.id).messages]
    assert contents == ["message 0", "message 1", "from there", "from here"]
    # What was given is left alone (another thread may be using it); the merged result comes
    # back, and saving that next loses nothing either.
    assert [m.content for m in mine.messages] == ["message 0", "message 1", "from here"]
    mine = outcome.saved
    assert [m.content for m in mine.messages] == contents
    mine.messages.append(Message("assistant", "reply", created=T0 + timedelta(minutes=3)))
    assert here.save(mine).kind == "saved"
    assert len(ConversationStore(paths).load(mine.id).messages) == 5


def test_edit_elsewhere_and_append_here_merge_when_they_touch_different_things(
    paths: AppPaths,
) -> None:
    here, there = ConversationStore(paths), ConversationStore(paths)
    here.save(make_conversation())
    mine, theirs = here.load("20261124-013000-a1b2"), there.load("20261124-013000-a1b2")
    theirs.title = "Renamed there"
    theirs.pinned = True
    there.save(theirs)
    mine.messages.append(Message("user", "more", created=T0 + timedelta(minutes=1)))
    outcome = here.save(mine)
    assert outcome.kind == "merged"
    assert outcome.message == "“Renamed there” was changed elsewhere; took its new title, pinned."
    assert mine.title == "Fibonacci"  # left alone: the merged result is the outcome's
    assert outcome.saved.title == "Renamed there"
    result = ConversationStore(paths).load(mine.id)
    assert result.title == "Renamed there"
    assert result.pinned
    assert result.messages[-1].content == "more"


def test_conflicting_changes_keep_both_versions(paths: AppPaths) -> None:
    here, there = ConversationStore(paths), ConversationStore(paths)
    here.save(make_conversation())
    mine, theirs = here.load("20261124-013000-a1b2"), there.load("20261124-013000-a1b2")
    theirs.messages[1].content = "edited there"
    there.save(theirs)
    mine.messages[1].content = "edited here"
    outcome = here.save(mine)
    assert outcome.kind == "conflict_copy"
    assert "Fibonacci (conflict copy)" in outcome.message
    reader = ConversationStore(paths)
    assert reader.load("20261124-013000-a1b2").messages[1].content == "edited there"
    copy = reader.load(outcome.conflict_copy_id or "")
    assert copy.messages[1].content == "edited here"
    assert copy.title == "Fibonacci (conflict copy)"
    # The copy comes back to be the open conversation: further saves go there, not over theirs.
    assert mine.id == "20261124-013000-a1b2"
    mine = outcome.saved
    assert mine.id == outcome.conflict_copy_id
    mine.messages.append(Message("user", "go on", created=T0 + timedelta(minutes=5)))
    assert here.save(mine).kind == "saved"
    assert reader.load("20261124-013000-a1b2").messages[1].content == "edited there"


def test_hand_edit_in_an_editor_is_not_overwritten(
    store: ConversationStore, paths: AppPaths
) -> None:
    conv = make_conversation()
    store.save(conv)
    path = paths.conversations_dir / f"{conv.id}.toml"
    path.write_text(path.read_text().replace("message 0", "fixed by hand"))
    conv.messages[0].content = "changed in the app"
    outcome = store.save(conv)
    assert outcome.kind == "conflict_copy"
    assert "fixed by hand" in path.read_text()


def test_file_removed_elsewhere_is_written_again(store: ConversationStore, paths: AppPaths) -> None:
    conv = make_conversation()
    store.save(conv)
    (paths.conversations_dir / f"{conv.id}.toml").unlink()
    outcome = store.save(conv)
    assert outcome.kind == "recreated"
    assert "removed elsewhere" in outcome.message
    assert store.load(conv.id) == conv


def test_unchanged_save_does_not_touch_the_file(store: ConversationStore, paths: AppPaths) -> None:
    conv = make_conversation()
    store.save(conv)
    path = paths.conversations_dir / f"{conv.id}.toml"
    before = path.stat()
    assert store.save(conv).kind == "unchanged"
    assert path.stat().st_ino == before.st_ino


def test_trash_restore_and_empty(store: ConversationStore, paths: AppPaths) -> None:
    conv = make_conversation("c1")
    store.save(conv)
    assert store.trash("c1") == "c1"
    assert store.list_entries() == []
    assert (paths.trash_dir / "c1.toml").exists()
    # The same id trashed again does not clobber the first one.
    store.save(make_conversation("c1", "second life"))
    assert store.trash("c1") == "c1~2"
    assert {e.id for e in store.list_trash()} == {"c1", "c1~2"}
    assert store.restore("c1~2") == "c1"
    assert store.load("c1").title == "second life"
    # Restoring while a file of that id exists keeps both.
    assert store.restore("c1") == "c1~2"
    assert {e.id for e in store.list_entries()} == {"c1", "c1~2"}
    store.trash("c1~2")
    assert store.empty_trash().conversations == 1
    assert store.list_trash() == []
    with pytest.raises(ConversationNotFound):
        store.restore("c1~2")
    with pytest.raises(ConversationNotFound):
        store.trash("nope")


def test_broken_files_can_be_trashed_without_being_rewritten(
    store: ConversationStore, paths: AppPaths
) -> None:
    paths.conversations_dir.mkdir(parents=True)
    (paths.conversations_dir / "bad.toml").write_bytes(b"\xff\xfe not text")
    (entry,) = store.list_entries()
    assert entry.error is not None and "not UTF-8" in entry.error
    store.trash("bad")
    assert (paths.trash_dir / "bad.toml").read_bytes() == b"\xff\xfe not text"


def test_search_finds_text_in_any_message_ignoring_case(store: ConversationStore) -> None:
    a = make_conversation("a", "About Rust")
    a.messages.append(Message("assistant", 'Use "Vec::new()" here.\nIt\'s FERRIS time 🦀', T0))
    b = make_conversation("b", "Cooking")
    b.messages.append(Message("user", "Pasta al dente", T0))
    store.save(a)
    store.save(b)
    (result,) = store.search("ferris")
    assert result.conversation_id == "a" and result.title == "About Rust"
    assert [hit.message_index for hit in result.hits] == [2]
    (hit,) = result.hits
    assert "FERRIS time" in hit.snippet
    assert hit.snippet[hit.match_start : hit.match_end] == "FERRIS"
    assert "\n" not in hit.snippet
    # Text that the file stores escaped is still found.
    assert [r.conversation_id for r in store.search('"vec::new()"')] == ["a"]
    assert [[h.message_index for h in r.hits] for r in store.search("cooking")] == [[None]]
    assert store.search("nowhere") == []


def test_search_gives_one_result_per_conversation_with_all_its_hits_newest_first(
    store: ConversationStore,
) -> None:
    # A word twice in one conversation's messages, and in another's title and a message: each
    # conversation is one result that knows every place the word occurs.
    twice = make_conversation("twice", "Rust tips", n=0)
    for i, text in enumerate(["meet ferris", "the crab", "Ferris again", "bye"]):
        twice.messages.append(Message("user" if i % 2 == 0 else "assistant", text, T0))
    twice.updated = T0
    titled = make_conversation("titled", "Ferris questions", n=0)
    titled.messages.append(Message("user", "who is FERRIS?", T0))
    titled.messages.append(Message("assistant", "a crab", T0))
    titled.updated = T0 + timedelta(hours=1)
    pinned_old = make_conversation("pinned", "Old", n=0)
    pinned_old.messages.append(Message("user", "ferris, long ago", T0))
    pinned_old.pinned = True
    pinned_old.updated = T0 - timedelta(days=3)
    elsewhere = make_conversation("elsewhere", "Cooking")
    for conversation in (twice, titled, pinned_old, elsewhere):
        store.save(conversation)
    assert store.list_entries()[0].id == "pinned"  # the list puts it first; search does not

    results = store.search("FERRIS")
    assert [r.conversation_id for r in results] == ["titled", "twice", "pinned"]
    by_id = {r.conversation_id: r for r in results}
    assert [h.message_index for h in by_id["twice"].hits] == [0, 2]
    assert by_id["twice"].message_indexes == [0, 2]
    assert [h.message_index for h in by_id["titled"].hits] == [None, 0]
    assert by_id["titled"].message_indexes == [0]
    first = by_id["titled"].first_message_hit
    assert first is not None and first.snippet == "who is FERRIS?"
    assert by_id["titled"].hits[0].snippet == "Ferris questions"
    assert by_id["titled"].updated == T0 + timedelta(hours=1)
    # The limit counts conversations, and keeps the newest.
    assert [r.conversation_id for r in store.search("ferris", limit=2)] == ["titled", "twice"]


def test_a_snippet_is_one_safe_line_of_at_most_76_columns_with_the_match_in_view(
    store: ConversationStore,
) -> None:
    before = "lorem ipsum dolor " * 20
    after = "\n\n" + "蟹" * 100  # wide characters: two columns each
    conv = make_conversation("c", "Crabs", n=0)
    conv.messages.append(Message("user", before + "the \x1b[2mFerris\u202e\x9b crab" + after, T0))
    store.save(conv)
    (result,) = store.search("ferris")
    (hit,) = result.hits
    snippet = hit.snippet
    assert hit.snippet[hit.match_start : hit.match_end] == "Ferris"
    assert cell_len(snippet) <= 76
    assert snippet.startswith("…") and snippet.endswith("…")
    # It starts at a word, a little before the match; control characters are made harmless.
    assert snippet.startswith("…the ␛[2mFerris<U+202E><U+009B> crab 蟹蟹")
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e" for ch in snippet)
    assert hit.match_start <= 24  # in a narrow sidebar the match is near the start


@settings(max_examples=200, deadline=None)
@given(
    before=st.text(max_size=300),
    word=st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=90),
    after=st.text(max_size=300),
)
def test_every_snippet_fits_76_columns_and_points_at_its_match(
    before: str, word: str, after: str
) -> None:
    conv = Conversation(id="c", title="", created=T0, updated=T0)
    conv.messages.append(Message("user", before + word + after, T0))
    hits = conversation_hits(conv, word)
    assert hits and hits[0].message_index == 0
    hit = hits[0]
    assert cell_len(hit.snippet) <= 76
    assert "\n" not in hit.snippet and "\x1b" not in hit.snippet
    shown = hit.snippet[hit.match_start : hit.match_end]
    assert shown and word.casefold().startswith(shown.casefold())


def test_stats_add_up_spend_and_unknown_costs(store: ConversationStore, paths: AppPaths) -> None:
    a = make_conversation("a")
    a.messages[1].cost_usd = 0.25
    a.messages[1].usage = Usage(100, 50)
    b = make_conversation("b", n=4)
    b.messages[1].cost_usd = 0.5
    store.save(a)
    store.save(b)
    (paths.conversations_dir / "broken.toml").write_text("nope")
    stats = store.stats()
    assert stats.conversations == 2
    assert stats.messages == 6
    assert stats.total_tokens == 150
    assert stats.spend.known_usd == pytest.approx(0.75)
    assert stats.spend.unknown_replies == 1
    assert stats.broken_files == 1


def test_unwritable_folder_gives_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    store = ConversationStore(AppPaths(config_file=tmp_path / "c.toml", data_dir=blocker))
    with pytest.raises(StorageError) as caught:
        store.save(make_conversation())
    assert str(caught.value).startswith("Could not create the folder")
    assert str(caught.value).endswith(".")


def test_disk_errors_read_as_sentences(tmp_path: Path) -> None:
    import errno

    full = StorageError.from_os_error("save", tmp_path / "x.toml", OSError(errno.ENOSPC, "x"))
    assert str(full) == f"Could not save {tmp_path / 'x.toml'}: the disk is full."
    ro = StorageError.from_os_error("save", tmp_path / "x.toml", OSError(errno.EROFS, "x"))
    assert "read-only" in str(ro)


def test_index_cache_holds_no_message_text(store: ConversationStore, paths: AppPaths) -> None:
    conv = make_conversation()
    conv.messages[0].content = "secret plans"
    store.save(conv)
    store.list_entries()
    cache = (paths.cache_dir / "index.jsonl").read_text()
    assert [json.loads(line)["file"] for line in cache.splitlines()[1:]] == [f"{conv.id}.toml"]
    assert "secret plans" not in cache
    assert conversation_to_toml(conv).count("secret plans") == 1


# ---------------------------------------------------------------- merge, property-based


def _messages(prefix: str, count: int, start: int) -> list[Message]:
    return [
        Message("user", f"{prefix} {i}", created=T0 + timedelta(seconds=start + i))
        for i in range(count)
    ]


@settings(max_examples=200, deadline=None)
@given(
    base_n=st.integers(0, 5),
    ours_n=st.integers(0, 5),
    theirs_n=st.integers(0, 5),
    ours_start=st.integers(0, 20),
    theirs_start=st.integers(0, 20),
)
def test_appends_on_both_sides_always_merge_without_loss(
    base_n: int, ours_n: int, theirs_n: int, ours_start: int, theirs_start: int
) -> None:
    base = make_conversation("m", n=0)
    base.messages = _messages("base", base_n, -100)
    ours = make_conversation("m", n=0)
    ours.messages = list(base.messages) + _messages("ours", ours_n, ours_start)
    theirs = make_conversation("m", n=0)
    theirs.messages = list(base.messages) + _messages("theirs", theirs_n, theirs_start)
    result = merge_conversations(base, ours, theirs)
    assert result is not None
    contents = [m.content for m in result.messages]
    assert contents[:base_n] == [f"base {i}" for i in range(base_n)]
    for side, count in (("ours", ours_n), ("theirs", theirs_n)):
        assert [c for c in contents if c.startswith(side)] == [f"{side} {i}" for i in range(count)]
    assert len(contents) == base_n + ours_n + theirs_n
    assert result.theirs_added == theirs_n
    # Merging again with the result as the new base changes nothing.
    again = merge_conversations(base, ours, theirs)
    assert again is not None and [m.content for m in again.messages] == contents


def test_an_edit_here_and_an_append_there_both_survive() -> None:
    base = make_conversation("m")
    ours = make_conversation("m")
    ours.messages[1].content = "message 1, streamed further"
    theirs = make_conversation("m")
    theirs.messages.append(Message("user", "later", created=T0 + timedelta(minutes=1)))
    result = merge_conversations(base, ours, theirs)
    assert result is not None
    assert [m.content for m in result.messages] == [
        "message 0",
        "message 1, streamed further",
        "later",
    ]


def test_file_saved_with_a_byte_order_mark_still_reads(
    store: ConversationStore, paths: AppPaths
) -> None:
    conv = make_conversation("bom")
    paths.conversations_dir.mkdir(parents=True)
    text = conversation_to_toml(conv)
    (paths.conversations_dir / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert store.load("bom") == conv
    assert store.list_entries()[0].error is None


actions = st.lists(
    st.tuples(
        st.sampled_from(["here", "there"]),
        st.sampled_from(["append", "append", "save", "save", "retitle", "reload"]),
    ),
    max_size=14,
)


@settings(max_examples=60, deadline=None)
@given(steps=actions)
def test_two_windows_in_any_order_never_lose_a_saved_message(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, str]]
) -> None:
    paths = AppPaths(config_file=Path("/nonexistent"), data_dir=tmp_path_factory.mktemp("d"))
    seed = ConversationStore(paths)
    seed.save(make_conversation("c"))
    stores = {name: ConversationStore(paths) for name in ("here", "there")}
    open_now = {name: stores[name].load("c") for name in stores}
    saved: set[str] = {"message 0", "message 1"}
    counter = 0
    for who, action in steps:
        conv = open_now[who]
        if action == "append":
            counter += 1
            conv.messages.append(
                Message("user", f"{who} {counter}", T0 + timedelta(seconds=counter))
            )
        elif action == "retitle":
            conv.title = f"title by {who} {counter}"
        elif action == "save":
            # May merge, or move the window on to a conflict copy.
            open_now[who] = stores[who].save(conv).saved
            saved.update(m.content for m in open_now[who].messages)
        elif action == "reload":
            open_now[who] = stores[who].load(conv.id)
    entries = ConversationStore(paths).list_entries()
    if all(action != "retitle" for _, action in steps):
        assert [e.id for e in entries] == ["c"]  # appends alone always merge
    on_disk = set()
    for entry in entries:
        assert entry.error is None
        on_disk.update(m.content for m in ConversationStore(paths).load(entry.id).messages)
    assert saved <= on_disk


def test_symlinked_conversation_file_stays_a_link(
    store: ConversationStore, paths: AppPaths
) -> None:
    elsewhere = paths.data_dir.parent / "repo" / "linked.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(conversation_to_toml(make_conversation("linked")))
    paths.conversations_dir.mkdir(parents=True)
    link = paths.conversations_dir / "linked.toml"
    link.symlink_to(elsewhere)
    conv = store.load("linked")
    conv.title = "Renamed"
    store.save(conv)
    assert link.is_symlink()
    assert 'title = "Renamed"' in elsewhere.read_text()

"""Unsent drafts: what the user has typed in a conversation's composer but not sent yet.

One plain text file per conversation in `drafts/` (`<id>.txt`, 0600), written atomically when
typing pauses, when the user switches conversation, and when the app quits or its terminal hangs
up, so a dropped SSH session costs at most the last moment of typing. Sending the message (or
emptying the composer) removes the file. Drafts live beside the conversation files rather than in
them: saving a 2,000-message file on every pause in typing would churn the file that git and
Syncthing carry, and conflict with other machines over text nobody has sent.

Two tui-chat windows on one folder: each remembers what it last read or wrote of a draft file. A
window that finds the file holding something else when it saves (the other window wrote it) does
not replace that text: from then on it writes its own draft to `<id>~<window>.txt` beside it,
and opening the conversation later gives back both texts, one after the other.

A draft whose conversation has no file (a new conversation never sent, or one edited into a fork
and left) is "unsaved": the app offers it again as the next new conversation, so nothing typed
is stranded where the list cannot reach it. Only the window that typed it gets it back while
that window is open: each window lists the drafts it holds in `.window-<window>`, a file it
keeps locked (flock) until it closes, and a window skips the drafts another open window holds.
The kernel drops the lock of a window that was killed or lost its terminal, so its drafts are
offered again, to whichever window comes next.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; any window may take any unsaved draft, as before
    fcntl = None  # type: ignore[assignment]  # the module or None, checked before each use

from tui_chat.storage.atomic import atomic_write_bytes, make_private_dir
from tui_chat.storage.errors import StorageError
from tui_chat.storage.store import validate_id

DRAFT_SUFFIX = ".txt"
# Between several texts of one draft (two windows' worth), as a person would separate them.
JOIN = "\n\n"
# `<id>.txt`, or `<id>~<window>.txt` for a second window's draft of the same conversation.
_DRAFT_NAME = re.compile(r"^(?P<id>.+?)(?:~(?P<window>[0-9a-f]{6}))?\.txt$")
# The drafts an open window holds: `+<id>` and `-<id>` lines appended, locked while it is open.
_HELD_PREFIX = ".window-"


@dataclass(frozen=True)
class UnsavedDraft:
    """A draft whose conversation was never saved: its id, text and when it was written."""

    conversation_id: str
    text: str
    written: float  # seconds since the epoch


class DraftStore:
    """Reads and writes the drafts of one data folder; safe to call from several threads."""

    def __init__(self, folder: Path, window: str | None = None) -> None:
        self.folder = folder
        # Names this process's own file when another window holds a conversation's draft.
        self.window = window or secrets.token_hex(3)
        # File name -> the text this window last read or wrote there ("" when it found none).
        self._known: dict[str, str] = {}
        self._absorbed: dict[str, set[str]] = {}  # id -> other windows' files loaded into ours
        self._forked: set[str] = set()  # ids whose draft this window writes to its own file
        self._lock = threading.Lock()
        self._staged: dict[str, str] = {}
        self._staged_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._held: set[str] = set()  # ids listed in this window's locked file
        self._held_file: int | None = None  # its descriptor, holding the lock
        self._closed = False

    # ----------------------------------------------------------------- reading
    def load(self, conversation_id: str) -> str:
        """The draft of a conversation ("" when there is none): its own file's text, then the
        texts other windows left beside it. A text staged and not yet written (or refused by
        the disk) is newer than the file and wins."""
        with self._staged_lock:
            staged = self._staged.get(conversation_id)
        if staged is not None:
            return staged
        with self._lock:
            texts: list[str] = []
            absorbed = set()
            own = self._own_name(conversation_id)
            for path in self._files_of(conversation_id):
                try:
                    text = self._read(path)
                except OSError as error:
                    raise StorageError.from_os_error("read the draft", path, error) from None
                self._known[path.name] = text or ""
                if text is None:
                    continue
                if path.name != own:
                    absorbed.add(path.name)
                # A window that wrote its text again after it was taken in here: not twice.
                if text.strip() and not any(text in earlier for earlier in texts):
                    texts.append(text)
            self._absorbed[conversation_id] = absorbed
            return JOIN.join(texts)

    def unsaved(self, conversations_dir: Path, trash_dir: Path) -> list[UnsavedDraft]:
        """Drafts whose conversation has no file, in the conversations folder or the trash;
        the most recently written first. A text staged and not yet on disk counts, as the
        newest: the file of a draft left a moment ago may still be being written."""
        with self._staged_lock:
            staged = list(self._staged)
        now = time.time()
        candidates: list[tuple[float, str]] = [(now, cid) for cid in staged]
        with self._lock:
            others = self._held_by_other_windows() - self._held
        try:
            paths = list(self.folder.glob(f"*{DRAFT_SUFFIX}"))
        except OSError:
            paths = []
        for path in paths:
            match = _DRAFT_NAME.match(path.name)
            if match is None or match.group("id").startswith("."):
                continue  # a temp file of an atomic write, or not ours
            if match.group("id") in others:
                continue  # another open window's: its own to bring back
            try:
                candidates.append((path.stat().st_mtime, match.group("id")))
            except OSError:
                continue  # removed since the listing: sent, or emptied
        found: list[tuple[float, str]] = []
        for written, conversation_id in candidates:
            try:
                validate_id(conversation_id)  # a hand-made name must not become a path
                if (conversations_dir / f"{conversation_id}.toml").exists() or any(
                    trash_dir.glob(f"{glob.escape(conversation_id)}*.toml")
                ):
                    continue
            except (OSError, ValueError):
                continue
            found.append((written, conversation_id))
        newest_first: dict[str, float] = {}
        for written, conversation_id in sorted(found, reverse=True):
            newest_first.setdefault(conversation_id, written)
        drafts = [UnsavedDraft(cid, self.load(cid), when) for cid, when in newest_first.items()]
        return [draft for draft in drafts if draft.text.strip()]

    # ----------------------------------------------------------------- writing
    def save(self, conversation_id: str, text: str) -> None:
        """Keep `text` as the conversation's draft; an empty or blank text removes it.

        Raises StorageError when the disk refuses (the text is still in the composer)."""
        # What UTF-8 can hold (a lone surrogate cannot), so the file reads back as written.
        text = text.encode("utf-8", "replace").decode("utf-8")
        with self._lock:
            own = self.folder / self._own_name(conversation_id)
            try:
                if conversation_id not in self._forked and self._taken_by_other(own, text):
                    self._forked.add(conversation_id)
                    own = self.folder / self._own_name(conversation_id)
                if text.strip():
                    self._hold(conversation_id)  # before the file: no window sees it unheld
                    if self._known.get(own.name) != text or not own.exists():
                        make_private_dir(self.folder)
                        atomic_write_bytes(own, text.encode("utf-8"))
                    self._known[own.name] = text
                else:
                    self._remove(own)
                    self._let_go(conversation_id)
                for name in self._absorbed.pop(conversation_id, set()):
                    # Loaded into our text and saved with it: the other window's file can go,
                    # unless it changed since.
                    self._remove(self.folder / name)
            except OSError as error:
                raise StorageError.from_os_error("save the draft", own, error) from None

    def stage(self, conversation_id: str, text: str) -> None:
        """Note the latest text of a draft, to be written by `flush` (cheap: for the event
        loop, which leaves the writing to a thread)."""
        with self._staged_lock:
            self._staged[conversation_id] = text

    def flush(self) -> None:
        """Write every staged draft, each with the latest text staged for it, in order: a
        flush that runs late never writes an older text over a newer one. A text stays staged
        until it is on disk (so `load` and `unsaved` see it while it is being written), and
        after a refusal (so the next flush tries again). Raises the first StorageError once it
        has tried them all."""
        failure: StorageError | None = None
        refused: dict[str, str] = {}  # tried and refused in this flush: not tried again in it
        with self._flush_lock:
            while True:
                with self._staged_lock:
                    pending = next(
                        (
                            (conversation_id, text)
                            for conversation_id, text in self._staged.items()
                            if refused.get(conversation_id) != text
                        ),
                        None,
                    )
                if pending is None:
                    break
                conversation_id, text = pending
                try:
                    self.save(conversation_id, text)
                except StorageError as error:
                    failure = failure or error
                    refused[conversation_id] = text
                    continue
                with self._staged_lock:
                    if self._staged.get(conversation_id) == text:  # nothing newer meanwhile
                        del self._staged[conversation_id]
        if failure is not None:
            raise failure

    def close(self) -> None:
        """The window closes: the drafts it held may go to the next window that asks."""
        with self._lock:
            self._closed = True
            if self._held_file is None:
                return
            with contextlib.suppress(OSError):
                (self.folder / f"{_HELD_PREFIX}{self.window}").unlink()
            os.close(self._held_file)  # closing releases the lock
            self._held_file = None
            self._held.clear()

    # ----------------------------------------------------------------- helpers
    def _hold(self, conversation_id: str) -> None:
        """List `conversation_id` among the drafts this open window holds (with the lock
        taken). A file system that refuses the lock (some network mounts) leaves the draft
        unheld, as drafts were before windows held them: it is still written."""
        if fcntl is None or self._closed or conversation_id in self._held:
            return
        try:
            if self._held_file is None:
                self._held_file = self._locked_list()
            # Appended, never rewritten: a window reading it meanwhile never finds it emptied.
            os.write(self._held_file, f"+{conversation_id}\n".encode())
        except OSError:
            return
        self._held.add(conversation_id)

    def _locked_list(self) -> int:
        """This window's `.window-<window>` file, created and locked; its descriptor."""
        assert fcntl is not None  # only called where flock exists
        make_private_dir(self.folder)
        # Locked before it bears its name: a window finding it unlocked takes it for a closed
        # window's and removes it.
        descriptor, temp_name = tempfile.mkstemp(prefix=".held.", dir=self.folder)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(temp_name, self.folder / f"{_HELD_PREFIX}{self.window}")
        except OSError:
            os.close(descriptor)
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        return descriptor

    def _let_go(self, conversation_id: str) -> None:
        if self._held_file is None or conversation_id not in self._held:
            return
        with contextlib.suppress(OSError):  # still listed: at worst kept for this window
            os.write(self._held_file, f"-{conversation_id}\n".encode())
        self._held.discard(conversation_id)

    def _held_by_other_windows(self) -> set[str]:
        """The drafts other open windows hold. A file whose lock is free is a closed window's
        (killed, or its terminal lost): it is removed, and its drafts belong to nobody now."""
        if fcntl is None:
            return set()
        held: set[str] = set()
        try:
            paths = list(self.folder.glob(f"{_HELD_PREFIX}*"))
        except OSError:
            return held
        for path in paths:
            if path.name == f"{_HELD_PREFIX}{self.window}":
                continue
            try:
                descriptor = os.open(path, os.O_RDONLY)
            except OSError:
                continue  # removed meanwhile: that window closed
            try:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    held.update(_listed(path.read_bytes().decode("utf-8", "replace")))
                else:
                    path.unlink(missing_ok=True)
            except OSError:
                continue  # unreadable: as if nobody held its drafts
            finally:
                os.close(descriptor)
        return held

    def _own_name(self, conversation_id: str) -> str:
        if conversation_id in self._forked:
            return f"{conversation_id}~{self.window}{DRAFT_SUFFIX}"
        return f"{conversation_id}{DRAFT_SUFFIX}"

    def _files_of(self, conversation_id: str) -> list[Path]:
        """The conversation's own draft file first, then other windows' (by name)."""
        main = self.folder / f"{conversation_id}{DRAFT_SUFFIX}"
        try:
            candidates = self.folder.glob(f"{glob.escape(conversation_id)}~*{DRAFT_SUFFIX}")
            others = sorted(
                path
                for path in candidates
                if (match := _DRAFT_NAME.match(path.name))
                and match.group("id") == conversation_id
                and match.group("window")
            )
        except OSError:
            others = []
        return [main, *others]

    def _taken_by_other(self, path: Path, text: str) -> bool:
        """The file holds a text this window neither read nor wrote: another window's."""
        current = self._read(path)
        if current is None or not current.strip() or current == text:
            return False
        return current != self._known.get(path.name)

    def _remove(self, path: Path) -> None:
        """Remove a draft file whose text this window read or wrote, unless it changed since
        (another window's words are not ours to remove)."""
        current = self._read(path)
        if current is not None and current == self._known.get(path.name):
            path.unlink(missing_ok=True)
        self._known[path.name] = ""

    @staticmethod
    def _read(path: Path) -> str | None:
        """The file's text, None when there is no file; raises OSError."""
        try:
            # Bytes, not read_text: universal newlines would turn the user's CRLF into LF.
            return path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None


def _listed(lines: str) -> set[str]:
    """The ids a window's `+<id>` / `-<id>` lines leave held (a last line being written, with
    no newline yet, is not counted)."""
    held: set[str] = set()
    for line in lines.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        sign, conversation_id = line[:1], line[1:].rstrip("\n")
        if sign == "+":
            held.add(conversation_id)
        elif sign == "-":
            held.discard(conversation_id)
    return held

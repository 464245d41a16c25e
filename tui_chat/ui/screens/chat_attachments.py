"""Files attached to the message being written: read, counted, shown, sent or kept.

`AttachedFiles` is a helper the chat screen owns. It alone holds the files waiting to go with
the next message (per conversation, for this session) and the token counts of attached files.
Files are read and counted in thread workers (a 1 MB log, a FIFO, a slow disk never hold up
typing); a file that cannot be attached gets its one sentence as a toast, and the composer's
text is never touched by a refusal.

Attached with the `@` list, a file keeps its `@path` in the text: the sentence still reads
("compare @a.txt and @b.txt"), and the draft, which is text, names it after a restart. On send,
every `@path` token naming a file not yet attached is read and attached too; a `@word` that
names no file stays text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui_chat.attachments.reading import (
    DEFAULT_LIMITS,
    AttachLimits,
    AttachmentRefused,
    read_attachment,
    resolve_path,
)
from tui_chat.domain import Conversation
from tui_chat.domain.attachments import Attachment
from tui_chat.engine.tokens import TokenCount, TokenCounter
from tui_chat.storage.attachments import ImageStore
from tui_chat.ui.background import Notify, ThreadWork
from tui_chat.ui.widgets.attachment_strip import AttachmentStrip
from tui_chat.ui.widgets.composer import Composer

# `@path` anywhere in the text, after blank space or at the start.
_TOKEN = re.compile(r"(?<!\S)@(\S+)")
# Punctuation that ends a sentence rather than a path ("look at @notes.txt.").
_TRAILING = ".,;:!?)]}'\""

Send = Callable[[str, list[Attachment]], None]


@dataclass
class WaitingFile:
    """A file attached to the message being written, and its count once made."""

    attachment: Attachment
    count: TokenCount | None = None


class AttachedFiles:
    """The files waiting to be sent with the composer's text, and the counts of attached files."""

    def __init__(
        self,
        *,
        counter: TokenCounter,
        images: ImageStore,
        strip: AttachmentStrip,
        composer: Composer,
        threads: ThreadWork,
        notify: Notify,
        conversation: Callable[[], Conversation],
        changed: Callable[[int, bool], None],
        counted: Callable[[], None],
        cwd: Path,
        limits: AttachLimits = DEFAULT_LIMITS,
    ) -> None:
        """`changed(tokens, approximate)`: what the waiting files add to the next request;
        `counted()`: new counts of sent files are known (the pane shows them)."""
        self._counter = counter
        self._images = images
        self._strip = strip
        self._composer = composer
        self._threads = threads
        self._notify = notify
        self._conversation = conversation
        self._changed = changed
        self._counted = counted
        self._cwd = cwd
        self._limits = limits
        self.waiting: list[WaitingFile] = []
        self._kept: dict[str, list[WaitingFile]] = {}  # other conversations' waiting files
        self._counts: dict[tuple[str, str, str], TokenCount] = {}
        # Files the user removed from the message: their `@path`, still in the text, must not
        # bring them back on send.
        self._removed: set[str] = set()
        # Counts the messages sent: a file still being read when its message went (Tab then
        # Enter at once) must not wait for the next one. (Its `@path` was read on send.)
        self._sends = 0

    # ------------------------------------------------------------ attaching
    def attach(self, path: str) -> None:
        """Read `path` (as typed: relative to the working folder, `~/` or absolute) in a
        thread; it joins the waiting files, or its refusal is said in one sentence."""
        model = self._conversation().model
        conversation_id = self._conversation().id
        sends = self._sends

        def job() -> None:
            try:
                attachment = self._read(path)
            except AttachmentRefused as refused:
                self._threads.to_ui(self._say_refused, refused)
                return
            count = self._counter.attachment_tokens(attachment, model)
            self._threads.to_ui(self._attached, conversation_id, attachment, count, model, sends)

        self._threads.start(job, group="attach")

    def _read(self, path: str) -> Attachment:
        return read_attachment(path, cwd=self._cwd, blobs=self._images, limits=self._limits)

    def _attached(
        self,
        conversation_id: str,
        attachment: Attachment,
        count: TokenCount,
        model: str,
        sends: int,
    ) -> None:
        if sends != self._sends:
            return  # its message went while it was read (its `@path` was read on send)
        waiting = self.waiting if conversation_id == self._conversation().id else None
        if waiting is None:  # the user opened another conversation while it was read
            waiting = self._kept.setdefault(conversation_id, [])
        if any(w.attachment.path == attachment.path for w in waiting):
            return  # attached twice (picked again, then named in the text): once is enough
        waiting.append(WaitingFile(attachment, count))
        self._remember(attachment, count, model)
        self._show()

    def _say_refused(self, refused: AttachmentRefused) -> None:
        self._notify(str(refused), title="Not attached", severity="warning", timeout=8)

    def remove(self, index: int) -> None:
        """Take waiting file `index` off the message (its `@path`, if typed, stays text)."""
        if 0 <= index < len(self.waiting):
            removed = self.waiting.pop(index)
            self._removed.add(removed.attachment.path)
            self._notify(f"Removed {removed.attachment.name} from the message.", timeout=3)
            self._show()
        if not self.waiting:
            self._composer.focus()

    def _show(self) -> None:
        waiting = self.waiting
        self._strip.show([(w.attachment, w.count) for w in waiting])
        self._composer.has_attachments = bool(waiting)
        counts = [w.count for w in waiting if w.count is not None]
        tokens = sum(count.tokens for count in counts)
        approximate = any(count.approximate for count in counts) or len(counts) < len(waiting)
        self._changed(tokens, approximate)

    # ------------------------------------------------------------ sending
    def before_send(self, text: str, send: Send) -> None:
        """Attach the files the text names with `@path`, then `send(text, files)`.

        Without such tokens, at once; else after they are read in a thread. A named file that
        cannot be attached stops the send with its sentence: the text and the files stay.
        """
        tokens = [match.group(1) for match in _TOKEN.finditer(text)]
        if not tokens:
            send(text, self._waiting_files())
            return
        attached = {w.attachment.path for w in self.waiting} | self._removed
        cwd = self._cwd

        def job() -> None:
            read: list[Attachment] = []
            for token in tokens:
                path = _existing_file(token, cwd)
                if path is None or str(resolve_path(path, cwd)) in attached:
                    continue
                try:
                    attachment = self._read(path)
                except AttachmentRefused as refused:
                    self._threads.to_ui(self._say_refused, refused)
                    return
                attached.add(attachment.path)
                read.append(attachment)
            self._threads.to_ui(self._send_read, text, read, send)

        self._threads.start(job, group="attach")

    def _send_read(self, text: str, read: list[Attachment], send: Send) -> None:
        if self._composer.text != text:
            # Typed on while the files were read: what would go is no longer what is shown.
            self._notify("The message changed while its files were read: press Enter again.")
            return
        waiting = self._waiting_files()
        # A file picked just before Enter may have been read twice: by each way.
        picked = {attachment.path for attachment in waiting}
        send(text, [*waiting, *(a for a in read if a.path not in picked)])

    def _waiting_files(self) -> list[Attachment]:
        return [w.attachment for w in self.waiting]

    def sent(self) -> None:
        """The message went with its files: nothing waits any more."""
        self._sends += 1
        self.waiting = []
        self._removed.clear()
        self._show()

    def put_back(self, attachments: Sequence[Attachment]) -> None:
        """A sent message is edited to be sent again: its files wait with its text (as they
        were sent; an image's bytes are still in the attachments folder)."""
        model = self._conversation().model
        self.waiting = [
            WaitingFile(a, self._counts.get((a.sha256, a.name, model))) for a in attachments
        ]
        self._removed.clear()
        self._show()

    def draft_text(self, text: str) -> str:
        """`text` as a draft to keep over a quit: a waiting file its words no longer name is
        added as an `@path` (absolute) at its end, so it is not lost without a word. (A path
        with blank space cannot be a token; such a file is left out.)"""
        named = {str(resolve_path(match.group(1), self._cwd)) for match in _TOKEN.finditer(text)}
        missing = [
            f"@{w.attachment.path}"
            for w in self.waiting
            if w.attachment.path not in named and not any(c.isspace() for c in w.attachment.path)
        ]
        if not missing:
            return text
        return f"{text.rstrip()} {' '.join(missing)}".lstrip()

    # -------------------------------------------------- conversations and counts
    def switch(self, leaving_id: str, opening_id: str) -> None:
        """Waiting files stay with the conversation they were attached in (for this run; after
        a restart the draft's `@path` tokens name them again)."""
        if leaving_id == opening_id:
            return
        if self.waiting:
            self._kept[leaving_id] = self.waiting
        self.waiting = self._kept.pop(opening_id, [])
        self._show()

    def count_of(self, attachment: Attachment) -> TokenCount | None:
        """An attached file's token count for the open conversation's model, once counted."""
        key = (attachment.sha256, attachment.name, self._conversation().model)
        return self._counts.get(key)

    def count_sent(self, conversation: Conversation) -> None:
        """Count, in a thread, the files sent in `conversation` that have no count yet."""
        self._count_missing(conversation, [])

    def recount(self, conversation: Conversation) -> None:
        """The model changed: count the sent and the waiting files for it."""
        self._count_missing(conversation, [w.attachment for w in self.waiting])

    def _count_missing(self, conversation: Conversation, waiting: list[Attachment]) -> None:
        model = conversation.model
        sent = [a for message in conversation.messages for a in message.attachments]
        missing = [
            attachment
            for attachment in [*sent, *waiting]
            if (attachment.sha256, attachment.name, model) not in self._counts
        ]
        if not missing:
            return

        def job() -> None:
            counts = [(a, self._counter.attachment_tokens(a, model)) for a in missing]
            self._threads.to_ui(self._counted_now, counts, model)

        self._threads.start(job, group="attachment-counts", exclusive=True)

    def _counted_now(self, counts: Sequence[tuple[Attachment, TokenCount]], model: str) -> None:
        for attachment, count in counts:
            self._remember(attachment, count, model)
        if model != self._conversation().model:
            return  # switched again meanwhile: the newer count is on its way
        for waiting in self.waiting:
            found = self.count_of(waiting.attachment)
            if found is not None:
                waiting.count = found
        self._show()
        self._counted()

    def _remember(self, attachment: Attachment, count: TokenCount, model: str) -> None:
        self._counts[(attachment.sha256, attachment.name, model)] = count


def _existing_file(token: str, cwd: Path) -> str | None:
    """The path a `@token` names, if something other than a folder is there (a sentence's
    closing punctuation aside). A FIFO, a device or a symlink loop is named too: reading it
    then says why it cannot be attached, rather than send the token as if it were a word."""
    for candidate in dict.fromkeys((token, token.rstrip(_TRAILING))):
        if not candidate:
            continue
        full = resolve_path(candidate, cwd)
        if os.path.lexists(full) and not os.path.isdir(full):
            return candidate
    return None

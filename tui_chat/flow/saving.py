"""Saving a conversation that one thread keeps changing while another writes it.

The store writes, merges and forks conflict copies; when it merges or forks it returns the
result in its outcome (`SaveOutcome.saved`) and leaves the conversation it was given alone.
That result is applied to the live conversation on the thread that owns it: at once by
`save_conversation`, and by `BackgroundSaver`, which saves a copy in its thread, on the
caller's thread once the save is done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.storage.errors import StorageError
from tui_chat.storage.merge import MERGED_FIELDS
from tui_chat.storage.snapshot import detached_copy
from tui_chat.storage.store import ConversationStore, SaveOutcome

# What a merge or a conflict copy may change besides the messages.
_CHANGED_BY_STORE = ("id", *MERGED_FIELDS, "created", "updated")

# One thread for every background save: saves land in the order they were asked for, so an
# older copy can never overwrite a newer one.
_SAVER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tui-chat-save")


@dataclass(frozen=True)
class SaveReport:
    """What became of one save: `outcome` when written (None when there was nothing to write),
    or the disk's refusal in `error`."""

    outcome: SaveOutcome | None = None
    error: StorageError | None = None


def _write(store: ConversationStore, conversation: Conversation) -> SaveReport:
    """The store's atomic, clobber-safe save, with the disk's refusal returned, not raised."""
    if not conversation.messages:
        return SaveReport()  # a new, empty conversation gets no file until something is said
    try:
        return SaveReport(outcome=store.save(conversation))
    except StorageError as error:
        return SaveReport(error=error)


def save_conversation(store: ConversationStore, conversation: Conversation) -> SaveReport:
    """The one save path, on the thread that owns `conversation`: saved, and what a merge or a
    conflict copy made of it applied to it (the next save then goes where this one went)."""
    report = _write(store, conversation)
    outcome = report.outcome
    if outcome is not None and outcome.changed:
        _adopt(conversation, outcome.saved, asked=conversation, messages=outcome.saved.messages)
    return report


@dataclass
class _Pending:
    """A save running in the save thread, and what is needed to carry its result back."""

    future: concurrent.futures.Future[SaveReport]
    copy: Conversation
    originals: dict[int, Message]
    copied: list[Message]
    taken: int


class BackgroundSaver:
    """Saves copies of one live conversation in a thread and applies what the store changed in
    them (a merge, a conflict copy's id and title) to the live one, on the caller's thread."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        self._pending: _Pending | None = None

    async def save(
        self, conversation: Conversation, *, in_progress: tuple[Message, str] | None = None
    ) -> SaveReport:
        """Save a copy of `conversation` in the save thread; `in_progress` (a message of it and
        a finish reason) marks a reply still arriving in the copy only."""
        copy = detached_copy(conversation)
        if in_progress is not None:
            message, mark = in_progress
            for original, twin in zip(conversation.messages, copy.messages, strict=True):
                if original is message:
                    twin.finish_reason = mark
        originals = {id(c): o for o, c in zip(conversation.messages, copy.messages, strict=True)}
        copied = list(copy.messages)  # keeps the ids in `originals` from being reused
        pending = _Pending(
            future=_SAVER.submit(_write, self.store, copy),
            copy=copy,
            originals=originals,
            copied=copied,
            taken=len(conversation.messages),
        )
        self._pending = pending
        report = await asyncio.wrap_future(pending.future)
        self._pending = None
        _carry_back(conversation, pending, report)
        return report

    def settle(self, conversation: Conversation) -> None:
        """Wait for a save still running in the thread (its caller was cancelled) and carry its
        result back, so that a save made next lands after it. Blocks: call it before a final
        save, never per delta."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        concurrent.futures.wait([pending.future])
        if pending.future.cancelled():
            return  # it never started: the next save writes everything
        _carry_back(conversation, pending, pending.future.result())


def _carry_back(live: Conversation, pending: _Pending, report: SaveReport) -> None:
    """Apply to `live` what the store made of the copy it saved (only a merge or a conflict
    copy makes something else); the live conversation's own message objects stay, and so do
    the messages added to it while the save ran."""
    outcome = report.outcome
    if outcome is None or not outcome.changed:
        return
    saved = [pending.originals.get(id(m), m) for m in outcome.saved.messages]
    _adopt(live, outcome.saved, asked=pending.copy, messages=saved + live.messages[pending.taken :])


def _adopt(
    live: Conversation, saved: Conversation, *, asked: Conversation, messages: list[Message]
) -> None:
    """Make `live` what the store `saved` when asked to save `asked` (`live` itself or a copy
    of it): the fields the store changed, and `messages`."""
    for name in _CHANGED_BY_STORE:
        value = getattr(saved, name)
        if value != getattr(asked, name):
            setattr(live, name, value)
    live.messages[:] = messages

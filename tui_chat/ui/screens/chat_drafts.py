"""Unsent drafts of the chat screen: what is typed in the composer survives a switch, a quit and
a dropped SSH session.

`DraftKeeper` is a helper the chat screen owns. A draft belongs to its conversation: it is
staged when typing pauses and written in a thread, written at once when the user switches
conversation or the app exits, and put back in the composer when the conversation is opened
again. A draft whose conversation was never saved comes back as the next new conversation
(ctrl+n), or at start when it is the last thing the user touched.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from tui_chat.domain import Conversation
from tui_chat.paths import AppPaths
from tui_chat.storage.drafts import JOIN, DraftStore, UnsavedDraft
from tui_chat.storage.errors import StorageError
from tui_chat.ui.background import Notify, ThreadWork
from tui_chat.ui.widgets.composer import Composer


class DraftKeeper:
    """Keeps each conversation's unsent draft on disk and brings it back into `composer`."""

    def __init__(
        self,
        drafts: DraftStore,
        paths: AppPaths,
        composer: Composer,
        threads: ThreadWork,
        notify: Notify,
    ) -> None:
        self._drafts = drafts
        self._paths = paths
        self._composer = composer
        self._threads = threads
        self._notify = notify
        self._error_said = False

    def stage(self, conversation_id: str, text: str) -> None:
        """`text` is the draft of `conversation_id` now ("" once sent); it is written in a
        thread (an fsync must not hold up the next keystroke)."""
        self._drafts.stage(conversation_id, text)
        self._threads.start(self._flush, group="drafts")

    def _flush(self) -> None:
        try:
            self._drafts.flush()
        except StorageError as error:
            self._threads.to_ui(self._say_not_saved, error)

    def keep_now(self, conversation_id: str, text: str) -> None:
        """Write `text` (the composer's, and the files waiting with it) as the draft of
        `conversation_id` before the app exits (ctrl+q, SIGHUP, SIGTERM): on the event loop, as
        the threads may not get to run again."""
        self._drafts.stage(conversation_id, text)
        with contextlib.suppress(StorageError):  # exiting: nobody is left to tell
            self._drafts.flush()

    def switch(self, leaving: Conversation, opening: Conversation, at_start: bool) -> None:
        """The composer's text stays with the conversation it was typed in; the one opened
        gets its own draft back (reading a few KB on the event loop keeps the switch atomic).

        At start, what the user typed before the newest conversation was shown is meant for
        it: it goes along, after that conversation's own draft."""
        if leaving.id == opening.id:
            return  # reopened after a change elsewhere: the composer is left as it is
        typed = self._composer.text
        carried = at_start and not leaving.messages
        self.stage(leaving.id, "" if carried else typed)
        try:
            text = self._drafts.load(opening.id)
        except StorageError as error:
            self._say_not_saved(error)
            text = ""
        if carried and typed.strip():
            text = JOIN.join(part for part in (text, typed) if part.strip())
        if text != self._composer.text:
            self._composer.set_text(text)

    def unsaved(self, open_id: str) -> UnsavedDraft | None:
        """The newest draft of a conversation that was never saved (not the open one)."""
        paths = self._paths
        try:
            drafts = self._drafts.unsaved(paths.conversations_dir, paths.trash_dir)
        except StorageError:
            return None
        return next((d for d in drafts if d.conversation_id != open_id), None)

    def to_resume_at_start(
        self, open_id: str, newest_listed: datetime | None
    ) -> UnsavedDraft | None:
        """At start: an unsent draft of a never-saved conversation written after the newest
        conversation was last updated is where the user left off (an SSH session that dropped
        while they typed), so it is returned to open instead; an older one is only mentioned."""
        draft = self.unsaved(open_id)
        if draft is None:
            return None
        written = datetime.fromtimestamp(draft.written, UTC)
        if newest_listed is not None and written < newest_listed:
            # After the first refresh: a toast raised while the screen mounts is never drawn.
            self._composer.call_after_refresh(
                self._notify, "An unsent draft is kept: ctrl+n brings it back.", timeout=8
            )
            return None
        return draft

    def _say_not_saved(self, error: StorageError) -> None:
        if self._error_said:
            return  # once per run: the disk will refuse every pause in typing alike
        self._error_said = True
        self._notify(
            f"{error} Your draft stays in the composer but will not survive a quit.",
            severity="warning",
            timeout=10,
        )

"""Unsent drafts of the chat screen: what is typed in the composer survives a switch, a quit and
a dropped SSH session.

Kept apart from `chat.py`, which owns the screen's layout and the send/stream/save flow, so each
module has one job. `DraftKeeping` is mixed into `ChatScreen`. A draft belongs to its
conversation: it is staged when typing pauses and written in a thread, written at once when the
user switches conversation or the app exits, and put back in the composer when the conversation
is opened again. A draft whose conversation was never saved comes back as the next new
conversation (ctrl+n), or at start when it is the last thing the user touched.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual import work

from tui_chat.domain import Conversation
from tui_chat.storage.drafts import JOIN, UnsavedDraft
from tui_chat.storage.errors import StorageError

if TYPE_CHECKING:
    from tui_chat.ui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


class DraftKeeping(_Base):
    """Keeps each conversation's unsent draft on disk and brings it back."""

    _draft_error_said = False

    def stage_draft(self) -> None:
        """Typing paused: write the composer's text as the open conversation's draft, in a
        thread (an fsync must not hold up the next keystroke)."""
        self.services.drafts.stage(self.conversation.id, self.composer.text)
        self._flush_drafts()

    @work(thread=True, group="drafts")
    def _flush_drafts(self) -> None:
        try:
            self.services.drafts.flush()
        except StorageError as error:
            self._say_draft_not_saved(error)

    def keep_draft_now(self) -> None:
        """Write the open conversation's draft before the app exits (ctrl+q, SIGHUP, SIGTERM):
        on the event loop, as the threads may not get to run again."""
        if not self.is_mounted:
            return
        self.services.drafts.stage(self.conversation.id, self.composer.text)
        with contextlib.suppress(StorageError):  # exiting: nobody is left to tell
            self.services.drafts.flush()

    def switch_drafts(self, leaving: Conversation, opening: Conversation, at_start: bool) -> None:
        """The composer's text stays with the conversation it was typed in; the one opened
        gets its own draft back (reading a few KB on the event loop keeps the switch atomic).

        At start, what the user typed before the newest conversation was shown is meant for
        it: it goes along, after that conversation's own draft."""
        if leaving.id == opening.id:
            return  # reopened after a change elsewhere: the composer is left as it is
        drafts = self.services.drafts
        typed = self.composer.text
        carried = at_start and not leaving.messages
        drafts.stage(leaving.id, "" if carried else typed)
        self._flush_drafts()
        try:
            text = drafts.load(opening.id)
        except StorageError as error:
            self._say_draft_not_saved(error)
            text = ""
        if carried and typed.strip():
            text = JOIN.join(part for part in (text, typed) if part.strip())
        if text != self.composer.text:
            self.composer.set_text(text)

    def unsaved_draft(self) -> UnsavedDraft | None:
        """The newest draft of a conversation that was never saved (not the open one)."""
        paths = self.services.paths
        try:
            drafts = self.services.drafts.unsaved(paths.conversations_dir, paths.trash_dir)
        except StorageError:
            return None
        return next((d for d in drafts if d.conversation_id != self.conversation.id), None)

    def resume_unsaved_draft_at_start(self, newest_listed: datetime | None) -> bool:
        """At start: an unsent draft of a never-saved conversation written after the newest
        conversation was last updated is where the user left off (an SSH session that dropped
        while they typed), so it opens instead; an older one is only mentioned. True when it
        opened."""
        draft = self.unsaved_draft()
        if draft is None:
            return False
        written = datetime.fromtimestamp(draft.written, UTC)
        if newest_listed is not None and written < newest_listed:
            self.call_after_refresh(
                self.notify, "An unsent draft is kept: ctrl+n brings it back.", timeout=8
            )
            return False
        self.start_up.user_chose = True
        self.conversation = self.blank_conversation()
        self.conversation.id = draft.conversation_id
        self.pane.show_conversation(self.conversation)
        self.composer.set_text(draft.text)
        # After the first refresh: a toast raised while the screen mounts is never drawn.
        self.call_after_refresh(
            self.notify, "Your unsent message is back in the composer.", timeout=5
        )
        return True

    def _say_draft_not_saved(self, error: StorageError) -> None:
        if self._draft_error_said:
            return  # once per run: the disk will refuse every pause in typing alike
        self._draft_error_said = True
        self._notify_any_thread(
            f"{error} Your draft stays in the composer but will not survive a quit.", "warning"
        )

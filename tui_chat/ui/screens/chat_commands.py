"""Conversation commands of the chat screen: the list's actions and the palette's commands.

Kept apart from `chat.py`, which owns the screen's layout and the send/stream/save flow, so each
module has one job. `ConversationCommands` is mixed into `ChatScreen`; it only uses the screen's
public pieces (services, conversation, pane, composer, sidebar) and its save path.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from tui_chat.config import Profile
from tui_chat.domain import Conversation
from tui_chat.engine.errors import host_of
from tui_chat.engine.servers import effective_base_url, model_name_problem
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.storage.atomic import atomic_write_text, make_private_dir
from tui_chat.storage.errors import ConversationFileError, StorageError
from tui_chat.ui.screens.dialogs import (
    ChoiceDialog,
    ConfirmDialog,
    TextEditorDialog,
    TextInputDialog,
    dialog_title,
)

if TYPE_CHECKING:
    from tui_chat.ui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


class ConversationCommands(_Base):
    """Rename, pin, trash and restore; model, profile and system prompt; export, copy, $EDITOR."""

    def _with_conversation(self, conversation_id: str) -> Conversation | None:
        """The open conversation if it is that one, else it loaded from its file."""
        if conversation_id == self.conversation.id:
            return self.conversation
        try:
            return self.services.store.load(conversation_id)
        except ConversationFileError as error:
            self.notify(str(error), title="Cannot change this file", severity="error")
            return None

    async def rename(self, conversation_id: str | None = None) -> None:
        conversation = self._with_conversation(conversation_id or self.conversation.id)
        if conversation is None:
            return
        title = await self.app.push_screen_wait(
            TextInputDialog(
                "Rename conversation", sanitize_for_terminal(conversation.title), "Title"
            )
        )
        if title is None or not title.strip():
            return
        conversation.title = " ".join(title.split())
        conversation.touch()
        if conversation is self.conversation:
            self.pane.show_conversation(conversation)
        self._save_and_relist(conversation)

    async def toggle_pin(self, conversation_id: str | None = None) -> None:
        conversation = self._with_conversation(conversation_id or self.conversation.id)
        if conversation is None:
            return
        conversation.pinned = not conversation.pinned
        self._save_and_relist(conversation)
        self.notify("Pinned." if conversation.pinned else "Unpinned.")

    def _save_and_relist(self, conversation: Conversation) -> None:
        if not conversation.messages:
            self.notify("Say something first: an empty conversation has no file yet.")
            return
        self._save(conversation)
        self.reload_list()

    async def trash(self, conversation_id: str | None = None) -> None:
        conversation_id = conversation_id or self.conversation.id
        if conversation_id == self.conversation.id and self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.", severity="warning")
            return
        answer = await self.app.push_screen_wait(
            ConfirmDialog(
                "Delete",
                f"Move “{dialog_title(self._title_of(conversation_id))}” to the trash?"
                " (u in the list restores it)",
            )
        )
        if answer != "yes":
            return
        try:
            trashed_name = self.services.store.trash(conversation_id)
        except (StorageError, FileNotFoundError) as error:
            self.notify(f"Could not move it to the trash: {error}", severity="error")
            return
        self.recently_trashed.append(trashed_name)
        self.notify("Moved to the trash. Press u in the list to restore it.")
        neighbour = self.sidebar.remove_conversation(conversation_id)
        if conversation_id == self.conversation.id:
            # The open conversation is gone: its neighbour, now highlighted, is the one opened,
            # so the list and the message pane agree (a blank one when nothing is left).
            if neighbour is None:
                self.action_new_conversation()
            else:
                self.start_up.user_chose = True
                self.open_conversation(neighbour)
        self.reload_list(select=neighbour)

    def _title_of(self, conversation_id: str) -> str:
        """The title to name a conversation by without reading its file (it may be broken)."""
        if conversation_id == self.conversation.id:
            return self.conversation.display_title
        return self.sidebar.title_of(conversation_id) or conversation_id

    def restore_last_trashed(self) -> None:
        if not self.recently_trashed:
            self.notify("Nothing deleted in this session to restore.", severity="warning")
            return
        trashed_name = self.recently_trashed.pop()
        try:
            conversation_id = self.services.store.restore(trashed_name)
        except (StorageError, FileNotFoundError) as error:
            self.notify(f"Could not restore it: {error}", severity="error")
            return
        self.notify("Restored from the trash.")
        # Highlighted as soon as the list holds it again, and opened: the two agree.
        self.reload_list(select=conversation_id)
        self.open_conversation(conversation_id)

    # ------------------------------------------------------------ commands
    async def action_pick_model(self) -> None:
        """ctrl+o: the dialog opens at once, with the profile's models and a loading row; the
        server's list fills it in when it comes (the first ask imports openai and may take
        seconds, a down server up to MODELS_TIMEOUT). Awaiting the dialog's mount before the
        next key is handled (ctrl+o is a priority binding) sends the keys typed next to it."""
        conversation = self.conversation
        profile = self.services.config.profile(conversation.profile)
        dialog = ChoiceDialog(
            f"Model ({profile.name})",
            self._offered_models(profile, ()),
            conversation.model,
            loading_row=f"Asking {host_of(effective_base_url(profile))} for its models…",
            check_typed=model_name_problem,
        )
        await self.app.push_screen(dialog, partial(self._model_chosen, conversation, profile))
        self.fill_model_list(dialog, profile)

    def _offered_models(self, profile: Profile, listed: Sequence[str]) -> list[str]:
        """The profile's default and configured models first (offered even when the server
        cannot list its own), then the open conversation's and the server's."""
        config = self.services.config
        names = (config.model_for(profile), *profile.models, self.conversation.model, *listed)
        return list(dict.fromkeys(name for name in names if name))

    @work(exclusive=True, group="models")
    async def fill_model_list(self, dialog: ChoiceDialog, profile: Profile) -> None:
        """Ask the profile's server for its models and put them in the open `dialog`, with
        one sentence when the server could not say."""
        client = self.services.client_for(profile)
        listed = await client.list_models()
        if dialog.is_attached:  # the user may have chosen or left already
            error = client.models_error
            dialog.show_choices(
                self._offered_models(profile, listed), error.message if error else ""
            )

    def _model_chosen(
        self, conversation: Conversation, profile: Profile, choice: str | None
    ) -> None:
        if not choice:
            return
        conversation.model = choice
        # New conversations on this profile keep it for the rest of the session.
        self.models_chosen[profile.name] = choice
        self._after_settings_change(f"Model: {choice}")

    def session_model(self, profile: Profile) -> str:
        """The model a new conversation on `profile` starts with: the one chosen with ctrl+o in
        this session, else the profile's default."""
        return self.models_chosen.get(profile.name) or self.services.config.model_for(profile)

    async def pick_profile(self) -> None:
        config = self.services.config
        names = sorted(config.profiles)

        def no_such_profile(typed: str) -> str:
            known = ", ".join(names)
            if not typed.strip():
                return f"Pick a profile: {known}."
            return f"There is no profile named {typed.strip()!r}; the profiles are: {known}."

        choice = await self.app.push_screen_wait(
            ChoiceDialog("Profile", names, self.conversation.profile, check_typed=no_such_profile)
        )
        if choice and choice in config.profiles:
            profile = config.profiles[choice]
            self.conversation.profile = profile.name
            self.conversation.model = self.session_model(profile)
            self._after_settings_change(f"Profile: {profile.name}, model {self.conversation.model}")

    async def edit_system_prompt(self) -> None:
        text = await self.app.push_screen_wait(
            TextEditorDialog("System prompt", self.conversation.system)
        )
        if text is not None:
            self.conversation.system = text
            self.pane.system_changed()
            self._after_settings_change("System prompt updated.")

    def _after_settings_change(self, note: str) -> None:
        if self.conversation.messages:
            self._save(self.conversation)
            self.reload_list()
        self.recount_conversation()
        self._update_status()
        self.show_empty_hints()  # another profile may have, or lack, a key
        self.notify(note)

    # The palette's commands on the open conversation (declared in tui_chat/ui/actions.py).
    def action_rename_conversation(self) -> None:
        self.run_worker(self.rename(), group="dialog")

    def action_delete_conversation(self) -> None:
        self.run_worker(self.trash(), group="dialog")

    def action_restore_conversation(self) -> None:
        self.restore_last_trashed()

    def action_pin_conversation(self) -> None:
        self.run_worker(self.toggle_pin(), group="dialog")

    def action_export_conversation(self) -> None:
        self.export_markdown()

    def action_copy_conversation(self) -> None:
        self.copy_conversation()

    def action_pick_profile(self) -> None:
        self.run_worker(self.pick_profile(), group="dialog")

    def action_edit_system_prompt(self) -> None:
        self.run_worker(self.edit_system_prompt(), group="dialog")

    def export_markdown(self) -> None:
        """Write the conversation as Markdown into the data folder's exports/ and say where."""
        from tui_chat.export import to_markdown

        conversation = self.conversation
        folder = self.services.paths.exports_dir
        try:
            make_private_dir(folder)  # its file names are conversation ids
            target = folder / f"{conversation.id}.md"

            atomic_write_text(target, to_markdown(conversation), mode=0o600)
        except OSError as error:
            self.notify(f"Could not export: {error.strerror or error}", severity="error")
            return
        self.notify(f"Exported to {target}", timeout=8)

    def copy_conversation(self) -> None:
        from tui_chat.export import to_markdown

        self.app.copy_to_clipboard(to_markdown(self.conversation))
        self.notify("Copied the whole conversation as Markdown.")

    def action_focus_composer(self) -> None:
        self.composer.focus()

    def action_edit_in_editor(self) -> None:
        """ctrl+e: edit the composer's text in $VISUAL / $EDITOR, then come back."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile(
            "w", suffix=".md", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(self.composer.text)
            path = Path(handle.name)
        try:
            with self.app.suspend():
                result = subprocess.run([*shlex.split(editor), str(path)], check=False)
            if result.returncode == 0:
                self.composer.set_text(path.read_text(encoding="utf-8").rstrip("\n"))
            else:
                self.notify(
                    f"{editor} exited with {result.returncode}; text unchanged.", severity="warning"
                )
        except Exception as error:  # SuspendNotSupported, editor missing: say so, keep the text
            self.notify(f"Could not run {editor}: {error}", severity="error")
        finally:
            path.unlink(missing_ok=True)
        self.composer.focus()

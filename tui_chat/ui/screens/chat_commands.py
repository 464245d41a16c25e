"""Conversation commands of the chat screen: the list's actions and the palette's commands.

`ConversationCommands` is a helper the chat screen owns. It changes conversations through
dialogs (run it in a worker: a dialog waits for the user's answer) and asks the screen, through
`ChatControls`, for the few things only the screen does: save, relist, open.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from textual.app import App

from tui_chat.config import Profile
from tui_chat.domain import Conversation
from tui_chat.engine.errors import host_of
from tui_chat.engine.servers import effective_base_url, model_name_problem
from tui_chat.export import to_markdown
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.storage.atomic import atomic_write_text, make_private_dir
from tui_chat.storage.errors import ConversationFileError, StorageError
from tui_chat.ui.background import Notify
from tui_chat.ui.screens.dialogs import (
    ChoiceDialog,
    ConfirmDialog,
    TextEditorDialog,
    TextInputDialog,
    dialog_title,
)
from tui_chat.ui.services import Services
from tui_chat.ui.widgets.composer import Composer
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.sidebar import Sidebar


class ChatControls(Protocol):
    """What the commands ask of the screen that owns them."""

    @property
    def conversation(self) -> Conversation:
        """The open conversation."""
        ...

    @property
    def streaming(self) -> bool:
        """A reply to the open conversation is under way."""
        ...

    def save(self, conversation: Conversation) -> None:
        """Save `conversation` and say what the user must know."""

    def reload_list(self, select: str | None = None) -> None:
        """Read the list again; highlight `select` once listed."""

    def open_chosen(self, conversation_id: str) -> None:
        """Open a conversation the user chose (start-up's own choice gives way)."""

    def action_new_conversation(self) -> None:
        """Show a blank conversation, as ctrl+n does."""

    def settings_changed(self, note: str) -> None:
        """The open conversation's model, profile or system prompt changed; `note` says how."""


class ConversationCommands:
    """Rename, pin, trash and restore; model, profile and system prompt; export, copy, $EDITOR."""

    def __init__(
        self,
        app: App[None],
        services: Services,
        controls: ChatControls,
        notify: Notify,
        *,
        sidebar: Sidebar,
        pane: MessagePane,
        composer: Composer,
    ) -> None:
        self._app = app
        self._services = services
        self._controls = controls
        self._notify = notify
        self._sidebar = sidebar
        self._pane = pane
        self._composer = composer
        self._recently_trashed: list[str] = []
        # Profile name -> the model chosen with ctrl+o in this session (new conversations use it).
        self._models_chosen: dict[str, str] = {}

    @property
    def _conversation(self) -> Conversation:
        return self._controls.conversation

    def _with_conversation(self, conversation_id: str) -> Conversation | None:
        """The open conversation if it is that one, else it loaded from its file."""
        if conversation_id == self._conversation.id:
            return self._conversation
        try:
            return self._services.store.load(conversation_id)
        except ConversationFileError as error:
            self._notify(str(error), title="Cannot change this file", severity="error")
            return None

    async def rename(self, conversation_id: str | None = None) -> None:
        conversation = self._with_conversation(conversation_id or self._conversation.id)
        if conversation is None:
            return
        title = await self._app.push_screen_wait(
            TextInputDialog(
                "Rename conversation", sanitize_for_terminal(conversation.title), "Title"
            )
        )
        if title is None or not title.strip():
            return
        conversation.title = " ".join(title.split())
        conversation.touch()
        if conversation is self._conversation:
            self._pane.show_conversation(conversation)
        self._save_and_relist(conversation)

    async def toggle_pin(self, conversation_id: str | None = None) -> None:
        conversation = self._with_conversation(conversation_id or self._conversation.id)
        if conversation is None:
            return
        conversation.pinned = not conversation.pinned
        self._save_and_relist(conversation)
        self._notify("Pinned." if conversation.pinned else "Unpinned.")

    def _save_and_relist(self, conversation: Conversation) -> None:
        if not conversation.messages:
            self._notify("Say something first: an empty conversation has no file yet.")
            return
        self._controls.save(conversation)
        self._controls.reload_list()

    async def trash(self, conversation_id: str | None = None) -> None:
        conversation_id = conversation_id or self._conversation.id
        if conversation_id == self._conversation.id and self._controls.streaming:
            self._notify("A reply is streaming: press Esc to stop it first.", severity="warning")
            return
        answer = await self._app.push_screen_wait(
            ConfirmDialog(
                "Delete",
                f"Move “{dialog_title(self._title_of(conversation_id))}” to the trash?"
                " (u in the list restores it)",
            )
        )
        if answer != "yes":
            return
        try:
            trashed_name = self._services.store.trash(conversation_id)
        except (StorageError, FileNotFoundError) as error:
            self._notify(f"Could not move it to the trash: {error}", severity="error")
            return
        self._recently_trashed.append(trashed_name)
        self._notify("Moved to the trash. Press u in the list to restore it.")
        neighbour = self._sidebar.remove_conversation(conversation_id)
        if conversation_id == self._conversation.id:
            # The open conversation is gone: its neighbour, now highlighted, is the one opened,
            # so the list and the message pane agree (a blank one when nothing is left).
            if neighbour is None:
                self._controls.action_new_conversation()
            else:
                self._controls.open_chosen(neighbour)
        self._controls.reload_list(select=neighbour)

    def _title_of(self, conversation_id: str) -> str:
        """The title to name a conversation by without reading its file (it may be broken)."""
        if conversation_id == self._conversation.id:
            return self._conversation.display_title
        return self._sidebar.title_of(conversation_id) or conversation_id

    def restore_last_trashed(self) -> None:
        if not self._recently_trashed:
            self._notify("Nothing deleted in this session to restore.", severity="warning")
            return
        trashed_name = self._recently_trashed.pop()
        try:
            conversation_id = self._services.store.restore(trashed_name)
        except (StorageError, FileNotFoundError) as error:
            self._notify(f"Could not restore it: {error}", severity="error")
            return
        self._notify("Restored from the trash.")
        # Highlighted as soon as the list holds it again, and opened: the two agree.
        self._controls.reload_list(select=conversation_id)
        self._controls.open_chosen(conversation_id)

    # ------------------------------------------------------------ commands
    async def pick_model(self) -> None:
        """ctrl+o: the dialog opens at once, with the profile's models and a loading row; the
        server's list fills it in when it comes (the first ask imports openai and may take
        seconds, a down server up to MODELS_TIMEOUT). Awaiting the dialog's mount before the
        next key is handled (ctrl+o is a priority binding) sends the keys typed next to it."""
        conversation = self._conversation
        profile = self._services.config.profile(conversation.profile)
        dialog = ChoiceDialog(
            f"Model ({profile.name})",
            self._offered_models(profile, ()),
            conversation.model,
            loading_row=f"Asking {host_of(effective_base_url(profile))} for its models…",
            check_typed=model_name_problem,
        )
        await self._app.push_screen(dialog, partial(self._model_chosen, conversation, profile))
        # The dialog owns the worker: leaving it ends the asking.
        dialog.run_worker(self._fill_model_list(dialog, profile), exclusive=True, group="models")

    def _offered_models(self, profile: Profile, listed: Sequence[str]) -> list[str]:
        """The profile's default and configured models first (offered even when the server
        cannot list its own), then the open conversation's and the server's."""
        config = self._services.config
        names = (config.model_for(profile), *profile.models, self._conversation.model, *listed)
        return list(dict.fromkeys(name for name in names if name))

    async def _fill_model_list(self, dialog: ChoiceDialog, profile: Profile) -> None:
        """Ask the profile's server for its models and put them in the open `dialog`, with
        one sentence when the server could not say."""
        client = self._services.client_for(profile)
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
        self._models_chosen[profile.name] = choice
        self._controls.settings_changed(f"Model: {choice}")

    def session_model(self, profile: Profile) -> str:
        """The model a new conversation on `profile` starts with: the one chosen with ctrl+o in
        this session, else the profile's default."""
        return self._models_chosen.get(profile.name) or self._services.config.model_for(profile)

    async def pick_profile(self) -> None:
        config = self._services.config
        names = sorted(config.profiles)

        def no_such_profile(typed: str) -> str:
            known = ", ".join(names)
            if not typed.strip():
                return f"Pick a profile: {known}."
            return f"There is no profile named {typed.strip()!r}; the profiles are: {known}."

        choice = await self._app.push_screen_wait(
            ChoiceDialog("Profile", names, self._conversation.profile, check_typed=no_such_profile)
        )
        if choice and choice in config.profiles:
            profile = config.profiles[choice]
            self._conversation.profile = profile.name
            self._conversation.model = self.session_model(profile)
            self._controls.settings_changed(
                f"Profile: {profile.name}, model {self._conversation.model}"
            )

    async def edit_system_prompt(self) -> None:
        text = await self._app.push_screen_wait(
            TextEditorDialog("System prompt", self._conversation.system)
        )
        if text is not None:
            self._conversation.system = text
            self._pane.system_changed()
            self._controls.settings_changed("System prompt updated.")

    def export_markdown(self) -> None:
        """Write the conversation as Markdown into the data folder's exports/ and say where."""
        conversation = self._conversation
        folder = self._services.paths.exports_dir
        try:
            make_private_dir(folder)  # its file names are conversation ids
            target = folder / f"{conversation.id}.md"

            atomic_write_text(target, to_markdown(conversation), mode=0o600)
        except OSError as error:
            self._notify(f"Could not export: {error.strerror or error}", severity="error")
            return
        self._notify(f"Exported to {target}", timeout=8)

    def copy_conversation(self) -> None:
        self._app.copy_to_clipboard(to_markdown(self._conversation))
        self._notify("Copied the whole conversation as Markdown.")

    def edit_in_editor(self) -> None:
        """ctrl+e: edit the composer's text in $VISUAL / $EDITOR, then come back."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile(
            "w", suffix=".md", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(self._composer.text)
            path = Path(handle.name)
        try:
            with self._app.suspend():
                result = subprocess.run([*shlex.split(editor), str(path)], check=False)
            if result.returncode == 0:
                self._composer.set_text(path.read_text(encoding="utf-8").rstrip("\n"))
            else:
                self._notify(
                    f"{editor} exited with {result.returncode}; text unchanged.", severity="warning"
                )
        except Exception as error:  # SuspendNotSupported, editor missing: say so, keep the text
            self._notify(f"Could not run {editor}: {error}", severity="error")
        finally:
            path.unlink(missing_ok=True)
        self._composer.focus()

"""The main screen: sidebar, message pane, composer and status bar, and the wiring between them.

State lives in one place: `self.conversation`, the open Conversation. The message pane holds a
reference to that same object; the store saves it; the engine reads it to build requests. A
reply is asked for, streamed and saved by `tui_chat.flow.ReplyFlow`; the screen repaints from
its events. Its jobs are done by helpers it owns, each told only what it needs:
`ConversationListing` (the list, start-up, polling), `DraftKeeper`, `LiveFigures` (counts and
the status bar), `MessageSearch`, `FirstRun` (no API key yet), `ConversationCommands` (the
list's and the palette's commands), `SidebarPlacement` (the sidebar by width), `AttachedFiles`
(the files waiting to go with the next message) and `PathCompletion` (the `@` list).
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from tui_chat.domain import Conversation, Message
from tui_chat.domain.attachments import Attachment
from tui_chat.engine.errors import ChatError
from tui_chat.engine.servers import effective_base_url
from tui_chat.flow import (
    FlowEvent,
    ReplyEnded,
    ReplyFlow,
    ReplyStarted,
    ReplyUpdated,
    Saved,
    SaveFailed,
    SaveReport,
    mark_unfinished_replies,
    plan_shorter_fork,
    save_conversation,
)
from tui_chat.storage.errors import ConversationFileError, StorageError
from tui_chat.ui.background import ThreadWork
from tui_chat.ui.bindings import CHAT_SCREEN_BINDINGS, LOCAL_SERVER_BINDINGS, key_names
from tui_chat.ui.screens.chat_attachments import AttachedFiles
from tui_chat.ui.screens.chat_commands import ConversationCommands
from tui_chat.ui.screens.chat_drafts import DraftKeeper
from tui_chat.ui.screens.chat_figures import LiveFigures, token_label
from tui_chat.ui.screens.chat_first_run import FirstRun
from tui_chat.ui.screens.chat_layout import SidebarPlacement, width_class
from tui_chat.ui.screens.chat_listing import ConversationListing, newest_update
from tui_chat.ui.screens.chat_mentions import PathCompletion
from tui_chat.ui.screens.chat_search import MessageSearch
from tui_chat.ui.screens.chat_tools import ChatTools
from tui_chat.ui.screens.dialogs import ConfirmDialog
from tui_chat.ui.services import Services
from tui_chat.ui.start_request import StartRequest
from tui_chat.ui.textual_compat import withdraw_notification
from tui_chat.ui.themes import code_theme_of
from tui_chat.ui.widgets.attachment_strip import AttachmentStrip
from tui_chat.ui.widgets.composer import Composer
from tui_chat.ui.widgets.key_footer import KeyFooter
from tui_chat.ui.widgets.message_layout import DEFAULT_HINTS, Hint
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.path_menu import PathMenu
from tui_chat.ui.widgets.sidebar import Sidebar
from tui_chat.ui.widgets.status_bar import StatusBar

# Count when the typist pauses: a status repaint between keystrokes delayed the next key's
# frame (keystroke p95 20.8 ms -> ~6 ms at 0.5 s; see the benchmark).
COMPOSER_COUNT_DELAY = 0.4
STORE_POLL_SECONDS = 2.0
BACKGROUND_WORK_FALLBACK_DELAY = 2.0
STREAMING_WARNING = "A reply is streaming: press Esc to stop it first."


class ChatScreen(Screen[None]):
    """Where the user reads, writes and manages conversations."""

    BINDINGS = [*CHAT_SCREEN_BINDINGS, *LOCAL_SERVER_BINDINGS]

    def __init__(self, services: Services, start: StartRequest | None = None) -> None:
        super().__init__()
        self.services = services
        self.start_request = start or StartRequest()
        config = services.config
        profile = config.profile()
        self.conversation = Conversation.new(
            profile=profile.name, model=config.model_for(profile), system=config.system_prompt
        )
        self.reply_flow: ReplyFlow | None = None
        self.reply_worker: Worker[Message] | None = None
        self._composer_timer: Timer | None = None
        # The widgets exist from the start, so the helpers can be given the ones they use.
        self.sidebar = Sidebar(id="sidebar")
        self.pane = MessagePane(code_theme=code_theme_of(self.app.current_theme), id="messages")
        self.composer = Composer(key_map=services.key_map, id="composer")
        keys = services.key_map
        self.path_menu = PathMenu(
            hint=f"{key_names(keys.keys_of('completion.accept'), joiner='/')} attach · "
            f"{key_names(keys.keys_of('completion.close'), joiner='/')} closes",
            id="path-menu",
        )
        self.attachment_strip = AttachmentStrip(id="attachments")
        self.status_bar = StatusBar(id="status")
        self.sidebar_placement = SidebarPlacement()
        threads = ThreadWork(self)
        self.live_figures = LiveFigures(services, self.status_bar, threads, self.notify, self._open)
        self.drafts = DraftKeeper(
            services.drafts, services.paths, self.composer, threads, self.notify
        )
        cwd = Path.cwd()
        self.files = AttachedFiles(
            counter=services.counter,
            images=services.images,
            strip=self.attachment_strip,
            composer=self.composer,
            threads=threads,
            notify=self.notify,
            conversation=self._open,
            changed=self.live_figures.attachments_changed,
            counted=self.pane.attachment_counts_changed,
            cwd=cwd,
        )
        self.completion = PathCompletion(
            self.composer, self.path_menu, threads, self.files.attach, cwd, self.set_timer
        )
        self.search = MessageSearch(
            services.store, self.sidebar, self.pane, threads, self.notify, self._open_id
        )
        self.first_run = FirstRun(
            services,
            threads,
            self.notify,
            self._open,
            self.show_empty_hints,
            withdraw=lambda notice: withdraw_notification(self.app, notice),
        )
        self.listing = ConversationListing(
            services.store,
            services.last_open,
            self.sidebar,
            threads,
            self.notify,
            open_id=self._open_id,
            open_at_start=self._open_at_start,
            reopen=self._reopen_after_change_elsewhere,
            background_work=self._background_work,
        )
        self.commands = ConversationCommands(
            self.app,
            services,
            self,
            self.notify,
            sidebar=self.sidebar,
            pane=self.pane,
            composer=self.composer,
        )
        self._threads = threads

    def _open(self) -> Conversation:
        return self.conversation

    def _open_id(self) -> str:
        return self.conversation.id
        self.tools: ChatTools | None = None  # made on mount: it needs the app

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield self.sidebar
            with Vertical(id="chat"):
                yield self.pane
                yield self.path_menu
                yield self.attachment_strip
                yield self.composer
                yield self.status_bar
        yield KeyFooter()

    @property
    def streaming(self) -> bool:
        return self.reply_worker is not None and self.reply_worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def on_mount(self) -> None:
        self.tools = ChatTools(
            self.app, self.services.toolbox, self.services.key_map, self.action_stop_reply
        )
        # Before anything is drawn: Textual sets the width classes on the first resize, after
        # the first frame, which drew the sidebar 32 wide, then 26 with its rows cut.
        self.fit_width(self.app.size.width)
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self.pane.token_label = token_label
        self.pane.attachment_count = self.files.count_of
        self.show_empty_hints()
        self.pane.show_conversation(self.conversation)
        self.composer.focus()
        self.live_figures.update_status()
        request = self.start_request  # from the shell: a conversation, or piped text
        head = self.listing.read_cache(open_first=request.conversation_id)
        if request.composer_text:
            self.listing.user_chose()  # the new conversation stays: nothing replaces it
            self.composer.set_text(request.composer_text)
        elif request.conversation_id is None:
            self._resume_unsaved_draft_at_start(newest_update(head))
        self.listing.show_first_list(head)
        # Whatever prevents the first screen from completing, background work starts anyway.
        self.set_timer(BACKGROUND_WORK_FALLBACK_DELAY, self.listing.start_background_work)
        self.set_interval(STORE_POLL_SECONDS, self.listing.poll)

    def _theme_changed(self) -> None:
        """Code blocks follow the theme too (the pane renders them with a Pygments style)."""
        self.pane.code_theme = code_theme_of(self.app.current_theme)

    def _background_work(self) -> None:
        """Once the first screen is drawn: prepare the engine and, with no API key, look for
        local servers."""
        self.live_figures.prepare_engine()
        self.first_run.look_for_local_servers()

    def _resume_unsaved_draft_at_start(self, newest_listed: datetime | None) -> None:
        draft = self.drafts.to_resume_at_start(self.conversation.id, newest_listed)
        if draft is None:
            return
        self.listing.user_chose()
        self.conversation = self.blank_conversation()
        self.conversation.id = draft.conversation_id
        self.pane.show_conversation(self.conversation)
        self.composer.set_text(draft.text)
        # After the first refresh: a toast raised while the screen mounts is never drawn.
        self.call_after_refresh(
            self.notify, "Your unsent message is back in the composer.", timeout=5
        )

    # ------------------------------------------------------------- width
    def on_resize(self, event: Resize) -> None:
        # The width classes are Textual's to set on a resize (Screen._on_resize runs first).
        self._show_sidebar(self.sidebar_placement.fit(event.size.width))

    def fit_width(self, width: int) -> None:
        """Set the width class as Textual does on a resize, for the frames before its first
        one, and show or hide the sidebar."""
        breakpoints = self.app.HORIZONTAL_BREAKPOINTS or []
        chosen = width_class(width, breakpoints)
        self.update_classes({name: name == chosen for _, name in breakpoints})
        self._show_sidebar(self.sidebar_placement.fit(width))

    def action_toggle_sidebar(self) -> None:
        """ctrl+b: hide or show the sidebar (on a narrow terminal: show it to choose from)."""
        self._show_sidebar(self.sidebar_placement.toggle())
        if self.sidebar.display and self.sidebar_placement.narrow:
            self.sidebar.option_list.focus()

    def _show_sidebar(self, visible: bool) -> None:
        sidebar = self.sidebar
        if sidebar.display == visible:
            return
        focused = self.focused
        moving_focus = not visible and focused is not None and sidebar in focused.ancestors
        sidebar.display = visible
        if moving_focus:
            self.composer.focus()

    # ---------------------------------------------------- open and create
    def open_conversation(
        self,
        conversation_id: str,
        quiet: bool = False,
        at_start: bool = False,
        at_hit: bool = False,
    ) -> None:
        """Load a conversation off the event loop and show it. One opened `at_start` gives way
        to whatever the user chose while it loaded; one opened `at_hit` (from search results)
        shows its first message hit."""

        def load() -> None:
            try:
                conversation = self.services.store.load(conversation_id)
            except (ConversationFileError, StorageError, FileNotFoundError) as error:
                if not quiet:
                    self._threads.to_ui(self._say_cannot_open, error)
                # At start-up the list's check waits for the first open, whatever its outcome.
                self._threads.to_ui(self.listing.start_background_work)
                return
            mark_unfinished_replies(conversation)
            # Exclusive workers cannot stop a thread: if the user opened another conversation
            # while this (large) one loaded, this one must not replace it.
            if not self._threads.cancelled():
                self._threads.to_ui(self._show_conversation, conversation, quiet, at_start, at_hit)

        self._threads.start(load, group="open", exclusive=True)

    def _say_cannot_open(self, error: Exception) -> None:
        self.notify(str(error), title="Cannot open this file", severity="error", timeout=10)

    def _open_at_start(self, conversation_id: str, quiet: bool) -> None:
        self.open_conversation(conversation_id, quiet=quiet, at_start=True)

    def _reopen_after_change_elsewhere(self) -> None:
        if not self.streaming:
            self.open_conversation(self.conversation.id, quiet=True)

    def open_chosen(self, conversation_id: str) -> None:
        """Open a conversation the user chose (start-up's own choice gives way)."""
        self.listing.user_chose()
        self.open_conversation(conversation_id)

    def _show_conversation(
        self,
        conversation: Conversation,
        quiet: bool = False,
        at_start: bool = False,
        at_hit: bool = False,
    ) -> None:
        if at_start and self.listing.start_up.user_chose:
            self.listing.start_background_work()
            return
        if self.streaming:
            if not quiet:
                self.notify(STREAMING_WARNING, severity="warning")
            return
        if conversation.id != self.conversation.id:
            self._keep_unsent_fork()
        self.files.switch(self.conversation.id, conversation.id)
        self.drafts.switch(self.conversation, conversation, at_start)
        self.conversation = conversation
        self.files.count_sent(conversation)
        self.show_empty_hints()  # its profile may have a key where the last one had none
        self.pane.show_conversation(conversation)
        self.search.give_pane_its_hits()
        if at_hit:
            self.pane.select_hit(0)
            self.pane.focus()  # where n / N work
        self.sidebar.select_conversation(conversation.id)
        self.live_figures.recount_conversation()
        self.call_after_refresh(self.listing.start_background_work)

    def _keep_unsent_fork(self) -> None:
        """Leaving a fork (edit-and-resend) with words typed and not sent: it is saved, so it
        comes back with the messages it was made from; its draft alone would bring back a
        blank conversation. (An emptied composer leaves nothing behind: the history is the
        original's.)"""
        conversation = self.conversation
        if (
            conversation.messages
            and self.composer.text.strip()
            and self.services.store.never_saved(conversation.id)
        ):
            self.save(conversation)

    def action_new_conversation(self) -> None:
        """ctrl+n: a blank conversation (from a saved one: first the one left unsent)."""
        if self.streaming:
            self.notify(STREAMING_WARNING, severity="warning")
            return
        self.listing.user_chose()
        # From a saved conversation, ctrl+n first brings back a new one that was left unsent
        # (its draft would otherwise wait for the next start); ctrl+n again gives a blank one.
        draft = self.drafts.unsaved(self.conversation.id) if self.conversation.messages else None
        conversation = self.blank_conversation()
        if draft is not None:
            conversation.id = draft.conversation_id  # its draft is this conversation's own
            self.notify("Your unsent message is back; ctrl+n again for a blank conversation.")
        self._show_conversation(conversation)
        self.composer.focus()

    def blank_conversation(self) -> Conversation:
        """A new conversation on the open one's profile, with the profile's default model or the
        one chosen with ctrl+o in this session (the empty pane then says so), never merely the
        model of whatever conversation happened to be open."""
        config = self.services.config
        profile = config.profile(self.conversation.profile)
        return Conversation.new(
            profile=profile.name,
            model=self.commands.session_model(profile),
            system=config.system_prompt,
        )

    def show_empty_hints(self) -> None:
        """What an empty conversation's pane says: how to start (with no key, how to get going),
        and which model a first message goes to when it is not the profile's default, so a
        message is never sent to a model the user did not expect."""
        conversation = self.conversation
        config = self.services.config
        hints = self.first_run.hints() or list(DEFAULT_HINTS)
        default = config.model_for(config.profile(conversation.profile))
        if not conversation.messages and conversation.model != default:
            hints.append(
                Hint(
                    f"Model: {conversation.model}, not the profile's default {default} "
                    "(ctrl+o to change)."
                )
            )
        self.pane.show_empty_hints(hints)

    @on(Sidebar.Opened)
    def _sidebar_opened(self, event: Sidebar.Opened) -> None:
        self.listing.user_chose()
        if self.search.opens_at_a_hit(event.conversation_id):
            # The pane takes the focus once the conversation is shown, at its first hit.
            self.open_conversation(event.conversation_id, at_hit=True)
            return
        self.open_conversation(event.conversation_id)
        self._show_sidebar(self.sidebar_placement.conversation_opened())
        self.composer.focus()

    # ------------------------------------------------------------ sending
    @on(Composer.Submitted)
    def _composer_submitted(self, event: Composer.Submitted) -> None:
        if self.streaming:
            self.notify(
                "A reply is still streaming: press Esc to stop it, then send.", severity="warning"
            )
            return
        if self.first_run.refuse_without_api_key(event.text):
            return
        self.listing.user_chose()
        # The files the text names with @path are read first (in a thread), then it goes.
        self.files.before_send(event.text, self._send)

    def _send(self, text: str, attachments: list[Attachment]) -> None:
        if self.streaming:  # a reply began while the files named were read
            self.notify(STREAMING_WARNING, severity="warning")
            return
        self.conversation.add(Message(role="user", content=text, attachments=attachments))
        # Sent: no longer a draft, under the id it was typed in (a save may fork the id).
        self.drafts.stage(self.conversation.id, "")
        # load_text, not clear(): clear() extracts the replaced text first (4 s for a 5 MB paste).
        self.composer.load_text("")
        self.files.sent()
        self.files.count_sent(self.conversation)
        self.pane.message_added()
        self.start_reply()

    def start_reply(self) -> None:
        """Ask for the next reply to the open conversation (its last message is the prompt)."""
        services = self.services
        conversation = self.conversation
        profile = services.config.profile(conversation.profile)
        self.reply_flow = ReplyFlow(
            conversation,
            services.client_for(profile),
            store=services.store,
            counter=services.counter,
            prices=services.prices,
            clock=services.clock,
            listener=self._reply_event,
            toolbox=services.toolbox,
            approver=self.tools.approve if self.tools is not None else None,
        )
        if self.tools is not None:
            self.tools.reply_starting()
        self.reply_worker = self.run_worker(
            self.reply_flow.run(), exclusive=True, group="reply", name="reply"
        )

    def _reply_event(self, event: FlowEvent) -> None:
        """Repaint from the reply flow (it runs in this screen's async worker, so on the event
        loop). At exit the widgets go before the worker ends: the flow has saved by then, and
        what is gone is not repainted."""
        shown = self.pane.is_attached
        if isinstance(event, ReplyUpdated):  # first: once per delta
            if shown:
                self.pane.message_changed(event.index)
                self.live_figures.schedule_status()
        elif isinstance(event, ReplyEnded):
            self._reply_ended(event, shown)
        elif not shown:
            return
        elif isinstance(event, ReplyStarted):
            self.live_figures.reply_started(event.recorder, event.prompt_tokens)
            self.listing.reload()  # the prompt is saved
            self.pane.message_added()
        elif isinstance(event, Saved):
            self._say_save_report(SaveReport(outcome=event.outcome))
        elif isinstance(event, SaveFailed):
            self._say_save_report(SaveReport(error=event.error))
        elif self.tools is not None:
            self.tools.flow_event(event, self.pane)

    def _reply_ended(self, event: ReplyEnded, shown: bool) -> None:
        if not shown:
            self.live_figures.reply_ended(None)
            return
        self.pane.message_changed(event.index)
        self.live_figures.reply_ended(event.completion_tokens)
        self.listing.reload()
        failure = event.failure
        if failure is not None and failure.kind == "context_length" and not event.interrupted:
            self.run_worker(self.offer_shorter_fork(failure), group="dialog")

    async def offer_shorter_fork(self, failure: ChatError) -> None:
        """Too long for the model: offer to retry in a fork without the oldest messages, cut
        so the request fits the model's window with room for the reply.

        A fork, so nothing the user wrote is removed from the original conversation.
        """
        conversation = self.conversation
        services = self.services
        profile = services.config.profile(conversation.profile)
        plan = plan_shorter_fork(
            conversation,
            failure,
            counter=services.counter,
            prices=services.prices,
            base_url=effective_base_url(profile),
            reply_tokens=profile.max_tokens,
        )
        if plan is None:
            return
        answer = await self.app.push_screen_wait(
            ConfirmDialog("Too long for the model", plan.question)
        )
        if answer != "yes":
            return
        self._show_conversation(plan.fork(conversation))
        self.start_reply()

    def action_stop_reply(self) -> None:
        """Esc: stop the reply (the partial text is kept, marked interrupted)."""
        if self.streaming and self.reply_worker is not None:
            self.reply_worker.cancel()
            self.notify("Reply stopped; the partial text is kept.")
        elif self.sidebar.filter_input.has_focus or (
            self.sidebar.searching and self.sidebar.has_focus_within
        ):
            self.sidebar.clear_filter(current_id=self.conversation.id)
            self.sidebar.option_list.focus()

    def action_show_tools(self) -> None:
        """Palette "Tools": the tools of the MCP servers, switchable off for this conversation."""
        if self.tools is not None:
            save = functools.partial(self.save, self.conversation)
            self.run_worker(self.tools.show_tools(self.conversation, save), group="dialog")

    def action_regenerate(self) -> None:
        """ctrl+r: ask again for the last reply (after an error, or for a different answer)."""
        if self.streaming:
            self.notify(STREAMING_WARNING, severity="warning")
            return
        messages = self.conversation.messages
        if not messages:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        if messages[-1].role == "assistant":
            # The whole last answer goes: its text, and the tool calls (with results) it made.
            while messages and messages[-1].role == "assistant":
                messages.pop()
            self.pane.show_conversation(self.conversation)
        if not messages or messages[-1].role != "user":
            self.notify("The last message is not a prompt; send a new one.", severity="warning")
            return
        self.start_reply()

    # ------------------------------------------------------------- saving
    def save(self, conversation: Conversation) -> None:
        """Save `conversation` and say what the user must know: the disk refused, or the file
        was merged with a change made elsewhere."""
        self._say_save_report(save_conversation(self.services.store, conversation))

    def _say_save_report(self, report: SaveReport) -> None:
        if report.error is not None:
            self.notify(
                f"{report.error} Your text is still here; nothing was lost.",
                severity="error",
                timeout=10,
            )
        elif report.outcome is not None and report.outcome.message:
            # Merged with, or forked from, someone else's change: say so and show the result.
            self.notify(report.outcome.message, severity="warning", timeout=10)
            self.pane.show_conversation(self.conversation)

    def reload_list(self, select: str | None = None) -> None:
        """Read the list again; highlight `select` once listed."""
        self.listing.reload(select=select)

    def settings_changed(self, note: str) -> None:
        """The open conversation's model, profile or system prompt changed: save, recount,
        redraw, and say `note`."""
        if self.conversation.messages:
            self.save(self.conversation)
            self.listing.reload()
        self.live_figures.recount_conversation()
        self.files.recount(self.conversation)  # an image costs another model other tokens
        self.live_figures.update_status()
        self.show_empty_hints()  # another profile may have, or lack, a key
        self.first_run.settings_changed()
        self.notify(note)

    # ------------------------------------------------------ the composer
    @on(TextArea.SelectionChanged, "#composer")
    def _composer_cursor_moved(self) -> None:
        self.completion.cursor_moved()

    @on(Composer.CompletionKey)
    def _completion_key(self, event: Composer.CompletionKey) -> None:
        self.completion.command(event.command, event.chosen)

    @on(AttachmentStrip.RemoveRequested)
    def _remove_attachment(self, event: AttachmentStrip.RemoveRequested) -> None:
        self.files.remove(event.index)

    @on(TextArea.Changed, "#composer")
    def _composer_changed(self) -> None:
        self.completion.cursor_moved()
        if self.composer.text:
            # Typing at start is a choice: the conversation being typed in stays, rather than
            # give way (with the words) to one opened from the list a moment later.
            self.listing.user_chose()
        # Counting and keeping the draft wait for a pause in typing: the keystroke path stays
        # cheap.
        if self._composer_timer is not None:
            self._composer_timer.stop()
        self._composer_timer = self.set_timer(COMPOSER_COUNT_DELAY, self._composer_paused)

    def _composer_paused(self) -> None:
        text = self.composer.text
        self.live_figures.count_composer(text)
        self.drafts.stage(self.conversation.id, text)

    def action_focus_composer(self) -> None:
        self.composer.focus()

    def action_edit_in_editor(self) -> None:
        self.commands.edit_in_editor()

    # ------------------------------------------------------ message pane
    @on(MessagePane.CopyRequested)
    def _copy(self, event: MessagePane.CopyRequested) -> None:
        self.app.copy_to_clipboard(event.text)
        self.notify(f"Copied {event.what} ({len(event.text):,} characters) to the clipboard.")

    @on(MessagePane.EditRequested)
    def _edit(self, event: MessagePane.EditRequested) -> None:
        """Put a user message back in the composer, in a fork: the original stays intact."""
        if self.streaming:
            self.notify(STREAMING_WARNING, severity="warning")
            return
        self.listing.user_chose()
        original = self.conversation
        message = original.messages[event.index]
        fork = original.fork_before(event.index)
        self._show_conversation(fork)
        self.composer.set_text(message.content)
        self.files.put_back(message.attachments)
        self.composer.focus()
        self.notify("Editing in a new fork; the original conversation is kept.")

    # ------------------------------------------------- the list's messages
    @on(Sidebar.SearchRequested)
    def _search(self, event: Sidebar.SearchRequested) -> None:
        self.search.search(event.query)

    @on(Sidebar.SearchLeft)
    def _search_left(self) -> None:
        self.search.forget()

    # Dialogs wait for the user's answer, which needs a worker.
    @on(Sidebar.RenameRequested)
    def _rename(self, event: Sidebar.RenameRequested) -> None:
        self.run_worker(self.commands.rename(event.conversation_id), group="dialog")

    @on(Sidebar.DeleteRequested)
    def _delete(self, event: Sidebar.DeleteRequested) -> None:
        self.run_worker(self.commands.trash(event.conversation_id), group="dialog")

    @on(Sidebar.PinToggled)
    def _toggle_pin(self, event: Sidebar.PinToggled) -> None:
        self.run_worker(self.commands.toggle_pin(event.conversation_id), group="dialog")

    @on(Sidebar.RestoreRequested)
    def _restore(self) -> None:
        self.commands.restore_last_trashed()

    # ------------------------------------- the palette's commands (tui_chat/ui/actions.py)
    async def action_pick_model(self) -> None:
        await self.commands.pick_model()

    def action_rename_conversation(self) -> None:
        self.run_worker(self.commands.rename(), group="dialog")

    def action_delete_conversation(self) -> None:
        self.run_worker(self.commands.trash(), group="dialog")

    def action_restore_conversation(self) -> None:
        self.commands.restore_last_trashed()

    def action_pin_conversation(self) -> None:
        self.run_worker(self.commands.toggle_pin(), group="dialog")

    def action_export_conversation(self) -> None:
        self.commands.export_markdown()

    def action_copy_conversation(self) -> None:
        self.commands.copy_conversation()

    def action_pick_profile(self) -> None:
        self.run_worker(self.commands.pick_profile(), group="dialog")

    def action_edit_system_prompt(self) -> None:
        self.run_worker(self.commands.edit_system_prompt(), group="dialog")

    # --------------------------------------------------- first run
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A digit picks a local server only while one is offered and nothing else is being
        typed into (see `FirstRun.digit_picks_a_server`); otherwise it is typed."""
        if action != "use_local_server":
            return super().check_action(action, parameters)
        focused = self.focused
        if isinstance(focused, Input | TextArea) and focused is not self.composer:
            return False  # typing in the filter or a dialog's field
        number = parameters[0] if parameters else None
        return self.first_run.digit_picks_a_server(number, self.composer.text)

    def action_use_local_server(self, number: int) -> None:
        """Use offered local server `number` from now on (a profile saved for it)."""
        self.settings_changed(self.first_run.use_local_server(number))

    # ------------------------------------------------------- shutting down
    def before_quit(self) -> None:
        """ctrl+q: keep the draft (a streaming reply is saved by its own worker as it is
        cancelled), and note the open conversation for the next start."""
        if not self.is_mounted:
            return
        self._keep_unsent_fork()
        # A draft is text: the files waiting with it go as `@path`s, attached again on send.
        self.drafts.keep_now(self.conversation.id, self.files.draft_text(self.composer.text))
        self.listing.remember_open(self.conversation)

    def save_before_exit(self) -> None:
        """On SIGHUP and SIGTERM: keep the draft, and the partial reply marked interrupted,
        as ctrl+q does, and save the open conversation."""
        self.before_quit()
        if self.streaming and self.reply_flow is not None:
            self._say_save_report(self.reply_flow.save_interrupted())
        else:
            self.save(self.conversation)

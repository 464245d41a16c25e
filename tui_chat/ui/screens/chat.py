"""The main screen: sidebar, message pane, composer and status bar, and the flows between them.

State lives in one place: `self.conversation`, the open Conversation. The message pane holds a
reference to that same object; the store saves it; the engine reads it to build requests. A
reply is asked for, streamed and saved by `tui_chat.flow.ReplyFlow`; the screen repaints from
its events.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from tui_chat.domain import Conversation, Message
from tui_chat.engine.errors import ChatError
from tui_chat.engine.reply import ReplyRecorder
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
from tui_chat.storage.search import SearchResult
from tui_chat.ui.bindings import CHAT_SCREEN_BINDINGS, LOCAL_SERVER_BINDINGS
from tui_chat.ui.screens.chat_commands import ConversationCommands
from tui_chat.ui.screens.chat_drafts import DraftKeeping
from tui_chat.ui.screens.chat_figures import LiveFigures
from tui_chat.ui.screens.chat_first_run import FirstRun, LocalServerOffers
from tui_chat.ui.screens.chat_layout import SidebarPlacement, width_class
from tui_chat.ui.screens.chat_listing import ConversationListing, StartUp
from tui_chat.ui.screens.chat_search import MessageSearch
from tui_chat.ui.screens.dialogs import ConfirmDialog
from tui_chat.ui.services import Services
from tui_chat.ui.start_request import StartRequest
from tui_chat.ui.themes import code_theme_of
from tui_chat.ui.widgets.composer import Composer
from tui_chat.ui.widgets.key_footer import KeyFooter
from tui_chat.ui.widgets.message_layout import DEFAULT_HINTS, Hint
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.sidebar import Sidebar
from tui_chat.ui.widgets.status_bar import StatusBar, StatusFigures

# While a reply is under way the elapsed time ticks even when nothing arrives: a reasoning
# model thinking for a minute, or a stalled stream, must not look frozen.
STATUS_TICK_SECONDS = 0.5
# Count when the typist pauses: a status repaint between keystrokes delayed the next key's
# frame (keystroke p95 20.8 ms -> ~6 ms at 0.5 s; see the benchmark).
COMPOSER_COUNT_DELAY = 0.4
STORE_POLL_SECONDS = 2.0
BACKGROUND_WORK_FALLBACK_DELAY = 2.0


class ChatScreen(
    ConversationCommands,
    ConversationListing,
    DraftKeeping,
    LiveFigures,
    MessageSearch,
    FirstRun,
    Screen[None],
):
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
        self.recorder: ReplyRecorder | None = None
        self.reply_flow: ReplyFlow | None = None
        self.reply_worker: Worker[Message] | None = None
        self._reply_ticker: Timer | None = None
        self.recently_trashed: list[str] = []
        # The last search's results, by conversation id, until the user leaves them.
        self.search_results: dict[str, SearchResult] = {}
        # Profile name -> the model chosen with ctrl+o in this session (new conversations use it).
        self.models_chosen: dict[str, str] = {}
        self.figures = StatusFigures()
        self._composer_tokens = 0  # what sending the draft adds to the request
        self._composer_text_tokens = 0  # the draft's text alone: the ✎ figure
        self._conversation_tokens = 0
        self._composer_timer: Timer | None = None
        self._last_status = 0.0
        self._status_timer: Timer | None = None
        self.start_up = StartUp()
        self.local_servers = LocalServerOffers()
        self.sidebar_placement = SidebarPlacement()

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Sidebar(id="sidebar")
            with Vertical(id="chat"):
                yield MessagePane(code_theme=code_theme_of(self.app.current_theme), id="messages")
                yield Composer(key_map=self.services.key_map, id="composer")
                yield StatusBar(id="status")
        yield KeyFooter()

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    @property
    def pane(self) -> MessagePane:
        return self.query_one(MessagePane)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def streaming(self) -> bool:
        return self.reply_worker is not None and self.reply_worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def on_mount(self) -> None:
        # Before anything is drawn: Textual sets the width classes on the first resize, after
        # the first frame, which drew the sidebar 32 wide, then 26 with its rows cut.
        self.fit_width(self.app.size.width)
        self.pane.token_label = self._token_label
        self.show_empty_hints()
        self.pane.show_conversation(self.conversation)
        self.composer.focus()
        self._update_status()
        self._show_list_from_cache()
        # Whatever prevents the first screen from completing, background work starts anyway.
        self.set_timer(BACKGROUND_WORK_FALLBACK_DELAY, self._start_background_work)
        self.set_interval(STORE_POLL_SECONDS, self.poll_store)

    # ------------------------------------------------------------- width
    def on_resize(self, event: Resize) -> None:
        self.fit_width(event.size.width)

    def fit_width(self, width: int) -> None:
        """Set the width class (as Textual does on a resize) and show or hide the sidebar."""
        breakpoints = self.app.HORIZONTAL_BREAKPOINTS or []
        chosen = width_class(width, breakpoints)
        self.update_classes({name: name == chosen for _, name in breakpoints})
        self._show_sidebar(self.sidebar_placement.fit(width))

    def toggle_sidebar(self) -> None:
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
    @work(thread=True, exclusive=True, group="open")
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
        try:
            conversation = self.services.store.load(conversation_id)
        except (ConversationFileError, StorageError, FileNotFoundError) as error:
            if not quiet:
                self._call_on_ui(
                    self.notify,
                    str(error),
                    title="Cannot open this file",
                    severity="error",
                    timeout=10,
                )
            # At start-up the list's check waits for the first open, whatever its outcome.
            self._call_on_ui(self._start_background_work)
            return
        mark_unfinished_replies(conversation)
        # Exclusive workers cannot stop a thread: if the user opened another conversation while
        # this (large) one loaded, this one must not replace it.
        if not get_current_worker().is_cancelled:
            self._call_on_ui(self._show_conversation, conversation, quiet, at_start, at_hit)

    def _show_conversation(
        self,
        conversation: Conversation,
        quiet: bool = False,
        at_start: bool = False,
        at_hit: bool = False,
    ) -> None:
        if at_start and self.start_up.user_chose:
            self._start_background_work()
            return
        if self.streaming:
            if not quiet:
                self.notify("A reply is streaming: press Esc to stop it first.", severity="warning")
            return
        self.switch_drafts(self.conversation, conversation, at_start)
        self.conversation = conversation
        self.show_empty_hints()  # its profile may have a key where the last one had none
        self.pane.show_conversation(conversation)
        self.give_pane_its_hits()
        if at_hit:
            self.pane.select_hit(0)
            self.pane.focus()  # where n / N work
        self.sidebar.select_conversation(conversation.id)
        self.recount_conversation()
        self.call_after_refresh(self._start_background_work)

    def action_new_conversation(self) -> None:
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.", severity="warning")
            return
        self.start_up.user_chose = True
        # From a saved conversation, ctrl+n first brings back a new one that was left unsent
        # (its draft would otherwise wait for the next start); ctrl+n again gives a blank one.
        draft = self.unsaved_draft() if self.conversation.messages else None
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
            profile=profile.name, model=self.session_model(profile), system=config.system_prompt
        )

    def show_empty_hints(self) -> None:
        """What an empty conversation's pane says: how to start (with no key, how to get going),
        and which model a first message goes to when it is not the profile's default, so a
        message is never sent to a model the user did not expect."""
        conversation = self.conversation
        config = self.services.config
        hints = self.first_run_hints() or list(DEFAULT_HINTS)
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
        self.start_up.user_chose = True
        if self.opens_at_a_hit(event.conversation_id):
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
        if self.refuse_without_api_key(event.text):
            return
        self.start_up.user_chose = True
        self.conversation.add(Message(role="user", content=event.text))
        # Sent: no longer a draft, under the id it was typed in (a save may fork the id).
        self.services.drafts.stage(self.conversation.id, "")
        self._flush_drafts()
        # load_text, not clear(): clear() extracts the replaced text first (4 s for a 5 MB paste).
        self.composer.load_text("")
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
        )
        self.reply_worker = self.run_worker(
            self.reply_flow.run(), exclusive=True, group="reply", name="reply"
        )

    def _reply_event(self, event: FlowEvent) -> None:
        """Repaint from the reply flow (it runs in this screen's async worker, so on the event
        loop). At exit the widgets go before the worker ends: the flow has saved by then, and
        what is gone is not repainted."""
        pane = self._shown_pane()
        if isinstance(event, ReplyUpdated):  # first: once per delta
            if pane is not None:
                pane.message_changed(event.index)
                self._schedule_status()
        elif isinstance(event, ReplyEnded):
            self._reply_ended(event, pane)
        elif pane is None:
            return
        elif isinstance(event, ReplyStarted):
            self.recorder = event.recorder
            self._conversation_tokens = event.prompt_tokens  # the gauge counts the message sent
            self.reload_list()  # the prompt is saved
            pane.message_added()
            self._reply_ticker = self.set_interval(STATUS_TICK_SECONDS, self._schedule_status)
        elif isinstance(event, Saved):
            self._say_save_report(SaveReport(outcome=event.outcome))
        elif isinstance(event, SaveFailed):
            self._say_save_report(SaveReport(error=event.error))

    def _reply_ended(self, event: ReplyEnded, pane: MessagePane | None) -> None:
        if self._reply_ticker is not None:
            self._reply_ticker.stop()
            self._reply_ticker = None
        self.recorder = None
        if pane is None:
            return
        # Until the recount below lands, the gauge keeps the reply it has shown.
        self._conversation_tokens += event.completion_tokens
        pane.message_changed(event.index)
        self._update_status()
        self.recount_conversation()
        self.reload_list()
        failure = event.failure
        if failure is not None and failure.kind == "context_length" and not event.interrupted:
            self.run_worker(self.offer_shorter_fork(failure), group="dialog")

    def _shown_pane(self) -> MessagePane | None:
        """The message pane, or None once the screen is being taken down."""
        try:
            return self.pane
        except NoMatches:
            return None

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

    def action_regenerate(self) -> None:
        """ctrl+r: ask again for the last reply (after an error, or for a different answer)."""
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.", severity="warning")
            return
        messages = self.conversation.messages
        if not messages:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        if messages[-1].role == "assistant":
            messages.pop()
            self.pane.show_conversation(self.conversation)
        if not messages or messages[-1].role != "user":
            self.notify("The last message is not a prompt; send a new one.", severity="warning")
            return
        self.start_reply()

    # ------------------------------------------------------------- saving
    def _save(self, conversation: Conversation) -> None:
        """Save `conversation` (from the event loop or a thread worker) and say what the user
        must know: the disk refused, or the file was merged with a change made elsewhere."""
        self._say_save_report(save_conversation(self.services.store, conversation))

    def _say_save_report(self, report: SaveReport) -> None:
        if report.error is not None:
            self._notify_any_thread(
                f"{report.error} Your text is still here; nothing was lost.", "error"
            )
        elif report.outcome is not None and report.outcome.message:
            # Merged with, or forked from, someone else's change: say so and show the result.
            self._notify_any_thread(report.outcome.message, "warning")
            self._call_on_ui(self.pane.show_conversation, self.conversation)

    def _notify_any_thread(self, text: str, severity: str) -> None:
        self._call_on_ui(self.notify, text, severity=severity, timeout=10)

    def _call_on_ui(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run `callback` on the event loop, whether called from it or from a thread worker.

        A thread worker can finish after the user quit: then the screen's widgets are gone and
        there is nothing left to update, so the callback is skipped rather than crashing the exit.
        """

        def if_still_shown() -> None:
            if self.is_mounted and self.app.is_running:
                callback(*args, **kwargs)

        if threading.get_ident() == self.app._thread_id:
            if_still_shown()
            return
        with contextlib.suppress(RuntimeError):  # the event loop already closed
            self.app.call_from_thread(if_still_shown)

    # ------------------------------------------------------ token counts
    @on(TextArea.Changed, "#composer")
    def _composer_changed(self) -> None:
        if self.composer.text:
            # Typing at start is a choice: the conversation being typed in stays, rather than
            # give way (with the words) to one opened from the list a moment later.
            self.start_up.user_chose = True
        # Counting and keeping the draft wait for a pause in typing: the keystroke path stays
        # cheap.
        if self._composer_timer is not None:
            self._composer_timer.stop()
        self._composer_timer = self.set_timer(COMPOSER_COUNT_DELAY, self._composer_paused)

    def _composer_paused(self) -> None:
        self.count_composer()
        self.stage_draft()

    # ------------------------------------------------------ message pane
    @on(MessagePane.CopyRequested)
    def _copy(self, event: MessagePane.CopyRequested) -> None:
        self.app.copy_to_clipboard(event.text)
        self.notify(f"Copied {event.what} ({len(event.text):,} characters) to the clipboard.")

    @on(MessagePane.EditRequested)
    def _edit(self, event: MessagePane.EditRequested) -> None:
        """Put a user message back in the composer, in a fork: the original stays intact."""
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.", severity="warning")
            return
        self.start_up.user_chose = True
        original = self.conversation
        message = original.messages[event.index]
        fork = original.fork_before(event.index)
        self._show_conversation(fork)
        self.composer.set_text(message.content)
        self.composer.focus()
        self.notify("Editing in a new fork; the original conversation is kept.")

    # ------------------------------------------------- sidebar actions
    @on(Sidebar.SearchRequested)
    def _search(self, event: Sidebar.SearchRequested) -> None:
        self.search_messages(event.query)

    @on(Sidebar.SearchLeft)
    def _search_left(self) -> None:
        self.forget_search()

    @on(Sidebar.ActionRequested)
    def _sidebar_action(self, event: Sidebar.ActionRequested) -> None:
        conversation_id = event.conversation_id
        if event.action == "restore":
            self.restore_last_trashed()
            return
        if conversation_id is None:
            return
        flows = {"rename": self.rename, "delete": self.trash, "toggle_pin": self.toggle_pin}
        # Dialogs wait for the user's answer, which needs a worker.
        self.run_worker(flows[event.action](conversation_id), group="dialog")

    # ------------------------------------------------------- shutting down
    def save_before_exit(self) -> None:
        """On SIGHUP and SIGTERM: keep the draft, and the partial reply marked interrupted,
        before exiting (ctrl+q keeps the draft; the reply worker saves as it is cancelled), and
        note the open conversation for the next start."""
        self.keep_draft_now()
        self.remember_open_conversation()
        if self.streaming and self.reply_flow is not None:
            self._say_save_report(self.reply_flow.save_interrupted())
        else:
            self._save(self.conversation)

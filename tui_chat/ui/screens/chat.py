"""The main screen: sidebar, message pane, composer and status bar, and the flows between them.

State lives in one place: `self.conversation`, the open Conversation. The message pane holds a
reference to that same object; the store saves it; the engine reads it to build requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from tui_chat.domain import Conversation, Message
from tui_chat.engine.errors import ChatError, no_api_key_error
from tui_chat.engine.events import StreamFailed
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.servers import effective_base_url, is_openai_url
from tui_chat.storage.errors import ConversationFileError, StorageError
from tui_chat.ui.bindings import CHAT_SCREEN_BINDINGS
from tui_chat.ui.screens.chat_commands import ConversationCommands
from tui_chat.ui.screens.chat_drafts import DraftKeeping
from tui_chat.ui.screens.chat_figures import LiveFigures
from tui_chat.ui.screens.chat_layout import SidebarPlacement, width_class
from tui_chat.ui.screens.chat_listing import ConversationListing, StartUp
from tui_chat.ui.screens.dialogs import ConfirmDialog
from tui_chat.ui.services import Services
from tui_chat.ui.themes import code_theme_of
from tui_chat.ui.widgets.composer import Composer
from tui_chat.ui.widgets.key_footer import KeyFooter
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.sidebar import Sidebar
from tui_chat.ui.widgets.status_bar import StatusBar, StatusFigures

PERIODIC_SAVE_SECONDS = 3.0
# While a reply is under way the elapsed time ticks even when nothing arrives: a reasoning
# model thinking for a minute, or a stalled stream, must not look frozen.
STATUS_TICK_SECONDS = 0.5
# Count when the typist pauses: a status repaint between keystrokes delayed the next key's
# frame (keystroke p95 20.8 ms -> ~6 ms at 0.5 s; see the benchmark).
COMPOSER_COUNT_DELAY = 0.4
STORE_POLL_SECONDS = 2.0
BACKGROUND_WORK_FALLBACK_DELAY = 2.0


def mark_unfinished_replies(conversation: Conversation) -> None:
    """A reply saved mid-stream (periodic save) and never finished: the app was killed.

    Loaded from a file, it is marked interrupted so it does not pass for a complete answer.
    """
    for message in conversation.messages:
        if message.role == "assistant" and not message.finish_reason:
            message.finish_reason = "interrupted"


class ChatScreen(
    ConversationCommands, ConversationListing, DraftKeeping, LiveFigures, Screen[None]
):
    """Where the user reads, writes and manages conversations."""

    BINDINGS = CHAT_SCREEN_BINDINGS

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        config = services.config
        profile = config.profile()
        self.conversation = Conversation.new(
            profile=profile.name, model=config.model_for(profile), system=config.system_prompt
        )
        self.recorder: ReplyRecorder | None = None
        self.reply_worker: Worker[None] | None = None
        self.recently_trashed: list[str] = []
        self.figures = StatusFigures()
        self._composer_tokens = 0  # what sending the draft adds to the request
        self._composer_text_tokens = 0  # the draft's text alone: the ✎ figure
        self._conversation_tokens = 0
        self._composer_timer: Timer | None = None
        self._last_status = 0.0
        self._status_timer: Timer | None = None
        self.start_up = StartUp()
        self.sidebar_placement = SidebarPlacement()

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Sidebar(id="sidebar")
            with Vertical(id="chat"):
                yield MessagePane(code_theme=code_theme_of(self.app.current_theme), id="messages")
                yield Composer(enter_sends=self.services.config.enter_sends, id="composer")
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
        self.pane.show_conversation(self.conversation)
        self.composer.focus()
        self._update_status()
        self._show_list_from_cache()
        # Whatever prevents the first screen from completing, background work starts anyway.
        self.set_timer(BACKGROUND_WORK_FALLBACK_DELAY, self._start_background_work)
        self.set_interval(STORE_POLL_SECONDS, self.poll_store)
        self.warn_if_no_api_key()

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

    def warn_if_no_api_key(self) -> None:
        """Empty state: say how to set a key before the user types a first message in vain."""
        profile = self.services.config.profile(self.conversation.profile)
        base_url = effective_base_url(profile)
        has_key = (
            profile.api_key
            or profile.api_key_command  # run at the first request, not at start-up
            or os.environ.get(profile.api_key_env, "").strip()
        )
        if not has_key and is_openai_url(base_url):
            error = no_api_key_error(profile.name, profile.api_key_env, base_url)
            self.notify(
                f"{error.message} `tui-chat paths` shows where config.toml lives.",
                title="No API key",
                severity="warning",
                timeout=30,
            )

    # ---------------------------------------------------- open and create
    @work(thread=True, exclusive=True, group="open")
    def open_conversation(
        self, conversation_id: str, quiet: bool = False, at_start: bool = False
    ) -> None:
        """Load a conversation off the event loop and show it. One opened `at_start` gives way
        to whatever the user chose while it loaded."""
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
            self._call_on_ui(self._show_conversation, conversation, quiet, at_start)

    def _show_conversation(
        self, conversation: Conversation, quiet: bool = False, at_start: bool = False
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
        self.pane.show_conversation(conversation)
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
        """A new conversation on the open one's profile and model."""
        config = self.services.config
        profile = config.profile(self.conversation.profile)
        return Conversation.new(
            profile=profile.name,
            model=self.conversation.model or config.model_for(profile),
            system=config.system_prompt,
        )

    @on(Sidebar.Opened)
    def _sidebar_opened(self, event: Sidebar.Opened) -> None:
        self.start_up.user_chose = True
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
        self.reply_worker = self.run_worker(
            self._stream_reply(), exclusive=True, group="reply", name="reply"
        )

    async def _stream_reply(self) -> None:
        services = self.services
        conversation = self.conversation
        # The prompt reaches the disk before the request leaves: a crash can never lose it.
        await asyncio.to_thread(self._save, conversation)
        self.reload_list()
        profile = services.config.profile(conversation.profile)
        prompt = services.counter.count_messages(
            conversation.model, conversation.system, conversation.messages
        )
        self._conversation_tokens = prompt.tokens  # the gauge counts the message just sent
        reply = conversation.add(Message(role="assistant", content="", model=conversation.model))
        index = len(conversation.messages) - 1
        self.pane.message_added()
        recorder = ReplyRecorder(
            reply,
            counter=services.counter,
            prices=services.prices,
            base_url=effective_base_url(profile),
            prompt_estimate=prompt.tokens,
            clock=services.clock,
        )
        self.recorder = recorder
        last_save = time.monotonic()
        failure: ChatError | None = None
        ticker = self.set_interval(STATUS_TICK_SECONDS, self._schedule_status)
        try:
            client = services.client_for(profile)
            # aclosing: a cancel that lands during a periodic save still closes the response now.
            events = client.stream_reply(conversation, model=conversation.model)
            async with contextlib.aclosing(events):
                async for event in events:
                    recorder.apply(event)
                    if isinstance(event, StreamFailed):
                        failure = event.error
                    self.pane.message_changed(index)
                    self._schedule_status()
                    now = time.monotonic()
                    if now - last_save >= PERIODIC_SAVE_SECONDS:
                        last_save = now
                        await asyncio.to_thread(self._save, conversation)
        except asyncio.CancelledError:
            recorder.interrupt()
            raise
        except ChatError as error:  # e.g. no API key: raised before any request
            failure = error
            recorder.apply(StreamFailed(error))
        except Exception as error:  # a bug must not cost the user the reply or the app
            recorder.apply(
                StreamFailed(
                    ChatError(
                        "unexpected",
                        f"Unexpected error: {type(error).__name__}. Press ctrl+r to retry.",
                    )
                )
            )
        finally:
            ticker.stop()
            recorder.interrupt()  # no-op when the reply already ended
            # Until the recount below lands, the gauge keeps the reply it has shown.
            self._conversation_tokens += recorder.completion_tokens
            self.recorder = None
            conversation.touch()
            self.pane.message_changed(index)
            # Saved synchronously: this also runs while the app is shutting down.
            self._save(conversation)
            self._update_status()
            self.recount_conversation()
            self.reload_list()
        if failure is not None and failure.kind == "context_length":
            self.run_worker(self.offer_shorter_fork(failure), group="dialog")

    async def offer_shorter_fork(self, failure: ChatError) -> None:
        """Too long for the model: offer to retry in a fork without the oldest messages.

        A fork, so nothing the user wrote is removed from the original conversation.
        """
        conversation = self.conversation
        prompt = conversation.messages[:-1]  # without the failed reply
        over_by = failure.over_by_tokens or 1
        drop = self.services.counter.oldest_messages_to_drop(conversation.model, prompt, over_by)
        if drop <= 0 or drop >= len(prompt):
            return
        answer = await self.app.push_screen_wait(
            ConfirmDialog(
                "Too long for the model",
                f"Retry in a new fork without the {drop} oldest messages"
                f" ({over_by:,} tokens over)? The original conversation is kept.",
            )
        )
        if answer != "yes":
            return
        fork = conversation.fork_before(len(prompt))
        fork.messages = fork.messages[drop:]
        fork.title = f"{conversation.display_title} (shortened)"
        self._show_conversation(fork)
        self._save(fork)
        self.start_reply()

    def action_stop_reply(self) -> None:
        """Esc: stop the reply (the partial text is kept, marked interrupted)."""
        if self.streaming and self.reply_worker is not None:
            self.reply_worker.cancel()
            self.notify("Reply stopped; the partial text is kept.")
        elif self.sidebar.filter_input.has_focus:
            self.sidebar.clear_filter()
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
        """The one save path of the app: the store's atomic, clobber-safe save."""
        if not conversation.messages:
            return  # a new, empty conversation gets no file until something is said
        try:
            outcome = self.services.store.save(conversation)
        except StorageError as error:
            self._notify_any_thread(f"{error} Your text is still here; nothing was lost.", "error")
            return
        if outcome.message:
            # Merged with, or forked from, someone else's change: say so and show the result.
            self._notify_any_thread(outcome.message, "warning")
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
        before exiting (ctrl+q keeps the draft; the reply worker saves as it is cancelled)."""
        self.keep_draft_now()
        if self.recorder is not None:
            self.recorder.interrupt()
        self._save(self.conversation)

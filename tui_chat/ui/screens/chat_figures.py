"""Token counts, costs and the status bar's figures of the chat screen.

`LiveFigures` is a helper the chat screen owns. It counts in thread workers (tiktoken is
GIL-bound, the keystroke path must stay cheap), hands the counts back to the event loop, and
turns them, the prices and the streaming reply's progress into the `StatusFigures` the status
bar draws. It alone holds the counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.timer import Timer

from tui_chat.domain import Conversation, Message, Spend
from tui_chat.engine.client import warm_up as warm_up_sdk
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.servers import effective_base_url
from tui_chat.engine.tokens import DraftCount, TokenCount
from tui_chat.ui.background import Notify, ThreadWork
from tui_chat.ui.services import Services
from tui_chat.ui.widgets.status_bar import StatusBar, StatusFigures

# Live figures (tokens/s, elapsed) 4 times a second: enough to read, cheap over SSH.
STATUS_REFRESH_SECONDS = 0.25
# While a reply is under way the elapsed time ticks even when nothing arrives: a reasoning
# model thinking for a minute, or a stalled stream, must not look frozen.
STATUS_TICK_SECONDS = 0.5


def token_label(message: Message) -> str:
    """The pane's per-message token figure: the prompt's tokens, or the reply's."""
    usage = message.usage
    if usage is None:
        return ""
    approx = "~" if usage.estimated else ""
    if message.role == "assistant":
        return f"{approx}{usage.completion_tokens} tok"
    return f"{approx}{usage.prompt_tokens} tok"


def waiting_note(recorder: ReplyRecorder | None) -> str:
    """What a reply that has shown no text yet is doing: a reasoning model thinks first."""
    if recorder is None or recorder.message.content:
        return ""
    return "thinking" if recorder.reasoning_chars else "waiting"


class LiveFigures:
    """Counts the open conversation and the draft, and keeps the status bar's figures current."""

    def __init__(
        self,
        services: Services,
        status_bar: StatusBar,
        threads: ThreadWork,
        notify: Notify,
        conversation: Callable[[], Conversation],
    ) -> None:
        self._services = services
        self._status_bar = status_bar  # its timers pace the repaints: they end with it
        self._threads = threads
        self._notify = notify
        self._conversation = conversation
        self.figures = StatusFigures()
        self.recorder: ReplyRecorder | None = None  # the reply streaming now
        self._conversation_tokens = 0
        self._composer_tokens = 0  # what sending the draft adds to the request
        self._composer_text_tokens = 0  # the draft's text alone: the ✎ figure
        self._attachment_tokens = 0  # the files waiting to go with the draft
        self._attachments_approximate = False
        self._counts_approximate = False  # the last counts of the conversation and the draft
        self._last_status = 0.0
        self._status_timer: Timer | None = None
        self._reply_ticker: Timer | None = None

    # -------------------------------------------------------------- counting
    def prepare_engine(self) -> None:
        """Load tiktoken's encodings and the price table off the UI thread, then import openai
        so the first message does not wait for it.

        Until they are ready, counts show as estimates and prices as unknown. The open
        conversation's encoding comes first, so its count is exact half a second sooner.
        """
        self._threads.start(self._prepare_engine, group="encodings", exclusive=True)

    def _prepare_engine(self) -> None:
        services, threads = self._services, self._threads
        services.counter.load_for(self._conversation().model)
        services.prices.load()
        threads.to_ui(self.recount_conversation)
        services.counter.load()
        # Counts are cached per message: cheap, and exact now if the user opened a conversation
        # counted with the other encoding meanwhile.
        threads.to_ui(self.recount_conversation)
        if services.counter.load_error:
            # Said once (this runs once per start): otherwise the ~ never goes away unexplained.
            message = (
                "Token counts stay estimates, marked ~ in the status bar: "
                f"{services.counter.load_error}."
            )
            threads.to_ui(self._say_counts_are_estimates, message)
        warm_up_sdk()

    def _say_counts_are_estimates(self, message: str) -> None:
        self._notify(message, title="Token counts", severity="warning", timeout=15)

    def recount_conversation(self) -> None:
        """Count the open conversation again (it changed, or an exact encoding arrived)."""
        self._threads.start(self._count_conversation, group="count", exclusive=True)

    def _count_conversation(self) -> None:
        conversation = self._conversation()
        offered = self._services.toolbox.offered(conversation.tools_off)
        count = self._services.counter.count_messages(
            conversation.model,
            conversation.system,
            conversation.messages,
            [spec.definition() for spec in offered],  # sent with every request, so counted
        )
        self._threads.to_ui(self._conversation_counted, count)

    def _conversation_counted(self, count: TokenCount) -> None:
        self._conversation_tokens = count.tokens
        self.update_status(count.approximate)

    def count_composer(self, text: str) -> None:
        """Count the draft `text` (the composer's, when typing paused)."""
        if not text:  # an empty composer adds nothing to the next request
            self._composer_tokens = self._composer_text_tokens = 0
            self.update_status()
            return
        model = self._conversation().model
        self._threads.start(
            lambda: self._count_draft(model, text), group="composer-count", exclusive=True
        )

    def _count_draft(self, model: str, text: str) -> None:
        self._threads.to_ui(self._draft_counted, self._services.counter.count_draft(model, text))

    def _draft_counted(self, count: DraftCount) -> None:
        # ✎ shows the text typed (one character is ✎ 1); the context and the next send also
        # count the few tokens every message adds to a request.
        self._composer_tokens = count.tokens
        self._composer_text_tokens = count.text_tokens
        self.update_status(count.approximate)

    def attachments_changed(self, tokens: int, approximate: bool) -> None:
        """The files waiting to go with the draft now add `tokens` to it (`approximate`: some
        are estimates, or not counted yet)."""
        self._attachment_tokens = tokens
        self._attachments_approximate = approximate
        self.update_status()

    # ------------------------------------------------------------ a reply
    def reply_started(self, recorder: ReplyRecorder, prompt_tokens: int) -> None:
        """A reply is under way: the gauge counts the message sent, and the figures tick."""
        self.recorder = recorder
        self._conversation_tokens = prompt_tokens
        self._reply_ticker = self._status_bar.set_interval(
            STATUS_TICK_SECONDS, self.schedule_status
        )

    def reply_ended(self, completion_tokens: int | None) -> None:
        """The reply ended; `completion_tokens` is None when the screen is being taken down."""
        if self._reply_ticker is not None:
            self._reply_ticker.stop()
            self._reply_ticker = None
        self.recorder = None
        if completion_tokens is None:
            return
        # Until the recount that follows lands, the gauge keeps the reply it has shown.
        self._conversation_tokens += completion_tokens
        self.update_status()
        self.recount_conversation()

    # ---------------------------------------------------------- the status bar
    def update_status(self, approximate: bool | None = None) -> None:
        """Draw the figures now (`approximate`: whether the counts just made are estimates)."""
        services = self._services
        conversation = self._conversation()
        profile = services.config.profile(conversation.profile)
        base_url = effective_base_url(profile)
        recorder = self.recorder
        # While a reply streams, the context fills with its answer: the next request will carry
        # it (not its thinking, which is never sent back).
        streamed = recorder.answer_tokens if recorder else 0
        # The files waiting to be sent are part of the draft: in ✎, the context and the cost.
        draft = self._composer_tokens + self._attachment_tokens
        prompt_tokens = self._conversation_tokens + streamed + draft
        counts_approximate = approximate if approximate is not None else self._counts_approximate
        self._counts_approximate = counts_approximate
        self.figures = self.figures.with_changes(
            model=conversation.model,
            profile=profile.name,
            composer_tokens=self._composer_text_tokens + self._attachment_tokens,
            prompt_tokens=prompt_tokens,
            counts_approximate=counts_approximate or self._attachments_approximate,
            context_window=services.prices.context_window(conversation.model, base_url),
            next_cost_usd=services.prices.prompt_cost(conversation.model, prompt_tokens, base_url),
            # The streaming reply's price is not known yet, which is not "unknown".
            spent=Spend.of_replies(
                m for m in conversation.messages if recorder is None or m is not recorder.message
            ),
            streaming=recorder is not None,
            reply_tokens=recorder.completion_tokens if recorder else 0,
            tokens_per_second=(recorder.tokens_per_second or 0.0) if recorder else 0.0,
            elapsed_seconds=recorder.elapsed if recorder else 0.0,
            waiting_note=waiting_note(recorder),
        )
        self._status_bar.figures = self.figures

    def schedule_status(self) -> None:
        """Refresh the live figures at most every STATUS_REFRESH_SECONDS, and always once more
        after a burst, so a stream that pauses never leaves a stale count on screen."""
        if self._status_timer is not None:
            return
        wait = STATUS_REFRESH_SECONDS - (time.monotonic() - self._last_status)
        if wait <= 0:
            self._flush_status()
        else:
            self._status_timer = self._status_bar.set_timer(wait, self._flush_status)

    def _flush_status(self) -> None:
        self._status_timer = None
        self._last_status = time.monotonic()
        self.update_status()

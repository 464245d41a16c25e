"""Token counts, costs and the status bar's figures of the chat screen.

Kept apart from `chat.py`, which owns the screen's layout and the send/stream/save flow, so each
module has one job. `LiveFigures` is mixed into `ChatScreen`: it counts in thread workers (tiktoken
is GIL-bound, the keystroke path must stay cheap) and turns the counts, prices and the streaming
reply's progress into the `StatusFigures` the status bar draws.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work

from tui_chat.domain import Message, Spend
from tui_chat.engine.client import warm_up as warm_up_sdk
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.servers import effective_base_url
from tui_chat.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui_chat.ui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object

# Live figures (tokens/s, elapsed) 4 times a second: enough to read, cheap over SSH.
STATUS_REFRESH_SECONDS = 0.25


class LiveFigures(_Base):
    """Counts the conversation and the draft, and keeps the status bar's figures current."""

    @work(thread=True, exclusive=True, group="encodings")
    def prepare_engine(self) -> None:
        """Load tiktoken's encodings and the price table off the UI thread, then import openai
        so the first message does not wait for it.

        Until they are ready, counts show as estimates and prices as unknown. The open
        conversation's encoding comes first, so its count is exact half a second sooner.
        """
        services = self.services
        services.counter.load_for(self.conversation.model)
        services.prices.load()
        self._call_on_ui(self.recount_conversation)
        services.counter.load()
        # Counts are cached per message: cheap, and exact now if the user opened a conversation
        # counted with the other encoding meanwhile.
        self._call_on_ui(self.recount_conversation)
        if services.counter.load_error:
            # Said once (this runs once per start): otherwise the ~ never goes away unexplained.
            self._call_on_ui(
                self.notify,
                f"Token counts stay estimates, marked ~ in the status bar: "
                f"{services.counter.load_error}.",
                title="Token counts",
                severity="warning",
                timeout=15,
            )
        warm_up_sdk()

    @work(thread=True, exclusive=True, group="count")
    def recount_conversation(self) -> None:
        conversation = self.conversation
        offered = self.services.toolbox.offered(conversation.tools_off)
        count = self.services.counter.count_messages(
            conversation.model,
            conversation.system,
            conversation.messages,
            [spec.definition() for spec in offered],  # sent with every request, so counted
        )
        self._conversation_tokens = count.tokens
        self._call_on_ui(self._update_status, count.approximate)

    @work(thread=True, exclusive=True, group="composer-count")
    def count_composer(self) -> None:
        text = self.composer.text
        if not text:  # an empty composer adds nothing to the next request
            self._composer_tokens = self._composer_text_tokens = 0
            self._call_on_ui(self._update_status)
            return
        count = self.services.counter.count_draft(self.conversation.model, text)
        # ✎ shows the text typed (one character is ✎ 1); the context and the next send also
        # count the few tokens every message adds to a request.
        self._composer_tokens = count.tokens
        self._composer_text_tokens = count.text_tokens
        self._call_on_ui(self._update_status, count.approximate)

    def _token_label(self, message: Message) -> str:
        usage = message.usage
        if usage is None:
            return ""
        approx = "~" if usage.estimated else ""
        if message.role == "assistant":
            return f"{approx}{usage.completion_tokens} tok"
        return f"{approx}{usage.prompt_tokens} tok"

    def _update_status(self, approximate: bool | None = None) -> None:
        services = self.services
        conversation = self.conversation
        profile = services.config.profile(conversation.profile)
        base_url = effective_base_url(profile)
        recorder = self.recorder
        # While a reply streams, the context fills with it: the next request will carry it.
        streamed = recorder.completion_tokens if recorder else 0
        prompt_tokens = self._conversation_tokens + streamed + self._composer_tokens
        self.figures = self.figures.with_changes(
            model=conversation.model,
            profile=profile.name,
            composer_tokens=self._composer_text_tokens,
            prompt_tokens=prompt_tokens,
            counts_approximate=(
                approximate if approximate is not None else self.figures.counts_approximate
            ),
            context_window=services.prices.context_window(conversation.model, base_url),
            next_cost_usd=services.prices.prompt_cost(conversation.model, prompt_tokens, base_url),
            # The streaming reply's price is not known yet, which is not "unknown".
            spent=Spend.of_replies(
                m for m in conversation.messages if recorder is None or m is not recorder.message
            ),
            streaming=recorder is not None,
            reply_tokens=streamed,
            tokens_per_second=(recorder.tokens_per_second or 0.0) if recorder else 0.0,
            elapsed_seconds=recorder.elapsed if recorder else 0.0,
            waiting_note=self._waiting_note(recorder),
        )
        self.query_one(StatusBar).figures = self.figures

    @staticmethod
    def _waiting_note(recorder: ReplyRecorder | None) -> str:
        """What a reply that has shown no text yet is doing: a reasoning model thinks first."""
        if recorder is None or recorder.message.content:
            return ""
        return "thinking" if recorder.reasoning_chars else "waiting"

    def _schedule_status(self) -> None:
        """Refresh the live figures at most every STATUS_REFRESH_SECONDS, and always once more
        after a burst, so a stream that pauses never leaves a stale count on screen."""
        if self._status_timer is not None:
            return
        wait = STATUS_REFRESH_SECONDS - (time.monotonic() - self._last_status)
        if wait <= 0:
            self._flush_status()
        else:
            self._status_timer = self.set_timer(wait, self._flush_status)

    def _flush_status(self) -> None:
        self._status_timer = None
        self._last_status = time.monotonic()
        self._update_status()

"""Recording a streamed reply into its assistant Message, with live figures for a status bar.

The app, the CLI and the benchmarks all feed stream events to one `ReplyRecorder`, so a reply
is finished, cut, interrupted or failed the same way everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tui_chat.domain.conversation import Message, Usage
from tui_chat.engine.errors import stream_ended_early_notice
from tui_chat.engine.events import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.tokens import TokenCounter
from tui_chat.engine.tool_calls import ToolCallAssembler

MIN_SPEED_SPAN = 0.5  # seconds of streaming before a speed is worth showing


class ReplyRecorder:
    """Applies stream events to an assistant `Message` in place.

    Text is appended as it arrives. At the end the message gets its finish_reason, usage (the
    server's, or a tiktoken estimate marked `estimated` when the server sent none) and cost.
    A failure before any text leaves finish_reason "error" and the error sentence in
    `message.error`; after some text the partial reply is kept with finish_reason "cut".
    """

    def __init__(
        self,
        message: Message,
        *,
        counter: TokenCounter,
        prices: PriceBook,
        base_url: str | None,
        prompt_estimate: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.message = message
        self.counter = counter
        self.prices = prices
        self.base_url = base_url
        self.prompt_estimate = prompt_estimate
        self._clock = clock
        self._model = message.model or ""
        self._count = counter.streaming(self._model)
        if message.content:
            self._count.feed(message.content)
        self._usage: Usage | None = None
        self._started = clock()
        self._first_text_at: float | None = None
        self._ended_at: float | None = None
        # The thinking is counted apart (the answer's count stays the answer's), incrementally
        # like the answer, so a long thought costs the same per token as a long answer.
        self._thinking_count = counter.streaming(self._model)
        self._thinking_started: float | None = None
        self.served_model: str | None = None
        self._tool_calls = ToolCallAssembler(message.tool_calls)

    # --- events ----------------------------------------------------------------------------

    def apply(self, event: StreamEvent) -> None:
        """Update the message with one event (events after the end are ignored)."""
        if self.done:
            return
        if isinstance(event, TextDelta):
            if self._first_text_at is None:
                self._first_text_at = self._clock()
            self._end_thinking()
            self.message.append_content(event.text)  # `+=` would copy the reply per delta
            self._count.feed(event.text)
        elif isinstance(event, ReasoningDelta):
            if self._first_text_at is None:
                self._first_text_at = self._clock()
            if self._thinking_started is None:
                self._thinking_started = self._clock()
            self.message.append_thinking(event.text)
            self._thinking_count.feed(event.text)
        elif isinstance(event, ToolCallDelta):
            if self._first_text_at is None:
                self._first_text_at = self._clock()
            self._tool_calls.add(event)
            self._count.feed(event.arguments)  # generated, and billed, as the text is
        elif isinstance(event, UsageReport):
            self._usage = event.usage
            self._note_model(event.model)
        elif isinstance(event, Finished):
            self._note_model(event.model)
            if event.reason == "cut":
                self.message.error = stream_ended_early_notice(self.base_url)
            self._end(event.reason)
        elif isinstance(event, StreamFailed):
            self.message.error = event.error.message
            self._end("cut" if self.message.content else "error")

    def interrupt(self) -> None:
        """The user stopped the reply: keep the partial text, estimate its usage."""
        if not self.done:
            self._end("interrupted")

    def _note_model(self, model: str | None) -> None:
        if model:
            self.served_model = model
            if not self.message.model:
                self.message.model = model

    def _end_thinking(self) -> None:
        """The answer began (or the reply ended): the thinking's time and count are known."""
        message = self.message
        if self._thinking_started is None or message.thinking_seconds is not None:
            return
        message.thinking_seconds = round(self._clock() - self._thinking_started, 1)
        message.thinking_tokens = self._thinking_count.tokens

    def _end(self, reason: str) -> None:
        self._ended_at = self._clock()
        self._end_thinking()
        self.message.finish_reason = reason
        # One str from here on: the streamed pieces are let go rather than kept beside it.
        self.message.content = self.message.content
        completion = self._count.finish()
        thinking = self._thinking_count.finish()
        if self.message.thinking:
            # Blank lines around a <think> block's text are layout, not thought.
            self.message.thinking = self.message.thinking.strip()
            self.message.thinking_tokens = thinking
        if self._usage is not None:
            usage = self._usage
            if usage.reasoning_tokens and self.message.thinking:
                self.message.thinking_tokens = usage.reasoning_tokens  # the server knows best
        elif reason == "error":
            usage = None  # nothing was generated, so nothing is known to be billed
        else:
            usage = Usage(
                prompt_tokens=self.prompt_estimate,
                completion_tokens=completion + thinking,
                reasoning_tokens=thinking,
                estimated=True,
            )
        self.message.usage = usage
        if usage is not None:
            model = self.message.model or self.served_model or self._model
            self.message.cost_usd = self.prices.cost(model, usage, self.base_url)

    # --- live figures ----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the reply finished, failed or was interrupted."""
        return self._ended_at is not None

    @property
    def completion_tokens(self) -> int:
        """Tokens of the reply so far, thinking included, as servers bill them (counted
        incrementally; exact once done)."""
        if self.done and self._usage is not None:
            return self._usage.completion_tokens
        return self._count.tokens + self._thinking_count.tokens

    @property
    def answer_tokens(self) -> int:
        """Tokens of the answer alone: what a later request carries back (thinking is never
        sent again)."""
        return self._count.tokens

    @property
    def reasoning_chars(self) -> int:
        """Characters of thinking so far (0 for a model that does not show its thoughts)."""
        return len(self.message.thinking)

    @property
    def elapsed(self) -> float:
        """Seconds since the request started (frozen once done)."""
        end = self._ended_at if self._ended_at is not None else self._clock()
        return end - self._started

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed since the first token; None until there is something to measure.

        While streaming that takes MIN_SPEED_SPAN: the first chunks often arrive in one burst,
        and a rate over a few milliseconds read thousands of tokens a second.
        """
        if self._first_text_at is None:
            return None
        end = self._ended_at if self._ended_at is not None else self._clock()
        span = end - self._first_text_at
        if span <= 0 or (self._ended_at is None and span < MIN_SPEED_SPAN):
            return None
        return (self._count.tokens + self._thinking_count.tokens) / span

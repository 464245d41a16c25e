"""One reply to a conversation, from the saved prompt to the saved answer, without a UI.

`ReplyFlow.run` saves the prompt before the request leaves (a crash can never lose it), streams
the reply through the engine into a `ReplyRecorder`, saves every few seconds while it arrives,
records a failure's sentence, usage and cost, and saves the outcome; cancelled (Esc, quit,
hang-up), it keeps the partial reply marked interrupted and saves it. It tells a listener what
happens (see events.py) on the thread that runs it, so a screen repaints from the events and a
shell command prints them.

With a `ToolBox`, the request offers the tools of the configured MCP servers; a reply that asks
for tools has its calls approved, run and answered (tool_round.py), and the next reply is asked
for, up to MAX_ROUNDS rounds per message sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, Protocol

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.errors import ChatError
from tui_chat.engine.events import StreamEvent, StreamFailed
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.tokens import TokenCounter
from tui_chat.flow.events import (
    FlowEvent,
    FlowListener,
    ReplyEnded,
    ReplyStarted,
    ReplyUpdated,
    Saved,
    SaveFailed,
    ToolRoundsLimitReached,
)
from tui_chat.flow.saving import BackgroundSaver, SaveReport, save_conversation
from tui_chat.flow.tool_round import MAX_ROUNDS, ToolApprover, ToolRound
from tui_chat.storage.store import ConversationStore
from tui_chat.tools import ToolBox

PERIODIC_SAVE_SECONDS = 3.0
# The finish reason a periodic save writes for a reply still arriving. A file that still says
# so was left mid-stream (the process was killed): it opens marked interrupted. A reply without
# any finish reason (a hand-written file) is taken as it is.
IN_PROGRESS = "streaming"


class ReplySource(Protocol):
    """What the flow needs of a client (`tui_chat.engine.client.ChatClient` is one)."""

    base_url: str

    def stream_reply(
        self,
        conversation: Conversation,
        *,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> AsyncGenerator[StreamEvent, None]: ...


def mark_unfinished_replies(conversation: Conversation) -> None:
    """A reply a periodic save left mid-stream and nothing finished: the app was killed.

    Loaded from a file, it is marked interrupted so it does not pass for a complete answer; so
    is a tool call left waiting for approval or running.
    """
    for message in conversation.messages:
        if message.role == "assistant" and message.finish_reason == IN_PROGRESS:
            message.finish_reason = "interrupted"
        for call in message.tool_calls:
            if not call.settled:
                call.status = "interrupted"


def _ignore(event: FlowEvent) -> None:
    """The listener of a flow nobody watches."""


class ReplyFlow:
    """Asks `client` for the next reply to `conversation` and keeps it saved in `store` (None:
    nothing is written, as `tui-chat ask --no-save` promises).

    The conversation's last message is the prompt (the caller adds it, and shows it at once).
    The flow changes the conversation only on the thread that runs `run()`; saves happen in a
    thread on copies (see saving.py).
    """

    def __init__(
        self,
        conversation: Conversation,
        client: ReplySource,
        *,
        store: ConversationStore | None,
        counter: TokenCounter,
        prices: PriceBook,
        clock: Callable[[], float] = time.monotonic,
        listener: FlowListener | None = None,
        periodic_save_seconds: float = PERIODIC_SAVE_SECONDS,
        toolbox: ToolBox | None = None,
        approver: ToolApprover | None = None,
    ) -> None:
        """`toolbox`: the tools to offer (None or none configured: a plain reply); `approver`:
        asks the user about each call of a tool not set to "always" (None: such calls are not
        run, and the model is told so)."""
        self.conversation = conversation
        self.client = client
        self.store = store
        self.counter = counter
        self.prices = prices
        self.clock = clock
        self.listener: FlowListener = listener or _ignore
        self.periodic_save_seconds = periodic_save_seconds
        self.recorder: ReplyRecorder | None = None
        self._saver = BackgroundSaver(store) if store is not None else None
        self.toolbox = toolbox if toolbox is not None and toolbox.configured else None
        self._tool_round = (
            ToolRound(
                conversation,
                self.toolbox,
                approver=approver,
                counter=counter,
                listener=self.listener,
                clock=clock,
            )
            if self.toolbox is not None
            else None
        )
        self._calling: Message | None = None  # the reply whose tool calls are being settled

    async def run(self) -> Message:
        """Save the prompt, stream the reply into the conversation, save it; returns the reply
        (the last one, when the model called tools in between).

        Never raises for API or disk failures (they are recorded and reported); re-raises
        CancelledError after saving the partial reply (and tool calls) marked interrupted.
        """
        self._report(await self._save_in_thread())
        specs = []
        if self.toolbox is not None:
            await self.toolbox.tools()  # started (once) and listed
            specs = self.toolbox.offered(self.conversation.tools_off)
        tools = [spec.definition() for spec in specs]
        rounds = 0
        while True:
            offered = tools if rounds < MAX_ROUNDS else []
            if tools and not offered:
                self.listener(ToolRoundsLimitReached(MAX_ROUNDS))
            reply = await self._reply(offered)
            if self._tool_round is None or not reply.tool_calls:
                return reply
            self._calling = reply
            try:
                if reply.finish_reason in ("tool_calls", "stop"):
                    await self._tool_round.run(reply, specs, last_round=not offered)
                else:  # cut, failed or interrupted: its calls are not run
                    self._tool_round.interrupt(reply)
            finally:
                self._calling = None
                self._report(self._save_now())
            if reply.finish_reason not in ("tool_calls", "stop") or not offered:
                return reply
            rounds += 1

    async def _reply(self, tools: Sequence[Mapping[str, Any]]) -> Message:
        """One request and its streamed reply, saved."""
        conversation = self.conversation
        prompt = self.counter.count_messages(
            conversation.model, conversation.system, conversation.messages, tools
        )
        reply = conversation.add(Message(role="assistant", content="", model=conversation.model))
        index = len(conversation.messages) - 1
        recorder = ReplyRecorder(
            reply,
            counter=self.counter,
            prices=self.prices,
            base_url=self.client.base_url,
            prompt_estimate=prompt.tokens,
            clock=self.clock,
        )
        self.recorder = recorder
        self.listener(ReplyStarted(index, prompt.tokens, recorder))
        failure: ChatError | None = None
        last_save = self.clock()
        try:
            events = self.client.stream_reply(conversation, model=conversation.model, tools=tools)
            # aclosing: a cancel that lands during a periodic save still closes the response now.
            async with contextlib.aclosing(events):
                async for event in events:
                    recorder.apply(event)
                    if isinstance(event, StreamFailed):
                        failure = event.error
                    self.listener(ReplyUpdated(index, event))
                    now = self.clock()
                    if now - last_save >= self.periodic_save_seconds:
                        last_save = now
                        in_progress = (reply, IN_PROGRESS) if not recorder.done else None
                        self._report(await self._save_in_thread(in_progress))
        except asyncio.CancelledError:
            recorder.interrupt()
            raise
        except ChatError as error:  # e.g. no API key: raised before any request
            failure = error
            recorder.apply(StreamFailed(error))
        except Exception as error:  # a bug must not cost the user the reply or the app
            # How to retry is said by whoever shows the reply (the screen: ctrl+r).
            recorder.apply(
                StreamFailed(
                    ChatError(
                        "unexpected",
                        f"Unexpected error: {type(error).__name__}.",
                    )
                )
            )
        finally:
            recorder.interrupt()  # no-op when the reply already ended
            conversation.touch()
            # Saved before anyone is told, and on this thread: this also runs while the app
            # shuts down, when the widgets that would show the reply may already be gone.
            self._report(self._save_now())
            self.recorder = None
            self.listener(ReplyEnded(index, reply, failure, recorder.completion_tokens))
        return reply

    def save_interrupted(self) -> SaveReport:
        """The process is about to end (hang-up, SIGTERM): mark the reply interrupted and save
        now, on this thread, after any save still running in the save thread."""
        if self.recorder is not None:
            self.recorder.interrupt()
        if self._tool_round is not None and self._calling is not None:
            self._tool_round.interrupt(self._calling)  # a call waiting for approval, or running
        return self._save_now()

    async def _save_in_thread(self, in_progress: tuple[Message, str] | None = None) -> SaveReport:
        if self._saver is None:
            return SaveReport()
        return await self._saver.save(self.conversation, in_progress=in_progress)

    def _save_now(self) -> SaveReport:
        if self._saver is None:
            return SaveReport()
        self._saver.settle(self.conversation)
        return save_conversation(self._saver.store, self.conversation)

    def _report(self, report: SaveReport) -> None:
        if report.error is not None:
            self.listener(SaveFailed(report.error))
        elif report.outcome is not None:
            self.listener(Saved(report.outcome))

"""The tool calls of one reply, from the user's approval to the results the model reads next.

`ToolRound.run(reply)` asks the approver about each call (unless its tool is set to "always"),
runs the approved ones through the `ToolBox`, and gives every call a result, kept on the call,
whatever happened to it: a declined call, a failed one, one past the limit of rounds, one stopped
by Esc all get a result that says so, as the API wants an answer to every call and the model
should know what became of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.domain.tools import ToolCall, ToolCallStatus
from tui_chat.engine.tokens import CHARS_PER_TOKEN_ESTIMATE, TokenCounter, estimate_tokens
from tui_chat.flow.events import FlowListener, ToolCallChanged
from tui_chat.tools import ToolBox, ToolOutcome, ToolSpec
from tui_chat.tools.specs import no_such_tool

# What the user said to one call: run it this once, run this tool unasked from now on (saved
# to config), or do not run it.
Approval = Literal["once", "always", "decline"]

MAX_ROUNDS = 10  # tool rounds per message sent: a model that keeps calling tools is stopped
TOOL_OUTPUT_TOKENS = 4000  # a tool's output passed on, at most (the rest is cut, and said)

DECLINED = "The user declined this call; it was not run."
INTERRUPTED = "The user stopped this call before it finished; there is no result."
SKIPPED = (
    f"Not run: the limit of {MAX_ROUNDS} rounds of tool calls per message was reached. Answer with"
    " what you have."
)
NO_APPROVER = "Not run: nobody could be asked to approve it."


class ToolApprover(Protocol):
    """Asks the user whether `call` (of the tool `spec`) may run; the UI shows a dialog."""

    async def __call__(self, call: ToolCall, spec: ToolSpec) -> Approval: ...


class ToolRound:
    """Runs the tool calls of replies in `conversation`, reporting each change to `listener`."""

    def __init__(
        self,
        conversation: Conversation,
        toolbox: ToolBox,
        *,
        approver: ToolApprover | None,
        counter: TokenCounter,
        listener: FlowListener,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conversation = conversation
        self.toolbox = toolbox
        self.approver = approver
        self.counter = counter
        self.listener = listener
        self.clock = clock

    async def run(self, reply: Message, offered: Sequence[ToolSpec], *, last_round: bool) -> None:
        """Settle every call of `reply` (to one of the `offered` tools), each with its result.
        On cancellation the call under way and those after it are marked interrupted (with
        results) first."""
        index = self.conversation.messages.index(reply)
        by_name = {spec.api_name: spec for spec in offered}
        try:
            for position, call in enumerate(reply.tool_calls):
                if last_round:
                    self._settle(index, position, call, "skipped", SKIPPED)
                else:
                    await self._one(index, position, call, by_name.get(call.name))
        except asyncio.CancelledError:
            self.interrupt(reply)
            raise

    def interrupt(self, reply: Message) -> None:
        """Mark the calls of `reply` not yet settled interrupted, each with its result."""
        if reply not in self.conversation.messages:
            return
        index = self.conversation.messages.index(reply)
        for position, call in enumerate(reply.tool_calls):
            if not call.settled:
                self._settle(index, position, call, "interrupted", INTERRUPTED)

    async def _one(self, index: int, position: int, call: ToolCall, spec: ToolSpec | None) -> None:
        if spec is None:  # not offered (switched off, or made up): nothing runs
            self._settle(index, position, call, "failed", no_such_tool(call.name).text)
            return
        if self.toolbox.approval(spec) == "ask":
            if self.approver is None:
                self._settle(index, position, call, "declined", NO_APPROVER)
                return
            answer = await self.approver(call, spec)
            if answer == "decline":
                self._settle(index, position, call, "declined", DECLINED)
                return
            if answer == "always":
                await self.toolbox.allow_always(spec)
        # Invalid arguments (or a server gone since): the toolbox says so as a failed outcome.
        call.status = "running"
        self.listener(ToolCallChanged(index, position))
        started = self.clock()
        outcome = await self.toolbox.call(call.name, call.arguments)
        call.seconds = self.clock() - started
        text = await asyncio.to_thread(self._cut, outcome)
        self._settle(index, position, call, "failed" if outcome.failed else "done", text)

    def _cut(self, outcome: ToolOutcome) -> str:
        """The outcome's text within TOOL_OUTPUT_TOKENS, with a notice (for the model and the
        user alike) when it was cut. Runs in a thread: encoding 1 MB takes tens of ms."""
        model = self.conversation.model
        encoding, _ = self.counter.encoding(model)
        text = outcome.text
        if encoding is None:  # encodings not loaded yet: the usual estimate
            limit = TOOL_OUTPUT_TOKENS * CHARS_PER_TOKEN_ESTIMATE
            if len(text) <= limit:
                return text
            total = estimate_tokens(text)
            kept = text[:limit]
        else:
            tokens = encoding.encode_ordinary(text)
            if len(tokens) <= TOOL_OUTPUT_TOKENS:
                return text
            total = len(tokens)
            kept = encoding.decode(tokens[:TOOL_OUTPUT_TOKENS])
        return (
            f"{kept}\n\n[Cut by tui-chat: the tool returned about {total} tokens; only the first"
            f" {TOOL_OUTPUT_TOKENS} are passed on.]"
        )

    def _settle(
        self, index: int, position: int, call: ToolCall, status: ToolCallStatus, result: str
    ) -> None:
        """Give `call` its final status and its result."""
        call.status = status
        call.result = result
        self.conversation.touch()
        self.listener(ToolCallChanged(index, position))

"""What a running `ReplyFlow` reports to whoever shows it (the chat screen, the shell).

Events are delivered by calling the listener on the thread that runs the flow (the event loop),
in this order: `Saved` or `SaveFailed` for the prompt, `ReplyStarted`, any number of
`ReplyUpdated` (with `Saved`/`SaveFailed` of periodic saves between them), then the final
`Saved`/`SaveFailed` and `ReplyEnded`. The last two come even when the flow is cancelled: the
reply is saved first, so a listener whose widgets are already gone loses nothing.

A reply that asks for tools is followed by `ToolCallChanged` events as each call is approved,
run and answered, and then by the next reply's `ReplyStarted` ... `ReplyEnded`, until a reply
asks for no tools (or `ToolRoundsLimitReached`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui_chat.domain.conversation import Message
from tui_chat.engine.errors import ChatError
from tui_chat.engine.events import StreamEvent
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.storage.errors import StorageError
from tui_chat.storage.store import SaveOutcome


@dataclass(frozen=True)
class Saved:
    """The conversation reached its file. `outcome.message` is non-empty when the store merged
    with, or forked away from, a change made elsewhere: the conversation was updated to match
    (on the flow's thread) and whoever shows it should show it again."""

    outcome: SaveOutcome


@dataclass(frozen=True)
class SaveFailed:
    """The disk refused a save; the conversation is intact in memory and a later save retries."""

    error: StorageError


@dataclass(frozen=True)
class ReplyStarted:
    """The (empty) reply was appended at `index` and the request is about to leave.
    `prompt_tokens` is our count of what it sends; `recorder` carries the live figures."""

    index: int
    prompt_tokens: int
    recorder: ReplyRecorder


@dataclass(frozen=True)
class ReplyUpdated:
    """`event` from the stream was recorded into the reply at `index`."""

    index: int
    event: StreamEvent


@dataclass(frozen=True)
class ReplyEnded:
    """The reply at `index` ended and was saved: finished, cut, failed (`failure` says why) or
    interrupted (the flow was cancelled)."""

    index: int
    reply: Message
    failure: ChatError | None
    completion_tokens: int

    @property
    def interrupted(self) -> bool:
        """True when the reply was stopped before it finished (Esc, quit, hang-up)."""
        return self.reply.finish_reason == "interrupted"


@dataclass(frozen=True)
class ToolCallChanged:
    """Call `call_index` of the reply at `message_index` changed status (see ToolCall); once
    it is settled, its result is on it."""

    message_index: int
    call_index: int


@dataclass(frozen=True)
class ToolRoundsLimitReached:
    """The model asked for tools `limit` rounds in a row: its last calls were not run, and it
    was asked to answer with what it has."""

    limit: int


FlowEvent = (
    Saved
    | SaveFailed
    | ReplyStarted
    | ReplyUpdated
    | ReplyEnded
    | ToolCallChanged
    | ToolRoundsLimitReached
)
FlowListener = Callable[[FlowEvent], None]

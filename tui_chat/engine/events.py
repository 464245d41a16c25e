"""What a streaming reply reports, in order: text (and reasoning) deltas, usage, then the end.

A stream yields any number of `TextDelta`/`ReasoningDelta`/`ToolCallDelta`, at most one
`UsageReport`, and then exactly one of `Finished` or `StreamFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_chat.domain.conversation import Usage
from tui_chat.engine.errors import ChatError


@dataclass(frozen=True)
class TextDelta:
    """More text of the reply."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """What the model thinks before its answer: `reasoning_content` (DeepSeek, vLLM, llama.cpp)
    or `reasoning` (OpenRouter, Ollama) deltas, or a leading `<think>` block in the content.
    It is kept beside the reply (`Message.thinking`), never in it."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call the reply asks for. The call at `index` gets its `id` and `name` in
    its first piece; its `arguments` (JSON text) arrive in pieces to join in order."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True)
class UsageReport:
    """Token usage as the server reported it (`usage.estimated` is False)."""

    usage: Usage
    model: str | None


@dataclass(frozen=True)
class Finished:
    """The stream ended. `reason` is the API's finish_reason ("stop", "length",
    "content_filter"...), or "cut" when the stream ended without one."""

    reason: str
    model: str | None


@dataclass(frozen=True)
class StreamFailed:
    """The request failed or the stream broke; text already yielded stays valid."""

    error: ChatError


StreamEvent = TextDelta | ReasoningDelta | ToolCallDelta | UsageReport | Finished | StreamFailed

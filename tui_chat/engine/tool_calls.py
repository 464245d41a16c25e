"""Streamed tool calls put together, and tool calls turned into Chat Completions messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_chat.domain.tools import ToolCall
from tui_chat.engine.events import ToolCallDelta

# What the model is told of a call that has no result in the conversation: the app was closed
# while the call waited for approval, or the reply was stopped before the call ran.
NOT_RUN = "The call was not run: it was stopped before it could run."


class ToolCallAssembler:
    """Joins `ToolCallDelta` pieces into the `ToolCall`s of a reply, in place, by index."""

    def __init__(self, calls: list[ToolCall]) -> None:
        self.calls = calls
        self._by_index: dict[int, ToolCall] = {}

    def add(self, piece: ToolCallDelta) -> None:
        call = self._by_index.get(piece.index)
        if call is None:
            call = ToolCall(id=piece.id or "", name=piece.name or "", arguments="")
            self._by_index[piece.index] = call
            self.calls.append(call)
        else:
            # Some servers repeat the id and name in later pieces; the first ones stand.
            call.id = call.id or piece.id or ""
            call.name = call.name or piece.name or ""
        call.arguments += piece.arguments


def assistant_tool_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """The `tool_calls` of an assistant message in a request."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


def tool_results(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """The `tool` messages answering `calls`, in their order, built from the results kept on
    them; a call without one gets NOT_RUN, since the API refuses a request where a call has no
    answer."""
    return [
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": call.result if call.result is not None else NOT_RUN,
        }
        for call in calls
    ]

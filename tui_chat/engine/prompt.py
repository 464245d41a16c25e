"""Which messages of a conversation are sent to the model (one rule for sending and counting)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_chat.domain.conversation import Message
from tui_chat.engine.attachment_parts import ImageLoader, content_parts
from tui_chat.engine.tool_calls import assistant_tool_calls, tool_results

ChatMessage = dict[str, Any]


def is_sent(message: Message) -> bool:
    """False for what the model should not see: failed replies and empty assistant messages.

    A failed reply holds an error text, not model output; an empty assistant message (a reply
    interrupted before its first token) would only confuse the model. Interrupted and cut
    replies with text are sent: the user saw them and may refer to them. A reply that asked
    for tools is sent with its calls, and their results right after it (see below).
    """
    if message.role != "assistant":
        return True
    return message.finish_reason != "error" and bool(message.content or message.tool_calls)


def build_chat_messages(
    system: str, messages: Sequence[Message], load_image: ImageLoader | None = None
) -> list[ChatMessage]:
    """The Chat Completions `messages` list: the system prompt (when set), then the history.

    An assistant message with tool calls is followed by one `tool` message per call, in the
    order of the calls, as the API requires: each call's result is kept on the call. A
    message with attachments is sent as content parts (see attachment_parts.py); images are
    read with `load_image` (blocking: a sender with images builds the list in a thread).
    Without `load_image` (counting), image parts are left out: they are counted by the tile
    rule, not by their base64.
    """
    chat: list[ChatMessage] = []
    if system.strip():
        chat.append({"role": "system", "content": system})
    for message in messages:
        if not is_sent(message):
            continue
        if message.role == "assistant" and message.tool_calls:
            chat.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": assistant_tool_calls(message.tool_calls),
                }
            )
            chat.extend(tool_results(message.tool_calls))
        elif message.attachments:
            chat.append({"role": message.role, "content": content_parts(message, load_image)})
        else:
            chat.append({"role": message.role, "content": message.content})
    return chat

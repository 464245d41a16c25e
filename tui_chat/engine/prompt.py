"""Which messages of a conversation are sent to the model (one rule for sending and counting)."""

from __future__ import annotations

from collections.abc import Sequence

from tui_chat.domain.conversation import Message

ChatMessage = dict[str, str]


def is_sent(message: Message) -> bool:
    """False for what the model should not see: failed replies and empty assistant messages.

    A failed reply holds an error text, not model output; an empty assistant message (a reply
    interrupted before its first token) would only confuse the model. Interrupted and cut
    replies with text are sent: the user saw them and may refer to them.
    """
    if message.role != "assistant":
        return True
    return message.finish_reason != "error" and bool(message.content)


def build_chat_messages(system: str, messages: Sequence[Message]) -> list[ChatMessage]:
    """The Chat Completions `messages` list: the system prompt (when set), then the history."""
    chat: list[ChatMessage] = []
    if system.strip():
        chat.append({"role": "system", "content": system})
    chat.extend(
        {"role": message.role, "content": message.content}
        for message in messages
        if is_sent(message)
    )
    return chat

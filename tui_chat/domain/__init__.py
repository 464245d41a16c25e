"""The domain: conversations and messages, free of any UI, storage format or API client."""

from tui_chat.domain.attachments import Attachment, AttachmentKind
from tui_chat.domain.conversation import (
    Conversation,
    FinishReason,
    Message,
    Role,
    Spend,
    Usage,
    new_conversation_id,
    utc_now,
)
from tui_chat.domain.tools import ToolCall, ToolCallStatus

__all__ = [
    "Attachment",
    "AttachmentKind",
    "Conversation",
    "FinishReason",
    "Message",
    "Role",
    "Spend",
    "ToolCall",
    "ToolCallStatus",
    "Usage",
    "new_conversation_id",
    "utc_now",
]

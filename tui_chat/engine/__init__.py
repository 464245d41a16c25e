"""The chat engine: streaming replies (openai), token counts (tiktoken), prices (genai-prices).

Importing this package is cheap: openai, tiktoken and genai-prices are imported on first use.
It knows nothing of Textual; the app, the CLI and the tests use it the same way.
"""

from tui_chat.engine.api_keys import resolve_api_key
from tui_chat.engine.client import ChatClient
from tui_chat.engine.errors import ChatError, describe_error
from tui_chat.engine.events import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    TextDelta,
    UsageReport,
)
from tui_chat.engine.prices import ModelPricing, PriceBook
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.tokens import StreamingTokenCount, TokenCount, TokenCounter

__all__ = [
    "ChatClient",
    "ChatError",
    "Finished",
    "ModelPricing",
    "PriceBook",
    "ReasoningDelta",
    "ReplyRecorder",
    "StreamEvent",
    "StreamFailed",
    "StreamingTokenCount",
    "TextDelta",
    "TokenCount",
    "TokenCounter",
    "UsageReport",
    "describe_error",
    "resolve_api_key",
]

"""Fields of streamed chunks that OpenAI-compatible servers spell differently: usage (with or
without details, DeepSeek's cache hits, Groq's `x_groq.usage`) and reasoning text (vLLM,
Ollama and DeepSeek's `reasoning_content`, OpenRouter's `reasoning`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui_chat.domain.conversation import Usage
from tui_chat.engine.events import ToolCallDelta


def usage_from(raw: Any) -> Usage:
    """The domain Usage from an SDK usage object, tolerating servers that omit details."""
    prompt_details = getattr(raw, "prompt_tokens_details", None)
    completion_details = getattr(raw, "completion_tokens_details", None)
    cached = getattr(prompt_details, "cached_tokens", None)
    if cached is None:
        # DeepSeek reports its cache hits at the top level.
        extra = getattr(raw, "model_extra", None) or {}
        cached = extra.get("prompt_cache_hit_tokens")
    return Usage(
        prompt_tokens=int(getattr(raw, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(raw, "completion_tokens", 0) or 0),
        cached_tokens=int(cached or 0),
        reasoning_tokens=int(getattr(completion_details, "reasoning_tokens", 0) or 0),
        estimated=False,
    )


def usage_from_mapping(raw: Mapping[str, Any]) -> Usage:
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def extra_usage(chunk: Any) -> Mapping[str, Any] | None:
    """Usage some servers put outside `usage`: Groq's `x_groq.usage` on the last chunk."""
    extra = getattr(chunk, "model_extra", None) or {}
    groq = extra.get("x_groq")
    if isinstance(groq, Mapping) and isinstance(groq.get("usage"), Mapping):
        return groq["usage"]  # type: ignore[no-any-return]
    return None


def reasoning_text(delta: Any) -> str | None:
    """The reasoning text of a streamed delta (an SDK object: the field is in `model_extra`) or
    of a whole response's message (a plain mapping), None when it holds none."""
    extra = delta if isinstance(delta, Mapping) else getattr(delta, "model_extra", None) or {}
    # vLLM, Ollama, DeepSeek: reasoning_content; OpenRouter: reasoning.
    for key in ("reasoning_content", "reasoning"):
        value = extra.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _field(value: Any, name: str) -> Any:
    """A field of an SDK object or of a plain mapping (a whole JSON response)."""
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def tool_call_deltas(delta: Any) -> list[ToolCallDelta]:
    """The pieces of tool calls in a streamed delta (`delta.tool_calls`, the SDK's typed field)
    or in a whole response's message (a plain mapping)."""
    pieces = []
    for position, raw in enumerate(_field(delta, "tool_calls") or ()):
        if raw is None or isinstance(raw, str | int | float):
            continue  # not a call at all: a broken server's JSON
        function = _field(raw, "function")
        index = _field(raw, "index")
        pieces.append(
            ToolCallDelta(
                # Some servers leave index out when they send whole calls: their order is it.
                index=index if isinstance(index, int) else position,
                id=_field(raw, "id") or None,
                name=_field(function, "name") or None,
                arguments=_field(function, "arguments") or "",
            )
        )
    return pieces

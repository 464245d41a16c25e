"""What the engine needs to know about servers and model families, by name alone."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from tui_chat.config import Profile

OPENAI_BASE_URL = "https://api.openai.com/v1"

# o1, o1-mini, o3, o3-mini, o4-mini... and the gpt-5 family (but not gpt-5-chat, a chat model).
_REASONING = re.compile(r"^(?:o\d(?:-.*)?|gpt-5(?!.*-chat).*)$")


def effective_base_url(profile: Profile) -> str:
    """The URL requests go to: the profile's, else OPENAI_BASE_URL, else OpenAI's (as the SDK)."""
    return (profile.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL).rstrip("/")


def is_openai_url(base_url: str | None) -> bool:
    """True for OpenAI's own API (and Azure OpenAI), which need a real key and know o-series
    parameters."""
    if base_url is None:
        return True
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "api.openai.com" or host.endswith(".openai.azure.com")


def is_loopback_url(base_url: str | None) -> bool:
    """True for a server on this machine (localhost, 127.0.0.0/8, ::1): Ollama, llama.cpp, LM
    Studio, a local proxy. No provider that bills for tokens answers there."""
    host = urlsplit(base_url).hostname if base_url else None
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False


def bare_model_name(model: str) -> str:
    """`openai/gpt-4o` (OpenRouter, LiteLLM) -> `gpt-4o`."""
    return model.rsplit("/", 1)[-1].strip().lower()


def is_reasoning_model(model: str) -> bool:
    """o1/o3/o4-mini and gpt-5*: they take max_completion_tokens and reject sampling params."""
    return bool(_REASONING.match(bare_model_name(model)))


def model_name_problem(name: str) -> str | None:
    """Why `name` cannot be a model's name (None when it can): no server names a model with
    nothing, or with spaces, and such a name would only fail at the next send."""
    if not name.strip():
        return "Type a model's name, or pick one from the list."
    if any(character.isspace() for character in name.strip()):
        return f"A model's name has no spaces: {name.strip()!r} is not one."
    return None

"""The one place where failures talking to a server become sentences a user understands.

`describe_error` maps any exception from a request (the openai SDK's, a malformed stream's, our
own `UnexpectedResponse`) to a `ChatError`: a kind the UI can act on, one sentence saying what
happened and what to do next, and the facts behind it (status, retry-after, tokens over the
context window). Messages name the server; they never contain an API key, at most its last four
characters. A sentence about a stream that broke says what happened, not what became of the
reply: whoever shows the reply says that (partial text kept, how to retry) once, from its
finish_reason.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# How much of a server's own message to quote.
_DETAIL_CHARS = 160

_KEY_LIKE = re.compile(r"\b(?:sk|gsk|xai|pk|rk)-[A-Za-z0-9_\-*.]{6,}")
_CONTEXT_PATTERNS = (
    # OpenAI, vLLM, Groq: "maximum context length is 128000 tokens. However, your messages
    # resulted in 130532 tokens" / "you requested 5000 tokens (4000 in the messages, ...)".
    re.compile(
        r"maximum context length is (?P<limit>[\d,]+) tokens.*?"
        r"(?:resulted in|requested) (?P<used>[\d,]+) tokens",
        re.S | re.I,
    ),
    # Newer OpenAI models: "Input tokens exceed the configured limit of 272000 tokens. Your
    # messages resulted in 300000 tokens."
    re.compile(
        r"limit of (?P<limit>[\d,]+) tokens.*?resulted in (?P<used>[\d,]+) tokens", re.S | re.I
    ),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TRY_AGAIN_IN = re.compile(r"try again in (?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s)\b", re.I)


class ChatError(Exception):
    """A failed request, said for the user. `str(error)` is `message`.

    kind: "no_api_key", "api_key_command", "auth", "forbidden", "not_found", "context_length",
    "unsupported_parameter", "bad_request", "rate_limit", "quota", "server", "connection",
    "timeout", "stream_cut", "bad_response", "no_images" (the model takes no images),
    "attachment" (an attached image could not be read) or "unexpected".
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        over_by_tokens: int | None = None,
        context_window: int | None = None,
        param: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.over_by_tokens = over_by_tokens
        self.context_window = context_window
        self.param = param
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"ChatError({self.kind!r}, {self.message!r}, status={self.status!r})"


class UnexpectedResponse(Exception):
    """The server answered 200 with something that is not an API response (a web page)."""

    def __init__(self, content_type: str, snippet: str) -> None:
        super().__init__(f"unexpected {content_type or 'untyped'} response: {snippet[:80]!r}")
        self.content_type = content_type
        self.snippet = snippet


def mask_key(key: str | None) -> str:
    """How a key may appear in a message: its last four characters at most."""
    if not key or len(key) < 12:
        return "…"
    return "…" + key[-4:]


def _the_key(key: str | None) -> str:
    """The key as a sentence names it: by its last four characters when it is long enough to
    show them, else without any (a bare "…" said nothing)."""
    masked = mask_key(key)
    return "the API key" if masked == "…" else f"the API key {masked}"


def redact(text: str, api_key: str | None = None) -> str:
    """`text` with the API key (and anything shaped like one) replaced by its last 4 chars."""
    if api_key and len(api_key) >= 4:
        text = text.replace(api_key, mask_key(api_key))
    return _KEY_LIKE.sub(lambda match: mask_key(match.group(0)), text)


def host_of(base_url: str) -> str:
    """The host[:port] of a base_url, for sentences that do not need the whole URL."""
    return urlsplit(base_url).netloc or base_url


def no_api_key_error(profile: str, env_var: str, base_url: str) -> ChatError:
    """No key configured for a server that needs one."""
    return ChatError(
        "no_api_key",
        f"No API key for profile '{profile}' ({host_of(base_url)}): set {env_var}, or add "
        f"api_key_command to [profiles.{profile}] in config.toml.",
    )


def key_command_error(profile: str, reason: str) -> ChatError:
    """The profile's api_key_command failed, hung or printed nothing."""
    return ChatError(
        "api_key_command",
        f"The api_key_command of profile '{profile}' {reason}: run it in a shell to check it.",
    )


def stream_ended_early_notice(base_url: str | None) -> str:
    """Why a reply is marked cut when the server closed the stream without finishing it."""
    where = host_of(base_url) if base_url else "The server"
    return f"{where} ended the reply without saying it was finished."


def _detail(exc: BaseException, api_key: str | None) -> str:
    """The server's own message, one line, short, without keys."""
    body = getattr(exc, "body", None)
    text: str
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        text = body["message"]
    elif isinstance(body, str) and body.strip():
        text = _strip_markup(body)
    else:
        text = getattr(exc, "message", None) or str(exc)
    # One line, and no control characters: a server must not drive the user's terminal.
    text = " ".join(_CONTROL.sub("", redact(text, api_key)).split())
    if len(text) > _DETAIL_CHARS:
        text = text[: _DETAIL_CHARS - 1].rstrip() + "…"
    return text.rstrip(".")


def _strip_markup(text: str) -> str:
    title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
    if title:
        return title.group(1)
    return re.sub(r"<[^>]+>", " ", text)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _context_overflow(exc: BaseException) -> tuple[int | None, int | None]:
    """(tokens over, context window) from a context-length error, when the server says."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        # llama.cpp's server reports the numbers as fields.
        used, limit = body.get("n_prompt_tokens"), body.get("n_ctx")
        if isinstance(used, int) and isinstance(limit, int):
            return max(used - limit, 0), limit
    text = _detail_raw(exc)
    for pattern in _CONTEXT_PATTERNS:
        match = pattern.search(text)
        if match:
            limit = _number(match.group("limit"))
            return max(_number(match.group("used")) - limit, 0), limit
    return None, None


def _detail_raw(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(getattr(exc, "message", None) or exc)


def _is_context_error(exc: BaseException, code: str | None) -> bool:
    body = getattr(exc, "body", None)
    kind = body.get("type") if isinstance(body, Mapping) else None
    if code == "context_length_exceeded" or kind == "exceed_context_size_error":
        return True
    text = _detail_raw(exc).lower()
    return "context length" in text or "context_length" in text or "context window" in text


# How servers say a model takes no images: OpenAI ("image_url is only supported by certain
# models"), llama.cpp ("image input is not supported"), vLLM ("not a multimodal model"),
# LiteLLM and others ("does not support image input", "vision is not supported").
_IMAGE_REFUSAL = re.compile(
    r"image_url is only supported|(does not|doesn't|cannot) (support|accept) (image|vision)"
    r"|image input is not supported|images? (are|is) not supported|not a multimodal model"
    r"|vision is not supported|no vision support",
    re.I,
)


def _is_image_refusal(exc: BaseException) -> bool:
    return _IMAGE_REFUSAL.search(_detail_raw(exc)) is not None


def retry_after_seconds(headers: Mapping[str, str] | None, message: str = "") -> float | None:
    """Seconds to wait before retrying, from Retry-After(-ms) headers or the message text."""
    if headers is not None:
        millis = headers.get("retry-after-ms")
        if millis:
            try:
                return float(millis) / 1000
            except ValueError:
                pass
        value = headers.get("retry-after")
        if value:
            try:
                return float(value)
            except ValueError:
                parsed = email.utils.parsedate_tz(value)
                if parsed is not None:
                    return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
    match = _TRY_AGAIN_IN.search(message)
    if match:
        seconds = float(match.group("value"))
        return seconds / 1000 if match.group("unit").lower() == "ms" else seconds
    return None


def _wait_phrase(seconds: float | None) -> str:
    if seconds is None:
        return "wait a minute and send again"
    if seconds < 1:
        return "send again in a second"
    if seconds < 90:
        return f"send again in {round(seconds)} s"
    return f"send again in {round(seconds / 60)} min"


def _connection_reason(exc: BaseException) -> str:
    """What went wrong under an APIConnectionError, in a few words."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    text = " ".join(str(link).lower() for link in chain)
    if any(isinstance(link, ConnectionRefusedError) for link in chain) or "refused" in text:
        return "the connection was refused (is the server running?)"
    if any(isinstance(link, socket.gaierror) for link in chain) or any(
        marker in text
        for marker in (
            "name or service not known",
            "nodename nor servname",
            "name resolution",
            "getaddrinfo",
            "no address associated",
        )
    ):
        return "the host name was not found (check the base_url and your network)"
    if any(isinstance(link, ssl.SSLError) for link in chain) or "certificate" in text:
        return (
            "its TLS certificate is not trusted (behind a proxy, set SSL_CERT_FILE or SSL_CERT_DIR)"
        )
    if "unreachable" in text:
        return "the network is unreachable"
    return "the connection failed (check the base_url and your network)"


def describe_error(
    exc: BaseException,
    *,
    base_url: str,
    model: str,
    api_key: str | None = None,
    profile: str | None = None,
    during_stream: bool = False,
) -> ChatError:
    """Turn an exception from a chat request into a `ChatError` a user can act on.

    `during_stream` says that reply text had already arrived, so a broken connection is a cut
    stream (the partial reply is kept) rather than a server that could not be reached.
    """
    if isinstance(exc, ChatError):
        return exc
    import openai

    host = host_of(base_url)
    where = f" in profile '{profile}'" if profile else ""
    if isinstance(exc, UnexpectedResponse):
        if "html" in exc.content_type.lower() or exc.snippet.lstrip().startswith("<"):
            return ChatError(
                "bad_response",
                f"{base_url} answered with a web page instead of the API (a captive portal, a "
                "proxy login or a wrong base_url): sign in to the network or fix the base_url.",
                status=200,
            )
        return ChatError(
            "bad_response",
            f"{base_url} answered with something that is not an OpenAI-compatible stream "
            f"({exc.content_type or 'no content type'}): check that the base_url ends in /v1.",
            status=200,
        )
    if isinstance(exc, openai.APITimeoutError):
        if during_stream:
            return ChatError(
                "timeout",
                f"{host} stopped sending mid-reply and the wait timed out.",
                retryable=True,
            )
        return ChatError(
            "timeout",
            f"{base_url} did not answer in time: send again, or raise request_timeout{where} "
            "for slow models.",
            retryable=True,
        )
    if isinstance(exc, openai.APIConnectionError):
        if during_stream:
            return ChatError(
                "stream_cut",
                f"The connection to {host} dropped mid-reply.",
                retryable=True,
            )
        return ChatError(
            "connection",
            f"Cannot reach {base_url}: {_connection_reason(exc)}.",
            retryable=True,
        )
    if isinstance(exc, openai.APIStatusError):
        return _describe_status(exc, base_url=base_url, model=model, api_key=api_key, where=where)
    if isinstance(exc, openai.APIError):
        # An error sent inside the stream as `data: {"error": ...}`, or as a 200 JSON body:
        # no HTTP status to go by.
        code = exc.code
        if _is_context_error(exc, code):
            return _context_error(exc, model, status=None)
        return ChatError(
            "server",
            f"{host} reported an error ({_detail(exc, api_key)}).",
            retryable=True,
        )
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return ChatError(
            "bad_response",
            f"{host} sent a malformed stream (not valid JSON): check that the base_url points "
            "at an OpenAI-compatible API.",
        )
    return ChatError(
        "unexpected",
        f"The request to {host} failed unexpectedly ({type(exc).__name__}: "
        f"{redact(str(exc), api_key)[:_DETAIL_CHARS]}).",
    )


def _context_error(exc: BaseException, model: str, *, status: int | None) -> ChatError:
    over, limit = _context_overflow(exc)
    if over is not None and limit is not None:
        message = (
            f"The conversation is {over:,} tokens over the {limit:,}-token context window of "
            f"{model}: drop the oldest messages or start a new conversation."
        )
    else:
        message = (
            f"The conversation is too long for the context window of {model}: drop the oldest "
            "messages or start a new conversation."
        )
    return ChatError(
        "context_length", message, status=status, over_by_tokens=over, context_window=limit
    )


def _describe_status(
    exc: Any, *, base_url: str, model: str, api_key: str | None, where: str
) -> ChatError:
    status: int = exc.status_code
    code: str | None = exc.code
    profile_ref = where.removeprefix(" in ") or "the profile"
    host = host_of(base_url)
    detail = _detail(exc, api_key)
    if status == 401:
        return ChatError(
            "auth",
            f"{host} rejected {_the_key(api_key)} (401): check the key{where} or its "
            "environment variable.",
            status=status,
        )
    if status == 403:
        return ChatError(
            "forbidden",
            f"{host} refused access to {model} (403: {detail}): check the key's project and "
            "permissions.",
            status=status,
        )
    if status == 404:
        if code == "model_not_found" or "model" in detail.lower():
            return ChatError(
                "not_found",
                f"{host} has no model named '{model}' (404): pick another model.",
                status=status,
            )
        return ChatError(
            "not_found",
            f"{base_url} has no chat completions endpoint (404): check that the base_url ends "
            "in /v1.",
            status=status,
        )
    if status == 429:
        if code == "insufficient_quota" or (exc.type or "") == "insufficient_quota":
            return ChatError(
                "quota",
                f"The quota of this account at {host} is used up (429): add credit or check "
                "the plan and billing, then send again.",
                status=status,
            )
        headers = exc.response.headers if exc.response is not None else None
        wait = retry_after_seconds(headers, detail)
        return ChatError(
            "rate_limit",
            f"{host} is rate limiting requests (429): {_wait_phrase(wait)}.",
            status=status,
            retry_after=wait,
            retryable=True,
        )
    if _is_image_refusal(exc):
        return ChatError(
            "no_images",
            f"{model} at {host} does not take images ({status}: {detail}): remove the images "
            "or pick a model that reads them.",
            status=status,
        )
    if status in (400, 413, 422):
        if _is_context_error(exc, code):
            return _context_error(exc, model, status=status)
        if code in ("unsupported_parameter", "unsupported_value") and exc.param:
            return ChatError(
                "unsupported_parameter",
                f"{model} does not accept the parameter '{exc.param}' ({detail}): remove it "
                f"from {profile_ref} in config.toml and send again.",
                status=status,
                param=exc.param,
            )
        return ChatError(
            "bad_request",
            f"{host} rejected the request ({status}: {detail}).",
            status=status,
            param=exc.param,
        )
    if status >= 500:
        page = isinstance(exc.body, str) and "<" in exc.body
        what = f"{status}, {detail}" if detail and not page else str(status)
        return ChatError(
            "server",
            f"{host} had a server error ({what}): send again in a moment.",
            status=status,
            retryable=True,
        )
    return ChatError(
        "bad_request",
        f"{host} refused the request ({status}: {detail}).",
        status=status,
    )


def describe_models_error(
    exc: BaseException, *, base_url: str, api_key: str | None = None, timeout: float
) -> ChatError:
    """Why a server's model list is missing (`GET /models` failed), in one sentence.

    Not `describe_error`: its sentences speak of sending a message, and a 404 here means the
    server has no list, not that a model or the chat endpoint is missing.
    """
    if isinstance(exc, ChatError):  # no key, or the key command failed: it says what to do
        return exc
    import openai

    host = host_of(base_url)
    kind, status = "bad_response", None
    if isinstance(exc, openai.APITimeoutError):
        kind, why = "timeout", f"no answer within {timeout:g} s"
    elif isinstance(exc, openai.APIConnectionError):
        kind, why = "connection", _connection_reason(exc)
    elif isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 401:
            kind, why = "auth", f"it rejected {_the_key(api_key)} (401)"
        elif status == 403:
            kind, why = "forbidden", "it refused access to the list (403)"
        elif status == 404:
            kind, why = "not_found", "it has no /models endpoint (404)"
        elif status == 429:
            kind, why = "rate_limit", "it is rate limiting requests (429)"
        elif status >= 500:
            kind, why = "server", f"it had a server error ({status})"
        else:
            kind, why = "bad_request", f"it answered {status} ({_detail(exc, api_key)})"
    else:
        why = "its answer was not an OpenAI-compatible model list"
    return ChatError(kind, f"No model list from {host}: {why}.", status=status)

"""Streaming chat replies from OpenAI and OpenAI-compatible servers.

`ChatClient.stream_reply` turns a conversation into a Chat Completions request and yields typed
events (see events.py); it never raises for API errors, it yields `StreamFailed`. The openai SDK
costs about half a second to import, so it is imported on the first request, never at start-up.

Consume a stream with `contextlib.aclosing` so that leaving the loop early closes the HTTP
response at once:

    async with aclosing(client.stream_reply(conversation)) as events:
        async for event in events:
            recorder.apply(event)
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tui_chat.config import Profile
from tui_chat.domain.conversation import Conversation
from tui_chat.engine.api_keys import resolve_api_key
from tui_chat.engine.attachment_parts import ImageLoader
from tui_chat.engine.chunk_fields import (
    extra_usage,
    reasoning_text,
    tool_call_deltas,
    usage_from,
    usage_from_mapping,
)
from tui_chat.engine.errors import (
    ChatError,
    UnexpectedResponse,
    describe_error,
    describe_models_error,
    no_api_key_error,
)
from tui_chat.engine.events import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    UsageReport,
)
from tui_chat.engine.prompt import ChatMessage, build_chat_messages
from tui_chat.engine.servers import effective_base_url, is_openai_url, is_reasoning_model
from tui_chat.engine.think_tags import ThinkTagSplitter

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

# Local servers (Ollama, llama.cpp, LM Studio) ignore the key, but the SDK refuses to start
# without one.
PLACEHOLDER_API_KEY = "not-needed"
CONNECT_TIMEOUT = 10.0
MODELS_TIMEOUT = 10.0
# After /v1/models failed, ask again only after this long (a down server makes every ask slow).
MODELS_RETRY_AFTER = 30.0


# Two threads importing one package at once can see it half-initialised (it crashed tiktoken):
# warm_up and the first request's import take turns.
_SDK_IMPORT_LOCK = threading.Lock()


# What the first request imports besides openai itself (measured: the SDK loads its chat
# resources, streaming helpers, JSON parser and anyio's backend on first use). Only hints: a
# name a later release moves is skipped.
_FIRST_REQUEST_MODULES = (
    "openai.resources.chat.completions.completions",
    "openai.lib.streaming.chat",
    "anyio._backends._asyncio",
    "jiter",
)


def warm_up() -> None:
    """Import what the first request needs ahead of it, so the first message does not wait
    ~0.5 s for it: openai, what it loads on first use, and the HTTP transport.
    Blocking: call it from a background thread once start-up is over."""
    with _SDK_IMPORT_LOCK:
        import openai

        for name in _FIRST_REQUEST_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        openai.DefaultAsyncHttpxClient()  # imports its transport (the object is let go)


async def _refuse_retry_on_spent_quota(response: httpx2.Response) -> None:
    """Tell the SDK not to retry a 429 whose quota is spent: waiting will not help.

    The SDK retries every 429; the `x-should-retry` header is its documented way to say no.
    """
    if response.status_code != 429:
        return
    await response.aread()
    try:
        body = json.loads(response.content)
    except ValueError:
        return
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "insufficient_quota" in (error.get("code"), error.get("type")):
        response.headers["x-should-retry"] = "false"


class ChatClient:
    """Talks to one profile's server. Create one per profile; `aclose()` it when done."""

    def __init__(
        self,
        profile: Profile,
        *,
        api_key: str | None = None,
        max_retries: int | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        key_command_timeout: float | None = None,
        models_timeout: float = MODELS_TIMEOUT,
        load_image: ImageLoader | None = None,
    ) -> None:
        """`max_retries` and `key_command_timeout` default to the profile's settings;
        `load_image` gives an attached image's stored bytes (the app's ImageStore.read):
        without it, a message with images fails to send, saying so."""
        self.profile = profile
        self.base_url = effective_base_url(profile)
        self.max_retries = profile.max_retries if max_retries is None else max_retries
        self.connect_timeout = connect_timeout
        self.models_timeout = models_timeout
        self.key_command_timeout = (
            profile.api_key_command_timeout if key_command_timeout is None else key_command_timeout
        )
        self._api_key = api_key
        self.load_image = load_image
        self._sdk: AsyncOpenAI | None = None
        self._sdk_lock: asyncio.Lock | None = None
        self._models: list[str] | None = None
        self._models_failed_at: float | None = None
        self.models_error: ChatError | None = None
        # Set when the server rejected stream_options (strict servers that predate it).
        self._without_stream_options = False

    # --- the SDK client ----------------------------------------------------------------

    async def _client(self) -> AsyncOpenAI:
        """The SDK client, created on first use (imports openai, resolves the key once)."""
        if self._sdk is not None:
            return self._sdk
        if self._sdk_lock is None:
            self._sdk_lock = asyncio.Lock()
        async with self._sdk_lock:
            if self._sdk is None:
                key = self._api_key or await asyncio.to_thread(
                    resolve_api_key, self.profile, timeout=self.key_command_timeout
                )
                if key is None:
                    if is_openai_url(self.base_url):
                        raise no_api_key_error(
                            self.profile.name, self.profile.api_key_env, self.base_url
                        )
                    key = PLACEHOLDER_API_KEY
                self._api_key = key
                self._sdk = await asyncio.to_thread(self._build_sdk, key)
        return self._sdk

    def _build_sdk(self, key: str) -> AsyncOpenAI:
        # Runs in a thread: importing openai takes about 0.4 s (unless warm_up did it).
        with _SDK_IMPORT_LOCK:
            import httpx2
            import openai

        return openai.AsyncOpenAI(
            api_key=key,
            base_url=self.base_url,
            max_retries=self.max_retries,
            # For streams the timeout is per read: a reasoning model may think for minutes
            # before its first token, hence the profile's generous request_timeout.
            timeout=httpx2.Timeout(self.profile.request_timeout, connect=self.connect_timeout),
            http_client=openai.DefaultAsyncHttpxClient(
                event_hooks={"response": [_refuse_retry_on_spent_quota]}
            ),
        )

    def _describe(self, exc: BaseException, model: str, *, during_stream: bool) -> ChatError:
        return describe_error(
            exc,
            base_url=self.base_url,
            model=model,
            api_key=self._api_key,
            profile=self.profile.name,
            during_stream=during_stream,
        )

    # --- requests ------------------------------------------------------------------------

    def request_params(
        self,
        model: str,
        messages: list[ChatMessage],
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """The Chat Completions parameters for `model`, adapted to its family and server;
        `tools`: the `tools` definitions the model may call (none: the key is left out)."""
        params: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            params["tools"] = [dict(tool) for tool in tools]
        reasoning = is_reasoning_model(model)
        if self.profile.max_tokens is not None:
            # OpenAI's reasoning models reject max_tokens; Ollama and others ignore
            # max_completion_tokens, so they keep the older name.
            use_completion = reasoning and is_openai_url(self.base_url)
            key = "max_completion_tokens" if use_completion else "max_tokens"
            params[key] = self.profile.max_tokens
        if self.profile.temperature is not None and not reasoning:
            params["temperature"] = self.profile.temperature
        return params

    async def stream_reply(
        self,
        conversation: Conversation,
        *,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream the assistant's reply to `conversation` (system prompt plus its messages).

        Yields TextDelta/ReasoningDelta events (a leading <think> block in the content comes
        as ReasoningDelta), then a UsageReport when the server sends
        usage, then Finished; or StreamFailed at any point, after which it stops. Cancelling
        the consuming task closes the HTTP response at once and re-raises CancelledError.
        """
        model = model or conversation.model
        try:
            sdk = await self._client()
        except ChatError as error:
            yield StreamFailed(error)
            return
        try:
            messages = await self._chat_messages(conversation)
        except ChatError as error:
            yield StreamFailed(error)
            return
        params = self.request_params(model, messages, tools)
        stream: Any = None
        # A leading <think> block in the content is thinking, not answer (see think_tags.py).
        splitter = ThinkTagSplitter()
        ending: list[StreamEvent] = []  # after the text: usage and Finished, or StreamFailed
        try:
            try:
                stream = await self._create(sdk, params)
                content_type = stream.response.headers.get("content-type", "").lower()
                if "json" in content_type or "html" in content_type:
                    async for event in self._whole_response(stream.response, model):
                        yield event
                    return
                finish: str | None = None
                usage: Any = None
                served_model: str | None = None
                chunks = 0
                async for chunk in stream:
                    chunks += 1
                    served_model = getattr(chunk, "model", None) or served_model
                    if getattr(chunk, "usage", None) is not None:
                        usage = chunk.usage
                    else:
                        usage = extra_usage(chunk) or usage
                    for choice in chunk.choices or ():
                        if getattr(choice, "index", 0) not in (0, None):
                            continue  # n > 1 is never asked for; ignore other choices
                        delta = choice.delta
                        if delta is not None:
                            reasoning = reasoning_text(delta)
                            if reasoning:
                                yield ReasoningDelta(reasoning)
                            if delta.content:
                                for piece in splitter.feed(delta.content):
                                    yield piece
                            for call_piece in tool_call_deltas(delta):
                                yield call_piece
                        if choice.finish_reason:
                            finish = choice.finish_reason
                if chunks == 0 and "text/event-stream" not in content_type:
                    # Not SSE after all (a proxy's plain-text page): say so rather than
                    # leaving an empty reply marked cut.
                    raise UnexpectedResponse(content_type, "")
                if isinstance(usage, Mapping):
                    ending.append(UsageReport(usage_from_mapping(usage), served_model))
                elif usage is not None:
                    ending.append(UsageReport(usage_from(usage), served_model))
                ending.append(Finished(finish or "cut", served_model))
            except asyncio.CancelledError:
                raise
            except ChatError as error:
                ending = [StreamFailed(error)]
            except Exception as exc:  # every failure becomes a StreamFailed, never a crash
                ending = [
                    StreamFailed(self._describe(exc, model, during_stream=stream is not None))
                ]
            # However the stream ended: the few characters held back for a tag come first.
            for event in (*splitter.finish(), *ending):
                yield event
        finally:
            if stream is not None:
                # Also on cancellation: the server must see the client go away at once.
                # Closing an already broken connection may raise; the outcome is known by now.
                with contextlib.suppress(Exception):
                    await stream.close()

    async def _chat_messages(self, conversation: Conversation) -> list[ChatMessage]:
        """The request's messages; with images, built in a thread (reading and encoding 20 MB
        takes a while) and failing with one sentence when an image cannot be read."""
        system, history = conversation.system, conversation.messages
        if not any(a.kind == "image" for m in history for a in m.attachments):
            return build_chat_messages(system, history)
        load_image = self.load_image
        if load_image is None:
            raise ChatError(
                "attachment",
                "This tui-chat cannot send images: it was started without its image folder.",
            )
        try:
            return await asyncio.to_thread(build_chat_messages, system, history, load_image)
        except Exception as error:  # the loader's sentence (missing or changed image)
            raise ChatError("attachment", str(error)) from None

    async def _create(self, sdk: AsyncOpenAI, params: dict[str, Any]) -> Any:
        """Start the stream; if the server rejects `stream_options`, ask again without it
        (and remember: usage is then estimated)."""
        import openai

        if self._without_stream_options:
            params = {k: v for k, v in params.items() if k != "stream_options"}
        try:
            return await sdk.chat.completions.create(**params)
        except openai.APIStatusError as error:
            about_options = error.param == "stream_options" or "stream_options" in str(error)
            if error.status_code not in (400, 422) or not about_options:
                raise
            if "stream_options" not in params:
                raise
        self._without_stream_options = True
        params = {k: v for k, v in params.items() if k != "stream_options"}
        return await sdk.chat.completions.create(**params)

    async def _whole_response(self, response: Any, model: str) -> AsyncIterator[StreamEvent]:
        """A 200 that is not an event stream: a whole JSON completion (some servers ignore
        `stream`), a JSON error, or something else entirely (a captive portal's page)."""
        import openai

        content_type = response.headers.get("content-type", "")
        raw = await response.aread()
        text = raw[:2000].decode("utf-8", errors="replace")
        if "json" not in content_type:
            raise UnexpectedResponse(content_type, text)
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise UnexpectedResponse(content_type, text) from error
        if not isinstance(body, dict):
            raise UnexpectedResponse(content_type, text)
        if isinstance(body.get("error"), dict):
            details = body["error"]
            message = details.get("message") if isinstance(details.get("message"), str) else text
            raise openai.APIError(message, response.request, body=details)
        choices = body.get("choices") or []
        choice = choices[0] if choices and isinstance(choices[0], dict) else {}
        message = choice.get("message") or {}
        reasoning = reasoning_text(message)
        if reasoning:
            yield ReasoningDelta(reasoning)
        content = message.get("content")
        if isinstance(content, str) and content:
            splitter = ThinkTagSplitter()
            for piece in (*splitter.feed(content), *splitter.finish()):
                yield piece
        for call_piece in tool_call_deltas(message):
            yield call_piece
        served_model = body.get("model") if isinstance(body.get("model"), str) else None
        if isinstance(body.get("usage"), dict):
            yield UsageReport(usage_from_mapping(body["usage"]), served_model)
        yield Finished(choice.get("finish_reason") or "cut", served_model)

    # --- models --------------------------------------------------------------------------

    async def list_models(self) -> list[str]:
        """The profile's configured models, then those the server lists (asked once and
        cached; when the server cannot say, the configured ones, and `models_error` says why).
        """
        if self._models is None and not self._models_recently_failed():
            try:
                sdk = await self._client()
                listing = sdk.with_options(timeout=self.models_timeout, max_retries=0)
                page = await listing.models.list()
                self._models = sorted({item.id for item in page.data if item.id})
                self.models_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failed listing only limits the choice
                self._note_models_failure(
                    describe_models_error(
                        exc,
                        base_url=self.base_url,
                        api_key=self._api_key,
                        timeout=self.models_timeout,
                    )
                )
        configured = [m for m in (self.profile.default_model, *self.profile.models) if m]
        merged: list[str] = []
        for name in (*configured, *(self._models or ())):
            if name not in merged:
                merged.append(name)
        return merged

    def _models_recently_failed(self) -> bool:
        return (
            self._models_failed_at is not None
            and time.monotonic() - self._models_failed_at < MODELS_RETRY_AFTER
        )

    def _note_models_failure(self, error: ChatError) -> None:
        self.models_error = error
        self._models_failed_at = time.monotonic()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

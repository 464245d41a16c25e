"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, pty runs and benchmarks.

It speaks the Chat Completions wire protocol as OpenAI does: Server-Sent Events over chunked
HTTP/1.1 (`data: {chat.completion.chunk}\\n\\n`), a role chunk, content deltas, a finish chunk, a
final usage chunk with empty `choices` when `stream_options.include_usage` is asked, then
`data: [DONE]`; JSON errors `{"error": {"message", "type", "code", "param"}}` with their status
and Retry-After; `GET /v1/models`. Usage is counted with tiktoken by OpenAI's chat recipe,
written out here independently of the engine's counter so tests can compare the two.

Tests queue `Script`s describing what the next request gets (errors, cut or stalled streams,
odd shapes, tool calls). With nothing queued, the reply is "You said: <last user message>" (or a
long generated Markdown reply when `reply_tokens` is set), so the app works end to end. When
the request offers `tools`, a user message with lines `call NAME {json arguments}` gets those
tool calls streamed back (finish_reason "tool_calls"), and once the results come back as `tool`
messages the reply is "Tools said: <their contents>". Messages sent as content parts (files
and images) are recorded decoded in `RecordedRequest.parts`; their text parts are echoed, and
an image part that is not a valid data URL of its type gets a 400.

Standalone: python tests/openai_server.py --port 8765 [--tokens-per-second 50]
[--reply-tokens 2000]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import re
import select
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make the repository importable for the offline encoding loader.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_chat.engine.encodings import load_encoding

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "o3-mini", "llama3.1:8b")
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")

_encodings: dict[str, Any] = {}
_encodings_lock = threading.Lock()


def encoding_for(model: str) -> Any:
    """The tiktoken encoding the server counts `model` with (o200k_base for unknown models)."""
    from tiktoken.model import encoding_name_for_model

    try:
        name = encoding_name_for_model(model.rsplit("/", 1)[-1])
    except KeyError:
        name = "o200k_base"
    if name not in ("o200k_base", "cl100k_base"):
        name = "o200k_base"
    with _encodings_lock:
        if name not in _encodings:
            _encodings[name] = load_encoding(name)
        return _encodings[name]


# What an image part costs here: OpenAI's low-detail base. The server does not size images
# (the tile rule is the engine's to get right, checked against OpenAI's figures in its tests).
IMAGE_PART_TOKENS = 85


def prompt_tokens_of(model: str, messages: list[dict[str, Any]]) -> int:
    """OpenAI's published recipe: 3 per message, every value's tokens, 1 per name, 3 priming;
    content parts: each text part's tokens, IMAGE_PART_TOKENS per image."""
    encoding = encoding_for(model)
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            if isinstance(value, str):
                total += len(encoding.encode_ordinary(value))
            elif key == "content" and isinstance(value, list):
                for part in value:
                    if part.get("type") == "text":
                        total += len(encoding.encode_ordinary(str(part.get("text"))))
                    else:
                        total += IMAGE_PART_TOKENS
            if key == "name":
                total += 1
    return total


def text_of(content: Any) -> str:
    """A message's text: the string, or its text parts joined by newlines."""
    if isinstance(content, list):
        return "\n".join(str(p.get("text")) for p in content if p.get("type") == "text")
    return str(content or "")


# The magic bytes of the image types OpenAI takes, to check an image part holds what it says.
_IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
_DATA_URL = re.compile(r"^data:(?P<type>[\w/+.-]+);base64,(?P<data>.*)$", re.S)


@dataclass
class ReceivedPart:
    """One content part of a request's message, as the server understood it: a text part's
    text, or an image part's media type and decoded bytes (`problem` says what was wrong)."""

    role: str
    type: str
    text: str | None = None
    media_type: str | None = None
    data: bytes | None = None
    problem: str | None = None


def received_parts(messages: list[dict[str, Any]]) -> list[ReceivedPart]:
    """Every content part of `messages`, image data URLs decoded and checked."""
    parts = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        role = str(message.get("role"))
        for part in content:
            kind = str(part.get("type"))
            if kind == "text":
                parts.append(ReceivedPart(role, kind, text=str(part.get("text"))))
            elif kind == "image_url":
                parts.append(_image_part(role, (part.get("image_url") or {}).get("url", "")))
            else:
                parts.append(ReceivedPart(role, kind, problem=f"unknown part type {kind!r}"))
    return parts


def _image_part(role: str, url: str) -> ReceivedPart:
    match = _DATA_URL.match(url)
    if match is None:
        return ReceivedPart(role, "image_url", problem="not a base64 data URL")
    media_type = match.group("type")
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except binascii.Error:
        return ReceivedPart(
            role, "image_url", media_type=media_type, problem="base64 does not decode"
        )
    if not data.startswith(_IMAGE_MAGIC.get(media_type, (b"\x00never",))):
        problem = f"the bytes are not {media_type}"
        return ReceivedPart(role, "image_url", media_type=media_type, data=data, problem=problem)
    return ReceivedPart(role, "image_url", media_type=media_type, data=data)


def is_reasoning_model(model: str) -> bool:
    """Models that reject max_tokens and sampling parameters, as OpenAI's API does."""
    name = model.rsplit("/", 1)[-1]
    if name.startswith("gpt-5") and "chat" in name:
        return False
    return name.startswith(REASONING_PREFIXES)


# How servers send a model's thinking. "reasoning_content": DeepSeek, vLLM and llama.cpp, in
# deltas whose content is null; "reasoning": OpenRouter and Ollama, in deltas whose content is
# ""; "think": a plain server passing the model's own `<think>…</think>` block on in the content
# (Qwen, DeepSeek-R1 without a reasoning parser), counted as ordinary completion tokens.
REASONING_FORMS = ("reasoning_content", "reasoning", "think")


@dataclass
class Script:
    """What the server does with the next chat request. Defaults: a normal streamed reply."""

    text: str | None = None  # None: the default reply ("You said: ...")
    chunk_chars: int | None = 4  # characters per delta; None: one delta per token
    delay_per_chunk: float = 0.0
    finish_reason: str = "stop"
    include_usage: bool | None = None  # None: as the request's stream_options ask
    role_chunk: bool = True
    model: str | None = None  # the model name in the reply (default: the requested one)
    # An HTTP error: status with a JSON error body, or `raw_body` as it is.
    status: int = 200
    error_message: str = "Something went wrong."
    error_type: str | None = "invalid_request_error"
    error_code: str | int | None = None
    error_param: str | None = None
    error_extra: dict[str, Any] = field(default_factory=dict)  # more fields in the error object
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # sent instead of a stream or JSON error (HTML page, plain text)
    content_type: str | None = None
    # Stream shapes.
    cut_after_chunks: int | None = None  # drop the connection after this many content chunks
    stall_after_chunks: int | None = None  # stop sending (keep the connection open)
    end_without_finish: bool = False  # end the body cleanly with no finish chunk nor [DONE]
    malformed_after_chunks: int | None = None  # send a line that is not JSON
    error_after_chunks: int | None = None  # send `data: {"error": ...}` mid-stream
    empty_choices_chunks: bool = False  # a keep-alive chunk with `choices: []` before each delta
    null_content_chunks: bool = False  # a delta with `content: null` before each delta
    comment_lines: bool = False  # SSE comments (": PROCESSING") as OpenRouter sends
    # Thinking streamed before the answer, the way `reasoning_as` says (see REASONING_FORMS).
    reasoning: str | None = None
    reasoning_as: str = "reasoning_content"
    json_reply: bool = False  # answer a stream request with one JSON completion anyway
    delay_before_response: float = 0.0  # think before sending any byte (for timeouts)
    usage_in_x_groq: bool = False  # usage on the finish chunk under x_groq, as Groq sends it
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    # Tool calls to stream after the text, as (name, arguments JSON text): the id and name come
    # in each call's first delta, the arguments in pieces of `chunk_chars`, as OpenAI sends them.
    tool_calls: list[tuple[str, str]] | None = None


_CALL_LINE = re.compile(r"^call (\S+) (\{.*\})\s*$", re.MULTILINE)


def tool_calls_asked(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The calls a user asks for with `call NAME {json}` lines, when the request offers tools
    and the last message is the user's (after tool results, the model answers in text)."""
    messages = body.get("messages") or []
    if not body.get("tools") or not messages or messages[-1].get("role") != "user":
        return []
    return [
        (m.group(1), m.group(2)) for m in _CALL_LINE.finditer(text_of(messages[-1].get("content")))
    ]


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    disconnected: bool = False  # the client went away before the reply was complete
    # The content parts of its messages (files and images sent as parts), decoded.
    parts: list[ReceivedPart] = field(default_factory=list)


class ClientGone(Exception):
    """The client closed the connection mid-reply."""


class FakeOpenAIServer:
    """An OpenAI-compatible server in a background thread (it keeps serving while the test's
    event loop runs a Textual app)."""

    def __init__(
        self,
        *,
        port: int = 0,
        models: tuple[str, ...] = DEFAULT_MODELS,
        tokens_per_second: float | None = None,
        reply_tokens: int | None = None,
        thinking_tokens: int | None = None,
        reasoning_as: str = "reasoning_content",
        required_key: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.port = port
        self.tls = tls  # serve HTTPS with this context (for certificate errors)
        self.models: list[str] = list(models)
        self.models_status: int = 200  # set to an error status to make /v1/models fail
        # Cleared: /v1/models answers only once it is set again (a slow server, without a
        # race between a fixed delay and the test's checks). See hold_models().
        self.models_answer = threading.Event()
        self.models_answer.set()
        self.strict_models = False  # True: a model not in `models` gets a 404 model_not_found
        self.reject_stream_options = False  # True: a strict server that predates stream_options
        self.refuse_images = False  # True: a text-only model, as OpenAI answers for one
        # A model's context window: a request whose prompt plus max_tokens exceed it gets a 400
        # context_length_exceeded, saying by how much as OpenAI does, or not, as some servers.
        self.context_window: int | None = None
        self.context_error_figures = True
        self.tokens_per_second = tokens_per_second
        self.reply_tokens = reply_tokens
        # Default replies think this many tokens first, sent as `reasoning_as` says.
        self.thinking_tokens = thinking_tokens
        self.reasoning_as = reasoning_as
        self.required_key = required_key
        self.requests: list[RecordedRequest] = []
        self.disconnected = threading.Event()
        self.stopping = threading.Event()
        self._scripts: deque[Script] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL clients use, with /v1 as the SDK expects."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The chat completion requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAIServer:
        """Bind and serve in a daemon thread; returns self."""
        self.stopping.clear()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        # A short poll interval makes stop() quick (tests start and stop a server each).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled replies are abandoned."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Forget queued scripts and recorded requests."""
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
        self.disconnected.clear()

    def enqueue(self, *scripts: Script) -> None:
        """Queue behaviours for the next chat requests, one request each."""
        with self._lock:
            self._scripts.extend(scripts)

    def next_script(self) -> Script:
        with self._lock:
            return self._scripts.popleft() if self._scripts else Script(chunk_chars=None)

    @property
    def pending_scripts(self) -> int:
        with self._lock:
            return len(self._scripts)

    def hold_models(self) -> None:
        """Make /v1/models wait (a slow or busy server) until `release_models()`."""
        self.models_answer.clear()

    def release_models(self) -> None:
        """Let /v1/models requests held by `hold_models()` answer."""
        self.models_answer.set()

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        """Block until a client dropped a reply mid-way (True), or `timeout` passed."""
        return self.disconnected.wait(timeout)

    def default_reply(self, messages: list[dict[str, Any]], model: str) -> str:
        if self.reply_tokens:
            return long_markdown_reply(self.reply_tokens, encoding_for(model))
        if messages and messages[-1].get("role") == "tool":
            results = []
            for message in reversed(messages):
                if message.get("role") != "tool":
                    break
                results.insert(0, str(message.get("content")))
            return "Tools said: " + " | ".join(results)
        last_user = next(
            (m.get("content") for m in reversed(messages) if m.get("role") == "user"), ""
        )
        return f"You said: {text_of(last_user)}"

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"  # chunked bodies, so a dropped connection is detectable

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def handle(self) -> None:
        # The client may hang up between requests: nothing to answer then.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()

    # --- plumbing -------------------------------------------------------------------------

    def _record(self, body: Any) -> RecordedRequest:
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            json=body,
        )
        with self.fake._lock:
            self.fake.requests.append(request)
        return request

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error_json(
        self,
        status: int,
        message: str,
        *,
        type_: str | None = "invalid_request_error",
        code: str | int | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        error = {"message": message, "type": type_, "code": code, "param": param}
        error.update(extra or {})
        self._send_json(status, {"error": error}, headers)

    def _write_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as error:
            raise ClientGone from error

    def _event(self, payload: Any) -> None:
        self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _client_closed(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _pause(self, seconds: float) -> None:
        """Sleep, but notice at once when the client hangs up (raises ClientGone)."""
        deadline = time.monotonic() + seconds
        while True:
            if self._client_closed():
                raise ClientGone
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.fake.stopping.is_set():
                return
            time.sleep(min(remaining, 0.01))

    # --- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") == "/v1/models":
            with contextlib.suppress(ClientGone):  # the client gave up waiting: nothing to send
                self._models()
            return
        self._send_error_json(404, f"Unknown path {self.path}", code="not_found")

    def _models(self) -> None:
        fake = self.fake
        while not fake.models_answer.is_set() and not fake.stopping.is_set():
            self._pause(0.02)
        if self._refused_key():
            return
        if fake.models_status != 200:
            self._send_error_json(
                fake.models_status, "Models are unavailable.", type_="server_error"
            )
            return
        data = [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
            for m in fake.models
        ]
        self._send_json(200, {"object": "list", "data": data})

    def _refused_key(self) -> bool:
        """Answer 401 (True) when `required_key` is set and the request did not carry it."""
        if self.fake.required_key is None:
            return False
        sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if sent == self.fake.required_key:
            return False
        # Some servers echo the key they got; the client must not show it.
        self._send_error_json(401, f"Incorrect API key provided: {sent}.", code="invalid_api_key")
        return True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            self._record(None)
            self._send_error_json(400, "We could not parse the JSON body of your request.")
            return
        request = self._record(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error_json(404, f"Unknown path {self.path}", code="not_found")
            return
        try:
            self._chat(body, request)
        except ClientGone:
            request.disconnected = True
            self.fake.disconnected.set()
            self.close_connection = True

    def _chat(self, body: dict[str, Any], request: RecordedRequest) -> None:
        fake = self.fake
        if self._refused_key():
            return
        if fake.reject_stream_options and "stream_options" in body:
            self._send_error_json(
                400,
                "Unrecognized request argument supplied: stream_options",
                param="stream_options",
            )
            return
        script = fake.next_script()
        if script.delay_before_response:
            self._pause(script.delay_before_response)
        if script.raw_body is not None:
            data = script.raw_body.encode()
            self.send_response(script.status)
            self.send_header("Content-Type", script.content_type or "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for name, value in script.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            return
        headers = dict(script.headers)
        if script.retry_after is not None:
            headers["Retry-After"] = script.retry_after
        if script.status != 200:
            self._send_error_json(
                script.status,
                script.error_message,
                type_=script.error_type,
                code=script.error_code,
                param=script.error_param,
                headers=headers,
                extra=script.error_extra,
            )
            return
        model = str(body.get("model") or "")
        messages = body.get("messages") or []
        if not model or not isinstance(messages, list):
            self._send_error_json(
                400, "model and messages are required.", code="missing_required_parameter"
            )
            return
        if fake.strict_models and model not in fake.models:
            self._send_error_json(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
            return
        if self._reject_reasoning_params(model, body):
            return
        request.parts = received_parts(messages)
        if self._reject_images(request.parts):
            return
        if self._reject_over_context_window(model, messages, body):
            return

        encoding = encoding_for(model)
        tool_calls = script.tool_calls if script.tool_calls is not None else tool_calls_asked(body)
        if tool_calls:
            text = script.text or ""
        else:
            text = script.text if script.text is not None else fake.default_reply(messages, model)
        reasoning, reasoning_as = script.reasoning, script.reasoning_as
        if reasoning is None and script.text is None and fake.thinking_tokens:
            reasoning = long_thought(fake.thinking_tokens, encoding)
            reasoning_as = fake.reasoning_as
        reasoning_tokens = script.reasoning_tokens
        if reasoning and reasoning_as == "think":
            # The server knows nothing of the tags: the block is part of the content.
            text = f"<think>\n{reasoning}\n</think>\n\n{text}"
            reasoning = None
        elif reasoning and not reasoning_tokens:
            reasoning_tokens = len(encoding.encode_ordinary(reasoning))
        finish_reason = "tool_calls" if tool_calls else script.finish_reason
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        tokens = encoding.encode_ordinary(text)
        if isinstance(limit, int) and len(tokens) > limit:
            tokens = tokens[:limit]
            text = encoding.decode(tokens)
            finish_reason = "length"
        call_tokens = sum(len(encoding.encode_ordinary(name + args)) for name, args in tool_calls)
        usage = {
            "prompt_tokens": prompt_tokens_of(model, messages),
            "completion_tokens": len(tokens) + call_tokens + reasoning_tokens,
            "prompt_tokens_details": {"cached_tokens": script.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        reply_model = script.model or model
        if not body.get("stream") or script.json_reply:
            self._send_json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": reply_model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": text,
                                "refusal": None,
                                **({reasoning_as: reasoning} if reasoning else {}),
                            },
                            "logprobs": None,
                            "finish_reason": finish_reason,
                        }
                    ],
                    "usage": usage,
                },
            )
            return
        include_usage = script.include_usage
        if include_usage is None:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        delay = script.delay_per_chunk
        if fake.tokens_per_second and delay == 0:
            delay = 1.0 / fake.tokens_per_second
        self._stream(
            script,
            _pieces(text, script.chunk_chars, encoding),
            reply_model,
            finish_reason,
            usage if include_usage or script.usage_in_x_groq else None,
            delay,
            thought=(reasoning_as, _pieces(reasoning, script.chunk_chars, encoding))
            if reasoning
            else None,
            tool_calls=tool_calls,
        )

    def _reject_over_context_window(
        self, model: str, messages: list[dict[str, Any]], body: dict[str, Any]
    ) -> bool:
        """Answer like OpenAI when the prompt and the room asked for the reply exceed the window."""
        window = self.fake.context_window
        if window is None:
            return False
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        used = prompt_tokens_of(model, messages) + limit
        if used <= window:
            return False
        if self.fake.context_error_figures:
            message = (
                f"This model's maximum context length is {window} tokens. However, your "
                f"messages resulted in {used} tokens. Please reduce the length of the messages."
            )
        else:
            message = "Input is too long for this model."
        self._send_error_json(400, message, code="context_length_exceeded", param="messages")
        return True

    def _reject_images(self, parts: list[ReceivedPart]) -> bool:
        """Answer like OpenAI for image parts a text-only model gets, or that are not images."""
        images = [part for part in parts if part.type == "image_url"]
        if images and self.fake.refuse_images:
            self._send_error_json(
                400,
                "Invalid content type. image_url is only supported by certain models.",
                code="invalid_value",
                param="messages.[0].content.[1].type",
            )
            return True
        broken = [part.problem for part in parts if part.problem]
        if broken:
            self._send_error_json(
                400, f"Invalid content part: {broken[0]}.", code="invalid_image_format"
            )
            return True
        return False

    def _reject_reasoning_params(self, model: str, body: dict[str, Any]) -> bool:
        """Answer like OpenAI when a reasoning model gets parameters it does not accept."""
        if not is_reasoning_model(model):
            return False
        if "max_tokens" in body:
            self._send_error_json(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.",
                code="unsupported_parameter",
                param="max_tokens",
            )
            return True
        for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
            if name in body and body[name] != 1:
                self._send_error_json(
                    400,
                    f"Unsupported value: '{name}' does not support {body[name]} with this model."
                    " Only the default (1) value is supported.",
                    code="unsupported_value",
                    param=name,
                )
                return True
        return False

    def _stream(
        self,
        script: Script,
        pieces: list[str],
        model: str,
        finish_reason: str,
        usage: dict[str, Any] | None,
        delay: float,
        thought: tuple[str, list[str]] | None = None,
        tool_calls: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            payload: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if usage is not None:
                payload["usage"] = None
            return payload

        if script.comment_lines:
            self._write_chunk(b": PROCESSING\n\n")
        if script.role_chunk:
            self._event(chunk({"role": "assistant", "content": "", "refusal": None}))
        # DeepSeek marks the other field null in every delta; OpenRouter and Ollama send "".
        answer_extra: dict[str, Any] = {}
        if thought is not None:
            field_name, thought_pieces = thought
            empty = None if field_name == "reasoning_content" else ""
            answer_extra = {field_name: None} if field_name == "reasoning_content" else {}
            for piece in thought_pieces:
                if delay:
                    self._pause(delay)
                self._event(chunk({"content": empty, field_name: piece}))
        for index, piece in enumerate(pieces):
            if index == script.cut_after_chunks:
                self._cut()
                return
            if index == script.stall_after_chunks:
                while not self.fake.stopping.is_set():
                    self._pause(0.05)
                return
            if index == script.malformed_after_chunks:
                self._write_chunk(b"data: {this is not json\n\n")
            if index == script.error_after_chunks:
                self._event(
                    {
                        "error": {
                            "message": script.error_message,
                            "type": script.error_type,
                            "code": script.error_code,
                            "param": None,
                        }
                    }
                )
                self._write_chunk(b"")
                return
            if delay:
                self._pause(delay)
            if script.empty_choices_chunks:
                self._event({**chunk({}), "choices": []})
            if script.null_content_chunks:
                self._event(chunk({"content": None}))
            if script.comment_lines:
                self._write_chunk(b": PROCESSING\n\n")
            self._event(chunk({"content": piece, **answer_extra}))
        size = max(script.chunk_chars or 4, 1)
        for index, (name, arguments) in enumerate(tool_calls):
            first = {"index": index, "id": f"call_{index}_{name}", "type": "function"}
            first["function"] = {"name": name, "arguments": ""}
            self._event(chunk({"tool_calls": [first]}))
            for start in range(0, len(arguments), size):
                if delay:
                    self._pause(delay)
                piece = {"index": index, "function": {"arguments": arguments[start : start + size]}}
                self._event(chunk({"tool_calls": [piece]}))
        if script.cut_after_chunks is not None and script.cut_after_chunks >= len(pieces):
            self._cut()
            return
        if script.end_without_finish:
            self._write_chunk(b"")
            return
        if script.usage_in_x_groq:
            self._event({**chunk({}, finish_reason), "x_groq": {"id": "req_1", "usage": usage}})
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")
            return
        self._event(chunk({}, finish_reason))
        if usage is not None:
            self._event({**chunk({}), "choices": [], "usage": usage})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")  # the terminating zero-length chunk

    def _cut(self) -> None:
        """Drop the connection without the terminating chunk, as a dying proxy does."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _pieces(text: str, chunk_chars: int | None, encoding: Any) -> list[str]:
    """`text` cut into deltas: `chunk_chars` characters each, or one token each (None)."""
    if chunk_chars is None:
        pieces = [encoding.decode([token]) for token in encoding.encode_ordinary(text)]
        # A token can end inside a multi-byte character: keep whole characters together.
        return _merge_broken_characters(pieces, text)
    size = max(chunk_chars, 1)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _merge_broken_characters(pieces: list[str], text: str) -> list[str]:
    if "".join(pieces) == text:
        return pieces
    # Some token ends mid-character (decode gave U+FFFD): fall back to 4-character deltas.
    return [text[i : i + 4] for i in range(0, len(text), 4)]


_LANGUAGES = ("python", "rust", "bash", "json")
_CODE = {
    "python": 'def greet(name: str) -> str:\n    """Say hello."""\n    return f"Hello, {name}!"\n\n'
    "for i in range(3):\n    print(greet(str(i)))",
    "rust": 'fn main() {\n    let xs: Vec<u32> = (1..=5).collect();\n    println!("{:?}", xs);\n}',
    "bash": 'set -euo pipefail\nfor f in *.toml; do\n  grep -n model "$f"\ndone',
    "json": '{\n  "model": "gpt-4o-mini",\n  "stream": true,\n  "messages": []\n}',
}


def long_markdown_reply(target_tokens: int, encoding: Any) -> str:
    """A deterministic Markdown reply of about `target_tokens` tokens: headings, paragraphs,
    lists, tables, block quotes and fenced code, as real replies mix them."""
    sections: list[str] = []
    total = 0
    index = 0
    while total < target_tokens:
        n = index + 1
        language = _LANGUAGES[index % len(_LANGUAGES)]
        part = (
            f"## Part {n}: streaming and **rendering**\n\n"
            f"Paragraph {n} explains how a reply arrives in small deltas over *Server-Sent "
            f"Events*, why `re-rendering` the whole text on each delta grows with the square of "
            f"its length, and what a terminal over SSH can afford at 80x24.\n\n"
            f"- first point about item {n}\n- second point with `inline code`\n"
            f"  - a nested point\n- third point, [a link](https://example.com/{n})\n\n"
            f"1. step one\n2. step two\n3. step three\n\n"
            f"| model | tokens | cost |\n|---|---:|---:|\n| gpt-4o-mini | {n * 120} | "
            f"$0.{n:04d} |\n| llama3.1:8b | {n * 97} | ? |\n\n"
            f"> A quoted remark number {n}.\n\n"
            f"```{language}\n{_CODE[language]}\n```\n\n"
        )
        sections.append(part)
        total += len(encoding.encode_ordinary(part))
        index += 1
    text = "".join(sections)
    tokens = encoding.encode_ordinary(text)
    return encoding.decode(tokens[:target_tokens]) if len(tokens) > target_tokens else text


_THOUGHTS = (
    "The user asks about item {n}. Let me check what they mean before answering.",
    "Wait, the figure for part {n} depends on the step before it, so I should recompute it.",
    "Option {n} looks simpler, but it fails when the input is empty; keep the other one.",
    "So far: {n} cases considered. The answer should be short and state the trade-off.",
)


def long_thought(target_tokens: int, encoding: Any) -> str:
    """A deterministic chain of thought of about `target_tokens` tokens, in plain paragraphs
    as reasoning models write it."""
    lines: list[str] = []
    total = 0
    n = 0
    while total < target_tokens:
        line = _THOUGHTS[n % len(_THOUGHTS)].format(n=n + 1)
        lines.append(line + ("\n\n" if n % 3 == 2 else " "))
        total += len(encoding.encode_ordinary(lines[-1]))
        n += 1
    tokens = encoding.encode_ordinary("".join(lines).strip())
    return encoding.decode(tokens[:target_tokens])


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible server for tui-chat.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=None,
        help="stream the reply at this rate (default: as fast as possible)",
    )
    parser.add_argument(
        "--reply-tokens",
        type=int,
        default=None,
        help="reply with a generated Markdown text of this many tokens",
    )
    parser.add_argument(
        "--thinking-tokens",
        type=int,
        default=None,
        help="think this many tokens before each default reply",
    )
    parser.add_argument(
        "--reasoning-as",
        choices=REASONING_FORMS,
        default="reasoning_content",
        help="how the thinking is sent: the reasoning_content field (DeepSeek, vLLM, llama.cpp),"
        " the reasoning field (OpenRouter, Ollama) or a <think> block in the content",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="a model to offer (repeatable; default: a few common names)",
    )
    parser.add_argument(
        "--refuse-images",
        action="store_true",
        help="answer requests with images as OpenAI does for a text-only model (400)",
    )
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(
        port=args.port,
        models=tuple(args.model) if args.model else DEFAULT_MODELS,
        tokens_per_second=args.tokens_per_second,
        reply_tokens=args.reply_tokens,
        thinking_tokens=args.thinking_tokens,
        reasoning_as=args.reasoning_as,
    )
    server.refuse_images = args.refuse_images
    # Load both encodings now, so the first reply is not late by half a second.
    encoding_for("gpt-4o")
    encoding_for("gpt-4")
    server.start()
    print(f"fake OpenAI server on {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Token counts with tiktoken, loaded offline, cached per message and incremental while streaming.

Counts follow OpenAI's chat recipe (3 tokens per message, 1 per `name`, 3 to prime the reply), so
the estimate for the next request equals the `usage.prompt_tokens` the API reports for gpt-4o,
gpt-4.1, gpt-4 and gpt-3.5. For models tiktoken does not know (llama, mistral, qwen...) the text
is counted with `o200k_base` and marked approximate: open models' tokenisers and chat templates
differ, typically by 5-20%.

The encodings are built offline (see encodings.py).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Message
from tui_chat.engine.attachment_parts import framed_text
from tui_chat.engine.encodings import (
    ENCODING_NAMES,
    EncodingLoadError,
    encoding_for_model,
    encoding_name_for,
    load_encoding,
)
from tui_chat.engine.image_tokens import image_tokens
from tui_chat.engine.prompt import build_chat_messages, is_sent

if TYPE_CHECKING:
    import tiktoken

# OpenAI's published recipe for counting chat messages (gpt-3.5-turbo-0613 onwards, gpt-4*).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3

# Before the encodings are loaded, a rough rule of thumb for English text.
CHARS_PER_TOKEN_ESTIMATE = 4

_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class TokenCount:
    """A number of tokens, and whether it is only an estimate (shown with a `~`)."""

    tokens: int
    approximate: bool


@dataclass(frozen=True)
class DraftCount(TokenCount):
    """A draft's count: `tokens` is what sending it adds to the request (its text and a
    message's overhead), `text_tokens` the text alone, which is what the user typed."""

    text_tokens: int = 0


def estimate_tokens(text: str) -> int:
    """A rough count for when no encoding is loaded (about four characters a token)."""
    return estimate_tokens_of_length(len(text))


def estimate_tokens_of_length(chars: int) -> int:
    """The rough count of a text of `chars` characters (see estimate_tokens)."""
    return (chars + CHARS_PER_TOKEN_ESTIMATE - 1) // CHARS_PER_TOKEN_ESTIMATE


class TokenCounter:
    """Counts tokens for any model; one instance is shared by the whole app.

    Create it cheaply, call `load()` off the UI thread, and count at any time: until the
    encodings are ready every count is a characters/4 estimate marked approximate.
    """

    def __init__(self) -> None:
        self._encodings: dict[str, tiktoken.Encoding] = {}
        self._cache: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        # Why an encoding could not be loaded (counts stay estimates); the UI says it once.
        self.load_error: str | None = None

    def load(self) -> bool:
        """Load o200k_base and cl100k_base (blocking, about 0.5 s). True when both are ready.

        Never raises for missing data: the reason is kept in `load_error` and counts stay
        approximate.
        """
        return self._load(ENCODING_NAMES)

    def load_for(self, model: str) -> bool:
        """Load just the encoding `model` is counted with (half the time of `load`), so the open
        conversation's count is exact sooner. True when it is ready."""
        name = encoding_name_for(model)
        self._load((name,))
        return name in self._encodings

    def _load(self, names: tuple[str, ...]) -> bool:
        loaded: dict[str, tiktoken.Encoding] = {}
        for name in names:
            if name in self._encodings:
                continue
            try:
                loaded[name] = load_encoding(name)
            except EncodingLoadError as error:
                self.load_error = str(error)
        with self._lock:
            self._encodings.update(loaded)
        return self.ready

    @property
    def ready(self) -> bool:
        """True once the encodings are loaded and counts are exact for known models."""
        return all(name in self._encodings for name in ENCODING_NAMES)

    def encoding_name_for(self, model: str) -> str:
        """The encoding `model` is counted with (o200k_base for models tiktoken does not know)."""
        return encoding_name_for(model)

    def encoding(self, model: str) -> tuple[tiktoken.Encoding | None, bool]:
        """The loaded encoding for `model` (None until loaded) and whether counts are guesses."""
        name, guessed = encoding_for_model(model)
        encoding = self._encodings.get(name)
        return encoding, guessed or encoding is None

    def _count_cached(self, encoding: tiktoken.Encoding, text: str) -> int:
        # Python caches a str's hash, so looking up a long message already counted is O(1).
        key = (encoding.name, text)
        found = self._cache.get(key)
        if found is not None:
            return found
        count = _count_in_pieces(encoding, text)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = count
        return count

    def count_text(self, model: str, text: str) -> TokenCount:
        """Tokens in `text` for `model`. Special-token strings count as ordinary text."""
        encoding, approximate = self.encoding(model)
        if encoding is None:
            return TokenCount(estimate_tokens(text), True)
        return TokenCount(self._count_cached(encoding, text), approximate)

    def attachment_tokens(self, attachment: Attachment, model: str) -> TokenCount:
        """Prompt tokens `attachment` adds to a request to `model`: a text file's framed words
        (as `framed_text` sends them; counted once per content, name and encoding, through the
        same cache as `count_messages`), an image by OpenAI's tile rule (`image_tokens`)."""
        if attachment.kind == "image":
            tokens, guessed = image_tokens(attachment.width or 0, attachment.height or 0, model)
            return TokenCount(tokens, guessed)
        return self.count_text(model, framed_text(attachment))

    def count_messages(
        self,
        model: str,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> TokenCount:
        """Prompt tokens of a request sending `system`, `messages` and the definitions of
        `tools` to `model`.

        Counts exactly the messages `ChatClient` sends (the same filtering) with OpenAI's
        recipe. Each message's count is cached, so recounting a long conversation is cheap.
        """
        chat = build_chat_messages(system, messages)
        encoding, approximate = self.encoding(model)
        count: Callable[[str], int]
        if encoding is None:
            count = estimate_tokens
        else:
            bound = encoding

            def count(text: str) -> int:
                return self._count_cached(bound, text)

        total = REPLY_PRIMING_TOKENS
        for message in chat:
            total += TOKENS_PER_MESSAGE
            for key, value in message.items():
                if isinstance(value, str):
                    total += count(value)
                elif key == "content" and isinstance(value, list):  # typed text and files
                    total += sum(count(part["text"]) for part in value if "text" in part)
                elif key == "tool_calls":  # what the model generated, sent back
                    for call in value:
                        total += count(call["function"]["name"])
                        total += count(call["function"]["arguments"])
                if key == "name":
                    total += TOKENS_PER_NAME
        # Images are left out of `chat` (their base64 is not what they cost): the tile rule.
        for sent in messages:
            if is_sent(sent):
                for attachment in sent.attachments:
                    if attachment.kind == "image":
                        image = self.attachment_tokens(attachment, model)
                        total += image.tokens
                        approximate = approximate or image.approximate
        if tools:
            # The API renders tool definitions its own way (unpublished): their JSON text is
            # a close estimate, until the server's usage replaces it.
            total += count(json.dumps(list(tools), ensure_ascii=False))
        return TokenCount(total, approximate)

    def count_draft(
        self, model: str, text: str, attachments: Sequence[Attachment] = ()
    ) -> DraftCount:
        """Tokens a draft adds to the next request: its text, its attachments and a message's
        overhead (the text alone in `text_tokens`)."""
        count = self.count_text(model, text)
        overhead = TOKENS_PER_MESSAGE + self.count_text(model, "user").tokens
        files = [self.attachment_tokens(attachment, model) for attachment in attachments]
        return DraftCount(
            count.tokens + overhead + sum(file.tokens for file in files),
            count.approximate or any(file.approximate for file in files),
            text_tokens=count.tokens,
        )

    def oldest_messages_to_drop(
        self, model: str, messages: Sequence[Message], over_by_tokens: int
    ) -> int:
        """How many of the oldest `messages` to leave out so the prompt shrinks by at least
        `over_by_tokens` (for "the conversation is N tokens over the context window").

        The last message (the question being asked) is always kept.
        """
        freed = 0
        for dropped, message in enumerate(messages[:-1], start=1):
            if is_sent(message):
                freed += TOKENS_PER_MESSAGE + self.count_text(model, message.role).tokens
                freed += self.count_text(model, message.content).tokens
                freed += sum(self.attachment_tokens(a, model).tokens for a in message.attachments)
            if freed >= over_by_tokens:
                return dropped
        return max(len(messages) - 1, 0)

    def streaming(self, model: str) -> StreamingTokenCount:
        """A counter for a reply that grows delta by delta."""
        encoding, approximate = self.encoding(model)
        return StreamingTokenCount(encoding, approximate=approximate)


class StreamingTokenCount:
    """The token count of a growing reply, without re-encoding the whole reply per delta.

    tiktoken first splits text into pieces with a regular expression and then encodes each
    piece on its own, so tokens never straddle a piece boundary, and a boundary a few pieces
    back from the end no longer moves as text is appended. The tokens before such a boundary
    are counted once; only the tail after it is re-encoded per delta. `finish()` recounts the
    full text once, so the final figure always equals `count_text`.
    """

    # Re-split the tail when it grows past this many characters; keep this many pieces open.
    _SETTLE_AFTER_CHARS = 256
    _OPEN_PIECES = 4

    def __init__(self, encoding: tiktoken.Encoding | None, *, approximate: bool) -> None:
        self._encoding = encoding
        self.approximate = approximate or encoding is None
        self._settled_tokens = 0
        self._settled_parts: list[str] = []
        self._tail = ""
        self._tail_tokens = 0
        self._estimated_chars = 0  # without an encoding: the length of the text fed
        self._pattern: Any = None
        if encoding is not None:
            self._pattern = _piece_pattern(encoding)

    @property
    def tokens(self) -> int:
        """Tokens in the text fed so far."""
        return self._settled_tokens + self._tail_tokens

    @property
    def text(self) -> str:
        """All text fed so far."""
        return "".join(self._settled_parts) + self._tail

    def feed(self, delta: str) -> int:
        """Add a delta; returns the new total."""
        if self._encoding is None:
            # Nothing to re-split: the text is kept in pieces and only its length summed (a
            # tail growing by `+=` would copy the whole reply for every delta).
            self._settled_parts.append(delta)
            self._estimated_chars += len(delta)
            self._tail_tokens = estimate_tokens_of_length(self._estimated_chars)
            return self.tokens
        self._tail += delta
        if len(self._tail) > self._SETTLE_AFTER_CHARS:
            self._settle()
        self._tail_tokens = len(self._encoding.encode_ordinary(self._tail))
        return self.tokens

    def _settle(self) -> None:
        assert self._encoding is not None
        starts = [match.start() for match in self._pattern.finditer(self._tail)]
        if len(starts) <= self._OPEN_PIECES:
            return
        cut = starts[-self._OPEN_PIECES]
        # Count the tokens before the cut as tiktoken splits them *in context*: encoding the
        # prefix alone could split its last piece differently ("  " at the very end is one
        # piece, before a word it is two).
        cut_bytes = len(self._tail[:cut].encode("utf-8"))
        offset = count = 0
        for token in self._encoding.encode_ordinary(self._tail):
            if offset >= cut_bytes:
                break
            offset += len(self._encoding.decode_single_token_bytes(token))
            count += 1
        if offset != cut_bytes:
            return  # the cut is inside a token: not a boundary tiktoken agrees with; wait
        self._settled_tokens += count
        self._settled_parts.append(self._tail[:cut])
        self._tail = self._tail[cut:]

    def finish(self) -> int:
        """Recount the whole text once (about 1 ms for 20 KB) and return the exact total."""
        if self._encoding is not None:
            text = self.text
            self._settled_parts = [text]
            self._settled_tokens = len(self._encoding.encode_ordinary(text))
            self._tail = ""
            self._tail_tokens = 0
        return self.tokens


# A newline before a letter is where tiktoken's split (cl100k_base, o200k_base) always ends one
# piece and starts the next: the line break is a whitespace piece of its own, and a word's
# piece may start with one character that is neither a letter nor a line break. Tokens never
# straddle a piece, so counting the text in parts cut there gives the same total.
_PIECE_BOUNDARY = re.compile(r"(?<=\n)(?=[^\W\d_])")
_PART_CHARS = 32_768


def _count_in_pieces(encoding: tiktoken.Encoding, text: str) -> int:
    """Tokens in `text`, encoded a part of about 32 KB at a time for a long text.

    One call on 1 MB holds the GIL while tiktoken hands back ~250,000 token ids, and the UI's
    event loop, typing meanwhile, waits that long; between parts a key gets its turn."""
    if len(text) <= 2 * _PART_CHARS:
        return len(encoding.encode_ordinary(text))
    count = start = 0
    while start < len(text):
        boundary = _PIECE_BOUNDARY.search(text, start + _PART_CHARS)
        end = boundary.start() if boundary is not None else len(text)
        count += len(encoding.encode_ordinary(text[start:end]))
        start = end
        time.sleep(0)  # let a waiting thread (the event loop) take the GIL
    return count


_PATTERNS: dict[str, Any] = {}


def _piece_pattern(encoding: tiktoken.Encoding) -> Any:
    # tiktoken depends on the `regex` package, which understands its \p{..} classes and
    # possessive quantifiers.
    import regex

    pattern = _PATTERNS.get(encoding.name)
    if pattern is None:
        pattern = _PATTERNS[encoding.name] = regex.compile(encoding._pat_str)
    return pattern

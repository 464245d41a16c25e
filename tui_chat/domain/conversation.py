"""Conversations and their messages.

These are plain dataclasses: the storage layer turns them into TOML files, the engine turns them
into API requests, and the UI shows them. None of those concerns leak in here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from tui_chat.domain.appendable_text import AppendableText
from tui_chat.domain.attachments import Attachment
from tui_chat.domain.tools import ToolCall

# A tool's result is no message of its own: it is kept on its call (see ToolCall.result).
Role = Literal["user", "assistant", "system"]

# "stop" and "length" come from the API; "interrupted" means the user stopped the reply or the
# process was ended mid-stream; "error" means the request failed (see Message.error); "cut" means
# the server closed the stream without a finish chunk; "tool_calls" means the reply asks for the
# tool calls it carries (their results are kept on the calls).
FinishReason = str

TITLE_MAX_CHARS = 60


def utc_now() -> datetime:
    """The current time, timezone-aware, to the second (files stay tidy and diffable)."""
    return datetime.now(UTC).replace(microsecond=0)


def new_conversation_id(now: datetime | None = None) -> str:
    """A stable, file-name-safe id: sortable timestamp plus a random suffix.

    The id names the file, so it never contains anything a title could smuggle in (`/`, `..`).
    """
    moment = (now or utc_now()).astimezone(UTC)
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


@dataclass
class Usage:
    """Token usage of one request, as the API reported it (or as estimated when it did not)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False
    # Keys found in the file that this version does not know (another tool's, a newer
    # tui-chat's): kept so a save never drops them.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# The two texts a reply streams into, appended to per delta (see appendable_text.py).
_CONTENT = AppendableText()
_THINKING = AppendableText(default="")


@dataclass
class Message:
    """One message in a conversation."""

    role: Role
    content: AppendableText = _CONTENT  # a str to read and assign; see append_content
    # A lambda so the clock is looked up at call time: tests freeze it for stable snapshots.
    created: datetime = field(default_factory=lambda: utc_now())
    model: str | None = None
    finish_reason: FinishReason | None = None
    cost_usd: float | None = None
    usage: Usage | None = None
    error: str | None = None
    # What a reasoning model thought before answering (streamed apart from the answer, or a
    # leading <think> block): shown collapsed, saved, never sent back to the model. Like the
    # content, copied by `dataclasses.replace` (which reads the str), never `copy.copy` (which
    # would share the pieces a stream still appends to), so a copy saved in a thread is safe.
    thinking: AppendableText = _THINKING  # a str to read and assign; see append_thinking
    thinking_seconds: float | None = None  # from the first thought to the first word of answer
    thinking_tokens: int | None = None  # the server's reasoning_tokens, else our count
    # Keys found in the file that this version does not know: kept so a save never drops them.
    extra: dict[str, Any] = field(default_factory=dict)
    # An assistant message: the tools it asked to call, each with its result once settled.
    tool_calls: list[ToolCall] = field(default_factory=list)
    # Files attached to a user message, in the order they were attached.
    attachments: list[Attachment] = field(default_factory=list)

    def append_content(self, text: str) -> None:
        """Add a streamed piece of the answer, in amortised O(1) however long it already is."""
        _CONTENT.append(self, text)

    def append_thinking(self, text: str) -> None:
        """Add a streamed piece of the thinking, in amortised O(1)."""
        _THINKING.append(self, text)

    @property
    def is_complete(self) -> bool:
        """False for a reply that was interrupted, cut or failed."""
        return self.role != "assistant" or self.finish_reason in (
            None,
            "stop",
            "length",
            "tool_calls",
        )

    @property
    def thinking_summary(self) -> str:
        """'Thought for 12 s, 840 tokens': the thinking in one line (the pane, the exports)."""
        summary = "Thought"
        seconds = self.thinking_seconds
        if seconds is not None:
            summary += f" for {seconds:.1f} s" if seconds < 10 else f" for {seconds:.0f} s"
        if self.thinking_tokens is not None:
            unit = "token" if self.thinking_tokens == 1 else "tokens"
            summary += f", {self.thinking_tokens:,} {unit}"
        return summary


def usd(amount: float) -> str:
    """Dollars to four places: the form the command line and the files' readers see."""
    return f"${amount:.4f}"


@dataclass(frozen=True)
class Spend:
    """What some replies cost: the sum of the prices that were known, and how many replies
    had no known price (a local server, a model the price table lacks, a failed request).

    The one place that adds costs up: a sum that includes unknown prices says how many, and a
    sum of nothing but unknown prices is `?`, never a guessed $0.
    """

    known_usd: float = 0.0
    unknown_replies: int = 0

    @classmethod
    def of_replies(cls, messages: Iterable[Message]) -> Spend:
        """The spend of the assistant replies among `messages`."""
        replies = [m for m in messages if m.role == "assistant"]
        return cls(
            known_usd=sum(m.cost_usd for m in replies if m.cost_usd is not None),
            unknown_replies=sum(1 for m in replies if m.cost_usd is None),
        )

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.known_usd + other.known_usd, self.unknown_replies + other.unknown_replies)

    @property
    def all_unknown(self) -> bool:
        """Every reply counted had an unknown price: the total is unknown, not $0."""
        return self.unknown_replies > 0 and not self.known_usd

    def unknown_note(self) -> str:
        """'1 reply of unknown price', '3 replies of unknown price'."""
        n = self.unknown_replies
        return f"{n} {'reply' if n == 1 else 'replies'} of unknown price"

    def describe(self, amount: Callable[[float], str] = usd) -> str:
        """'$0.0123', '$0.0123 + 3 replies of unknown price', or '? (3 replies of unknown
        price)' when no price was known; `amount` formats the dollars."""
        if self.all_unknown:
            return f"? ({self.unknown_note()})"
        if self.unknown_replies:
            return f"{amount(self.known_usd)} + {self.unknown_note()}"
        return amount(self.known_usd)


@dataclass
class Conversation:
    """A titled list of messages with the model, profile and system prompt it uses."""

    id: str
    title: str = ""
    created: datetime = field(default_factory=utc_now)
    updated: datetime = field(default_factory=utc_now)
    profile: str = "openai"
    model: str = "gpt-4o-mini"
    system: str = ""
    pinned: bool = False
    tags: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Tools switched off in this conversation, as "server/tool" (see ToolSpec.key).
    tools_off: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, *, profile: str, model: str, system: str = "") -> Conversation:
        now = utc_now()
        return cls(
            id=new_conversation_id(now),
            created=now,
            updated=now,
            profile=profile,
            model=model,
            system=system,
        )

    @property
    def display_title(self) -> str:
        """The title, or a placeholder for a conversation that has none yet."""
        return self.title or "New conversation"

    def touch(self) -> None:
        self.updated = utc_now()

    def add(self, message: Message) -> Message:
        """Append a message, name the conversation after its first user message, and touch it."""
        self.messages.append(message)
        if not self.title and message.role == "user":
            self.title = title_from_text(message.content)
        self.touch()
        return message

    @property
    def spend(self) -> Spend:
        """What this conversation's replies cost, with the replies of unknown price counted."""
        return Spend.of_replies(self.messages)

    @property
    def total_tokens(self) -> int:
        return sum(m.usage.total_tokens for m in self.messages if m.usage is not None)

    def fork_before(self, index: int) -> Conversation:
        """A new conversation holding the messages before `index` (for edit-and-resend)."""
        fork = Conversation.new(profile=self.profile, model=self.model, system=self.system)
        fork.title = f"{self.display_title} (fork)"
        fork.tags = list(self.tags)
        fork.tools_off = list(self.tools_off)
        fork.messages = [
            replace(
                m,
                extra=dict(m.extra),
                tool_calls=[call.copy() for call in m.tool_calls],
                attachments=[replace(a, extra=dict(a.extra)) for a in m.attachments],
            )
            for m in self.messages[:index]
        ]
        return fork


def title_from_text(text: str) -> str:
    """A one-line title from the first user message: first non-blank line, trimmed at a word."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first_line = " ".join(first_line.split())
    if len(first_line) <= TITLE_MAX_CHARS:
        return first_line
    cut = first_line[:TITLE_MAX_CHARS].rsplit(" ", 1)[0]
    if len(cut) < TITLE_MAX_CHARS // 2:
        cut = first_line[:TITLE_MAX_CHARS]
    return cut.rstrip(" ,.;:-") + "…"

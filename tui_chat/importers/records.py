"""What every importer yields, and how it maps onto a tui-chat conversation file.

Where a conversation came from is kept in its file as three optional top-level keys (`source`,
`source_id`, `source_version`) and a `source_id` on each message. The storage reader keeps keys
it does not know (`Conversation.extra`, `Message.extra`) and the writer writes them back, so
files from before imports existed load unchanged and a later save keeps these keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from tui_chat.domain.conversation import (
    Conversation,
    Message,
    Role,
    new_conversation_id,
    title_from_text,
)

SourceName = Literal["chatgpt", "elia", "oterm", "llm", "aichat"]
SOURCES: tuple[SourceName, ...] = ("chatgpt", "elia", "oterm", "llm", "aichat")

SOURCE_KEY = "source"
SOURCE_ID_KEY = "source_id"
# Changes whenever the source conversation changes (its update time, or its last message), so
# a re-import can tell "nothing new" from the file's header alone, without reading messages.
SOURCE_VERSION_KEY = "source_version"


class SourceError(Exception):
    """The source as a whole cannot be read (not what it should be, truncated, empty): one
    sentence for the user, and nothing is written."""


@dataclass
class ImportedMessage:
    """One message as the source holds it; `source_id` is stable across imports."""

    source_id: str
    role: Role
    content: str
    created: datetime | None = None
    model: str | None = None


@dataclass
class ImportedConversation:
    """One conversation read from a source, ready to become (or extend) a conversation file."""

    source: SourceName
    source_id: str
    version: str
    title: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    model: str | None = None
    system: str = ""
    messages: list[ImportedMessage] = field(default_factory=list)

    def to_conversation(self, profile: str) -> Conversation:
        """A new conversation file's content, on `profile` (the user's default: the server the
        source talked to is not one tui-chat knows); times filled in where the source had none."""
        created = self.created or self._first_time() or datetime.fromtimestamp(0, UTC)
        conversation = Conversation(
            id=new_conversation_id(created),
            # Elia, oterm and ChatGPT leave some titles empty: named as tui-chat names its own.
            title=self.title or self._first_user_line(),
            created=created,
            updated=self.updated or self._last_time() or created,
            profile=profile,
            model=self.model or "",
            system=self.system,
            extra={
                SOURCE_KEY: self.source,
                SOURCE_ID_KEY: self.source_id,
                SOURCE_VERSION_KEY: self.version,
            },
        )
        conversation.messages = self.new_messages(set(), created)
        return conversation

    def new_messages(self, known_ids: set[str], after: datetime) -> list[Message]:
        """The messages whose source ids are not in `known_ids`, as tui-chat messages. A message
        with no time of its own takes the one before it (ChatGPT leaves some null)."""
        messages: list[Message] = []
        when = after
        for item in self.messages:
            when = item.created or when
            if item.source_id in known_ids:
                continue
            messages.append(
                Message(
                    role=item.role,
                    content=item.content,
                    created=when,
                    model=item.model if item.role == "assistant" else None,
                    # An imported reply is a finished one: it must never open as interrupted.
                    finish_reason="stop" if item.role == "assistant" else None,
                    extra={SOURCE_ID_KEY: item.source_id},
                )
            )
        return messages

    def _first_user_line(self) -> str:
        first = next((m.content for m in self.messages if m.role == "user"), "")
        return title_from_text(first)

    def _first_time(self) -> datetime | None:
        return next((m.created for m in self.messages if m.created), None)

    def _last_time(self) -> datetime | None:
        return next((m.created for m in reversed(self.messages) if m.created), None)


@dataclass
class ReadContext:
    """What a reader is told and tells while it reads: how far it is through its source
    (bytes of an export, rows, files) for the progress bar (`total` set once, `done` moved as
    it goes), and the versions of this source's conversations already imported, so a reader
    whose source says cheaply that a conversation is unchanged can skip building it."""

    done: int = 0
    total: int = 0
    known_versions: dict[str, str] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        return min(self.done / self.total, 1.0) if self.total > 0 else None


@dataclass(frozen=True)
class BrokenConversation:
    """A conversation the source holds but that could not be read; the others go on."""

    source_id: str
    title: str
    reason: str


# A fork's source id is its conversation's, this, and what tells the fork apart.
FORK_SEPARATOR = "#fork:"


def fork_source_id(parent: str, tail: str) -> str:
    """The source id of a fork of conversation `parent` (ChatGPT's abandoned branches)."""
    return f"{parent}{FORK_SEPARATOR}{tail}"


@dataclass(frozen=True)
class Unchanged:
    """A conversation the source says has not changed since it was imported at this version
    (nor have any forks of it): nothing to build, nothing to write."""

    source_id: str


ImportItem = ImportedConversation | BrokenConversation | Unchanged


def conversations(count: int) -> str:
    """'1 conversation', '2,000 conversations': how the importers' sentences count."""
    return f"{count:,} conversation{'' if count == 1 else 's'}"


def short_reason(error: Exception) -> str:
    """An exception as the reason a summary gives: its first line, its spaces evened, at most
    200 characters."""
    lines = str(error).splitlines()
    return " ".join(lines[0].split())[:200] if lines else type(error).__name__


def from_timestamp(value: object) -> datetime | None:
    """A UTC time from seconds since the epoch (ChatGPT, llm), None when absent or nonsense."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: object) -> datetime | None:
    """A UTC time from an ISO 8601 string (SQLite and YAML sources); naive times are UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)

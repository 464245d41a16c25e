"""Reading conversation files with the standard tomllib, reporting the line of a problem."""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from tui_chat.domain.attachments import Attachment, AttachmentKind
from tui_chat.domain.conversation import Conversation, Message, Role, Usage
from tui_chat.domain.tools import TOOL_CALL_STATUSES, ToolCall, ToolCallStatus
from tui_chat.storage.errors import ConversationFileError
from tui_chat.storage.toml_format import (
    ATTACHMENT_KEYS,
    CONVERSATION_KEYS,
    LEGACY_TOOL_ROLE,
    MESSAGE_KEYS,
    ROLES,
    SCHEMA,
    TOOL_CALL_KEYS,
    USAGE_KEYS,
)

_ERROR_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


def toml_error_position(error: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """(line, reason) from a tomllib error; Python 3.11 only puts the line in the message."""
    message = str(error)
    match = re.search(r"\(at line (\d+), column \d+\)$", message)
    line = int(match.group(1)) if match else None
    reason = _ERROR_POSITION.sub("", message)
    return line, reason


def conversation_from_toml(text: str, path: Path) -> Conversation:
    """Parse a conversation file. The id is the file name (`path.stem`), so a copied file is a
    separate conversation. Raises ConversationFileError naming the line when it can."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, reason = toml_error_position(error)
        raise ConversationFileError(path, line, f"not valid TOML: {reason}") from None
    reader = _Reader(path, text)
    schema = data.get("schema")
    if schema is None:
        raise ConversationFileError(path, None, "no 'schema = 1' line, so it is not a conversation")
    if schema != SCHEMA or isinstance(schema, bool):
        raise reader.error(
            "schema",
            f"schema {schema!r} is not one this tui-chat reads (it reads schema {SCHEMA})",
        )
    created = reader.moment(data, "created", None)
    updated = reader.moment(data, "updated", None)
    created = created or updated or datetime.fromtimestamp(0, UTC)
    raw_messages = data.get("messages", [])
    if not isinstance(raw_messages, list):
        raise reader.error("messages", "'messages' should be an array of [[messages]] tables")
    messages: list[Message] = []
    for index, raw in enumerate(raw_messages):
        if isinstance(raw, dict) and raw.get("role") == LEGACY_TOOL_ROLE:
            reader.fold_result(index, raw, messages)
        else:
            messages.append(reader.message(index, raw, created))
    tags = reader.typed(data, "tags", list, [])
    if not all(isinstance(tag, str) for tag in tags):
        raise reader.error("tags", "'tags' should be a list of strings")
    tools_off = reader.typed(data, "tools_off", list, [])
    if not all(isinstance(name, str) for name in tools_off):
        raise reader.error("tools_off", "'tools_off' should be a list of strings")
    return Conversation(
        id=path.stem,
        title=reader.typed(data, "title", str, ""),
        created=created,
        updated=updated or created,
        profile=reader.typed(data, "profile", str, "openai"),
        model=reader.typed(data, "model", str, "gpt-4o-mini"),
        system=reader.typed(data, "system", str, ""),
        pinned=reader.typed(data, "pinned", bool, False),
        tags=list(tags),
        messages=messages,
        extra={k: v for k, v in data.items() if k not in CONVERSATION_KEYS},
        tools_off=list(tools_off),
    )


class _Reader:
    """Type checks with the line of the offending key, for errors a user can find."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self._lines: list[str] | None = None

    def typed(
        self, table: dict[str, Any], key: str, kind: type, default: Any, index: int = -1
    ) -> Any:
        value = table.get(key, default)
        if value is default:
            return value
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(key, f"{key!r} should be {_kind_name(kind)}", index)
        return value

    def moment(
        self, table: dict[str, Any], key: str, default: datetime | None, index: int = -1
    ) -> datetime | None:
        value = table.get(key)
        if value is None:
            return default
        if not isinstance(value, datetime):
            raise self.error(
                key, f"{key!r} should be a date and time like 2026-11-24 01:30:00+00:00", index
            )
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def message(self, index: int, raw: object, fallback_created: datetime) -> Message:
        if not isinstance(raw, dict):
            raise self.error("messages", "each message should be a [[messages]] table")
        role = raw.get("role")
        if role not in ROLES:
            raise self.error(
                "role",
                f"message {index + 1} has role {role!r}; it should be user, assistant or system",
                index,
            )
        if "content" not in raw:
            raise self.error("content", f"message {index + 1} has no content", index)
        cost = self.number(raw, "cost_usd", index)
        thinking_seconds = self.number(raw, "thinking_seconds", index)
        return Message(
            role=cast(Role, role),
            content=self.typed(raw, "content", str, "", index),
            created=self.moment(raw, "created", fallback_created, index) or fallback_created,
            model=self.typed(raw, "model", str, None, index),
            finish_reason=self.typed(raw, "finish_reason", str, None, index),
            cost_usd=cost,
            usage=self.usage(index, raw.get("usage")),
            error=self.typed(raw, "error", str, None, index),
            thinking=self.typed(raw, "thinking", str, "", index),
            thinking_seconds=thinking_seconds,
            thinking_tokens=self.typed(raw, "thinking_tokens", int, None, index),
            extra={k: v for k, v in raw.items() if k not in MESSAGE_KEYS},
            tool_calls=self.tool_calls(index, raw.get("tool_calls", [])),
            attachments=self.attachments(index, raw.get("attachments", [])),
        )

    def fold_result(self, index: int, raw: dict[str, Any], messages: list[Message]) -> None:
        """A result saved as its own `role = "tool"` message (files from before results were
        kept on their calls): given to the call it answers, in the replies read so far."""
        call_id = self.typed(raw, "tool_call_id", str, None, index)
        content = self.typed(raw, "content", str, "", index)
        for message in reversed(messages):
            for call in message.tool_calls:
                if call.id == call_id and call.result is None:
                    call.result = content
                    return
        raise self.error(
            "tool_call_id",
            f"message {index + 1} is a tool result answering no call before it"
            f" (tool_call_id {call_id!r})",
            index,
        )

    def number(self, table: dict[str, Any], key: str, index: int) -> float | None:
        """A float that a hand edit may have written as a whole number; None when absent."""
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"{key!r} should be a number", index)
        return float(value)

    def tool_calls(self, index: int, raw: object) -> list[ToolCall]:
        if not isinstance(raw, list) or not all(isinstance(call, dict) for call in raw):
            raise self.error("tool_calls", "'tool_calls' should be [[messages.tool_calls]]", index)
        calls = []
        for call in raw:
            status = self.typed(call, "status", str, "done", index)
            if status not in TOOL_CALL_STATUSES:
                raise self.error(
                    "status", f"a tool call's status should be one of {TOOL_CALL_STATUSES}", index
                )
            seconds = call.get("seconds")
            if seconds is not None and (
                isinstance(seconds, bool) or not isinstance(seconds, int | float)
            ):
                raise self.error("seconds", "'seconds' should be a number", index)
            calls.append(
                ToolCall(
                    id=self.typed(call, "id", str, "", index),
                    name=self.typed(call, "name", str, "", index),
                    arguments=self.typed(call, "arguments", str, "", index),
                    status=cast(ToolCallStatus, status),
                    seconds=float(seconds) if seconds is not None else None,
                    result=self.typed(call, "result", str, None, index),
                    extra={k: v for k, v in call.items() if k not in TOOL_CALL_KEYS},
                )
            )
        return calls

    def attachments(self, index: int, raw: object) -> list[Attachment]:
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise self.error(
                "attachments", "'attachments' should be [[messages.attachments]]", index
            )
        attachments = []
        for which, item in enumerate(raw):
            kind = item.get("kind")
            if kind not in ("text", "image"):
                raise self.error(
                    "kind",
                    f"an attachment's kind is {kind!r}; it should be text or image",
                    index,
                    ("[[messages.attachments]]", which),
                )
            attachments.append(
                Attachment(
                    kind=cast(AttachmentKind, kind),
                    name=self.typed(item, "name", str, "", index),
                    path=self.typed(item, "path", str, "", index),
                    sha256=self.typed(item, "sha256", str, "", index),
                    size=self.typed(item, "size", int, 0, index),
                    text=self.typed(item, "text", str, "", index),
                    encoding=self.typed(item, "encoding", str, None, index),
                    media_type=self.typed(item, "media_type", str, None, index),
                    width=self.typed(item, "width", int, None, index),
                    height=self.typed(item, "height", int, None, index),
                    extra={k: v for k, v in item.items() if k not in ATTACHMENT_KEYS},
                )
            )
        return attachments

    def usage(self, index: int, raw: object) -> Usage | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise self.error("usage", "'usage' should be a table", index)
        numbers = {}
        for key in ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"):
            numbers[key] = self.typed(raw, key, int, 0, index)
        return Usage(
            **numbers,
            estimated=self.typed(raw, "estimated", bool, False, index),
            extra={k: v for k, v in raw.items() if k not in USAGE_KEYS},
        )

    def error(
        self, key: str, reason: str, index: int = -1, table: tuple[str, int] | None = None
    ) -> ConversationFileError:
        return ConversationFileError(self.path, self.line_of(key, index, table), reason)

    def line_of(
        self, key: str, index: int = -1, table: tuple[str, int] | None = None
    ) -> int | None:
        """Best-effort line of `key` at the top level (index -1) or in message `index`; with
        `table` (a header such as `[[messages.attachments]]` and which of them), in that one."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        start = 0
        if index >= 0:
            headers = [n for n, line in enumerate(self._lines) if line.strip() == "[[messages]]"]
            if index >= len(headers):
                return None
            start = headers[index] + 1
            if table is not None:
                header, which = table
                lines = enumerate(self._lines[start:], start)
                own = (n for n, line in lines if line.strip() == header)
                start = next(itertools.islice(own, which, None), start - 1) + 1
        pattern = re.compile(rf"\s*(\[+\s*)?(messages\.)?{re.escape(key)}\s*(=|\])")
        for number in range(start, len(self._lines)):
            line = self._lines[number]
            if index < 0 and line.startswith("[") and key != "messages":
                break
            if index >= 0 and line.strip() == "[[messages]]":
                break
            if pattern.match(line):
                return number + 1
        return start if index >= 0 else None


def _kind_name(kind: type) -> str:
    return {str: "a string", bool: "true or false", int: "a whole number", list: "a list"}.get(
        kind, kind.__name__
    )

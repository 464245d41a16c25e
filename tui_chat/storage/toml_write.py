"""Writing conversation files by hand, in schema 1 (see toml_format.py for why not tomli-w)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message, Usage
from tui_chat.domain.tools import ToolCall
from tui_chat.storage.toml_format import (
    ATTACHMENT_KEYS,
    CONVERSATION_KEYS,
    MESSAGE_KEYS,
    SCHEMA,
    TOOL_CALL_KEYS,
    USAGE_KEYS,
)

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_COMPACT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# Characters TOML does not allow raw in basic strings (tab is allowed; newline only in multi-line).
_CONTROL = frozenset(chr(i) for i in range(32)) | {"\x7f"}
_CONTROL_BUT_TAB_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
# What a one-line basic string must escape: with none of it, the text is written as it is.
_NEEDS_ESCAPE_ON_ONE_LINE = re.compile('[\\\\"\x00-\x08\x0a-\x1f\x7f]')


def conversation_to_toml(conv: Conversation) -> str:
    """The text of `conv`'s file. Any string round-trips, except lone surrogates (see module)."""
    lines: list[str] = [
        f"schema = {SCHEMA}",
        f"id = {_basic(conv.id)}",
        f"title = {_string(conv.title)}",
        f"created = {_datetime(conv.created)}",
        f"updated = {_datetime(conv.updated)}",
        f"profile = {_string(conv.profile)}",
        f"model = {_string(conv.model)}",
        f"system = {_string(conv.system, multiline=bool(conv.system))}",
        f"pinned = {_bool(conv.pinned)}",
        f"tags = {_inline_array(list(conv.tags))}",
    ]
    if conv.tools_off:
        lines.append(f"tools_off = {_inline_array(list(conv.tools_off))}")
    extra = {k: v for k, v in conv.extra.items() if k not in CONVERSATION_KEYS}
    lines.extend(_table_body(extra, ()))
    for message in conv.messages:
        lines.append("")
        lines.append("[[messages]]")
        lines.extend(_message_lines(message))
    return "\n".join(lines) + "\n"


def _message_lines(message: Message) -> Iterator[str]:
    yield f"role = {_basic(message.role)}"
    yield f"content = {_string(message.content, multiline=bool(message.content))}"
    yield f"created = {_datetime(message.created)}"
    if message.model is not None:
        yield f"model = {_string(message.model)}"
    if message.finish_reason is not None:
        yield f"finish_reason = {_string(message.finish_reason)}"
    if message.cost_usd is not None:
        yield f"cost_usd = {_float(message.cost_usd)}"
    if message.error is not None:
        yield f"error = {_string(message.error)}"
    yield from _thinking_lines(message)
    extra = {k: v for k, v in message.extra.items() if k not in MESSAGE_KEYS}
    literals = {k: v for k, v in extra.items() if not _is_table(v) and not _is_table_array(v)}
    tables = {k: v for k, v in extra.items() if k not in literals}
    for key, value in literals.items():
        yield f"{_key(key)} = {_value(value, top=True)}"
    if message.usage is not None:
        yield ""
        yield "[messages.usage]"
        yield from _usage_lines(message.usage)
    for call in message.tool_calls:
        yield ""
        yield "[[messages.tool_calls]]"
        yield from _tool_call_lines(call)
    for attachment in message.attachments:
        yield ""
        yield "[[messages.attachments]]"
        yield from _attachment_lines(attachment)
    yield from _tables(tables, ("messages",))


def _thinking_lines(message: Message) -> Iterator[str]:
    """The model's thinking, after the answer: a reader of the file meets the answer first, and
    the thought reads as the model wrote it, one line per line."""
    if not message.thinking:
        return
    yield f"thinking = {_string(message.thinking, multiline=True)}"
    if message.thinking_seconds is not None:
        yield f"thinking_seconds = {_float(message.thinking_seconds)}"
    if message.thinking_tokens is not None:
        yield f"thinking_tokens = {int(message.thinking_tokens)}"


def _tool_call_lines(call: ToolCall) -> Iterator[str]:
    yield f"id = {_string(call.id)}"
    yield f"name = {_string(call.name)}"
    # The JSON text as the model sent it: a literal string when it allows (JSON's quotes then
    # read and grep as written), else a basic one.
    yield f"arguments = {_one_line_literal(call.arguments) or _string(call.arguments)}"
    yield f"status = {_string(call.status)}"
    if call.seconds is not None:
        yield f"seconds = {_float(round(call.seconds, 3))}"
    if call.result is not None:
        # Multi-line even when short, so results read (and grep) alike, one line per line.
        yield f"result = {_string(call.result, multiline=True)}"
    extra = {k: v for k, v in call.extra.items() if k not in TOOL_CALL_KEYS}
    yield from _table_body(extra, ("messages", "tool_calls"))


def _attachment_lines(attachment: Attachment) -> Iterator[str]:
    yield f"kind = {_basic(attachment.kind)}"
    yield f"name = {_string(attachment.name)}"
    yield f"path = {_string(attachment.path)}"
    yield f"sha256 = {_basic(attachment.sha256)}"
    yield f"size = {int(attachment.size)}"
    if attachment.encoding is not None:
        yield f"encoding = {_string(attachment.encoding)}"
    if attachment.media_type is not None:
        yield f"media_type = {_string(attachment.media_type)}"
    if attachment.width is not None:
        yield f"width = {int(attachment.width)}"
    if attachment.height is not None:
        yield f"height = {int(attachment.height)}"
    if attachment.kind == "text":
        yield f"text = {_string(attachment.text, multiline=True)}"
    extra = {k: v for k, v in attachment.extra.items() if k not in ATTACHMENT_KEYS}
    yield from _table_body(extra, ("messages", "attachments"))


def _usage_lines(usage: Usage) -> Iterator[str]:
    yield f"prompt_tokens = {int(usage.prompt_tokens)}"
    yield f"completion_tokens = {int(usage.completion_tokens)}"
    if usage.cached_tokens:
        yield f"cached_tokens = {int(usage.cached_tokens)}"
    if usage.reasoning_tokens:
        yield f"reasoning_tokens = {int(usage.reasoning_tokens)}"
    if usage.estimated:
        yield "estimated = true"
    extra = {k: v for k, v in usage.extra.items() if k not in USAGE_KEYS}
    yield from _table_body(extra, ("messages", "usage"))


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(item, Mapping) for item in value)
    )


def _table_body(table: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[str]:
    """Key/value lines of a table, then its sub-tables and arrays of tables."""
    tables = {}
    for key, value in table.items():
        if _is_table(value) or _is_table_array(value):
            tables[key] = value
        else:
            yield f"{_key(key)} = {_value(value, top=True)}"
    yield from _tables(tables, path)


def _tables(tables: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[str]:
    for key, value in tables.items():
        sub_path = (*path, key)
        name = ".".join(_key(part) for part in sub_path)
        items = [value] if _is_table(value) else list(value)
        for item in items:
            yield ""
            yield f"[[{name}]]" if not _is_table(value) else f"[{name}]"
            yield from _table_body(item, sub_path)


def _key(key: str) -> str:
    key = _clean(key)
    return key if _BARE_KEY.fullmatch(key) else _basic(key)


def _value(value: object, *, top: bool = False) -> str:
    """A TOML value. Multi-line strings only as a key's direct value, never inside arrays."""
    if isinstance(value, bool):
        return _bool(value)
    if isinstance(value, str):
        return _string(value) if top else _basic(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        return _float(float(value))
    if isinstance(value, datetime):
        return _datetime(value) if value.tzinfo else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return _inline_array(list(value))
    raise TypeError(f"{type(value).__name__} cannot be written to a conversation file")


def _inline_array(items: list[Any]) -> str:
    return "[" + ", ".join(_value(item) for item in items) + "]"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _float(value: float) -> str:
    """Positional notation where it reads better (0.0000277, not 2.77e-05); exact either way."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    shortest = repr(float(value))
    if value == 0 or 1e-12 <= abs(value) < 1e15:
        text = format(Decimal(shortest), "f")
        return text if "." in text else text + ".0"
    return shortest


def _datetime(moment: datetime) -> str:
    """An offset datetime; a naive one is taken to be UTC (the app only makes aware ones)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(sep=" ")


def _clean(text: str) -> str:
    """Lone surrogates cannot be stored as UTF-8: they become U+FFFD (the only lossy case)."""
    return _SURROGATE.sub("\ufffd", text)


def _string(text: str, *, multiline: bool | None = None) -> str:
    """A string value; multi-line form when it has a newline (or when `multiline` asks)."""
    text = _clean(text)
    if multiline is None:
        multiline = "\n" in text
    if not multiline:
        return _basic(text)
    if _literal_ok(text):
        return "'''\n" + text + "'''"
    return '"""\n' + _escape(text, multiline=True) + '"""'


def _one_line_literal(text: str) -> str | None:
    """`'text'` when a one-line literal string holds `text` exactly, else None."""
    text = _clean(text)
    if "'" in text or "\n" in text or _CONTROL_BUT_TAB_NEWLINE.search(text):
        return None
    return f"'{text}'"


def _literal_ok(text: str) -> bool:
    """True when a multi-line literal string holds `text` exactly, with no escapes."""
    if "'''" in text or text.endswith("'"):
        return False
    # One regex scan, not a Python loop per character: saving long histories is ~10x faster.
    return _CONTROL_BUT_TAB_NEWLINE.search(text) is None


def _basic(text: str) -> str:
    return '"' + _escape(_clean(text), multiline=False) + '"'


def _escape(text: str, *, multiline: bool) -> str:
    if _NEEDS_ESCAPE_ON_ONE_LINE.search(text) is None:
        # One regex scan instead of a Python step per character: an import writes thousands of
        # one-line messages and titles.
        return text
    out: list[str] = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            # In a multi-line string only a run of three quotes (or one right before the closing
            # delimiter) needs escaping; keep the rest as typed.
            if not multiline or index == last or text[index + 1 : index + 3] == '""':
                out.append('\\"')
            else:
                out.append(char)
        elif (char == "\n" and multiline) or char == "\t":
            out.append(char)
        elif char in _CONTROL:
            out.append(_COMPACT_ESCAPES.get(char, f"\\u{ord(char):04x}"))
        else:
            out.append(char)
    return "".join(out)

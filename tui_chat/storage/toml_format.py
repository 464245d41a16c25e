"""Conversation files, schema 1: one TOML document per conversation.

Written by hand here (not with `tomli_w.dumps`) for three reasons that matter to people who read,
diff and edit these files:

* key order is fixed (schema, id, title, created, updated, profile, model, system, pinned, tags,
  unknown keys, then one `[[messages]]` table per message);
* message text is a TOML multi-line string, one text line per file line, so a diff shows the lines
  that changed. A literal string (`'''`) is used when the text allows it (no escapes at all, so code
  reads and greps as written); otherwise a basic string (`\"\"\"`) with the fewest escapes. tomli-w
  cannot be used for this: it turns CRLF into LF inside multi-line strings, while here a carriage
  return is written as the escape `\\r`, so any text round-trips exactly;
* keys this version does not know, at the top level and in messages, are written back unchanged.

Reading uses the standard `tomllib`. Lone surrogates (which cannot be encoded as UTF-8, so cannot be
in any file) are replaced with U+FFFD when saving; every other string round-trips exactly.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from tui_chat.domain.conversation import Conversation, Message, Role, Usage
from tui_chat.storage.errors import ConversationFileError

SCHEMA = 1

CONVERSATION_KEYS = (
    "schema",
    "id",
    "title",
    "created",
    "updated",
    "profile",
    "model",
    "system",
    "pinned",
    "tags",
    "messages",
)
MESSAGE_KEYS = (
    "role",
    "content",
    "created",
    "model",
    "finish_reason",
    "cost_usd",
    "error",
    "usage",
)
USAGE_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "estimated",
)
ROLES: tuple[Role, ...] = ("user", "assistant", "system")

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_COMPACT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# Characters TOML does not allow raw in basic strings (tab is allowed; newline only in multi-line).
_CONTROL = frozenset(chr(i) for i in range(32)) | {"\x7f"}
_CONTROL_BUT_TAB_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_ERROR_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


# ---------------------------------------------------------------- writing


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
    extra = {k: v for k, v in message.extra.items() if k not in MESSAGE_KEYS}
    literals = {k: v for k, v in extra.items() if not _is_table(v) and not _is_table_array(v)}
    tables = {k: v for k, v in extra.items() if k not in literals}
    for key, value in literals.items():
        yield f"{_key(key)} = {_value(value, top=True)}"
    if message.usage is not None:
        yield ""
        yield "[messages.usage]"
        yield from _usage_lines(message.usage)
    yield from _tables(tables, ("messages",))


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


def _literal_ok(text: str) -> bool:
    """True when a multi-line literal string holds `text` exactly, with no escapes."""
    if "'''" in text or text.endswith("'"):
        return False
    # One regex scan, not a Python loop per character: saving long histories is ~10x faster.
    return _CONTROL_BUT_TAB_NEWLINE.search(text) is None


def _basic(text: str) -> str:
    return '"' + _escape(_clean(text), multiline=False) + '"'


def _escape(text: str, *, multiline: bool) -> str:
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


# ---------------------------------------------------------------- reading


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
    messages = [reader.message(index, raw, created) for index, raw in enumerate(raw_messages)]
    tags = reader.typed(data, "tags", list, [])
    if not all(isinstance(tag, str) for tag in tags):
        raise reader.error("tags", "'tags' should be a list of strings")
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
        cost = raw.get("cost_usd")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)):
            raise self.error("cost_usd", "'cost_usd' should be a number", index)
        return Message(
            role=cast(Role, role),
            content=self.typed(raw, "content", str, "", index),
            created=self.moment(raw, "created", fallback_created, index) or fallback_created,
            model=self.typed(raw, "model", str, None, index),
            finish_reason=self.typed(raw, "finish_reason", str, None, index),
            cost_usd=float(cost) if cost is not None else None,
            usage=self.usage(index, raw.get("usage")),
            error=self.typed(raw, "error", str, None, index),
            extra={k: v for k, v in raw.items() if k not in MESSAGE_KEYS},
        )

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

    def error(self, key: str, reason: str, index: int = -1) -> ConversationFileError:
        return ConversationFileError(self.path, self.line_of(key, index), reason)

    def line_of(self, key: str, index: int = -1) -> int | None:
        """Best-effort line of `key` at the top level (index -1) or in message `index`."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        start = 0
        if index >= 0:
            headers = [n for n, line in enumerate(self._lines) if line.strip() == "[[messages]]"]
            if index >= len(headers):
                return None
            start = headers[index] + 1
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

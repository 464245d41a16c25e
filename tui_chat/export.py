"""Exports of one conversation, to Markdown (to read or share) and JSON (for other programs).

Both are built from the conversation alone: no config, so no key or secret can end up in them.
Unknown keys kept from the file (`extra`) are left out too, since nobody checked what they hold.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime
from typing import Any

from tui_chat.attachments.sizes import format_size
from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.domain.tools import ToolCall

EXPORT_FORMAT = 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> str:
    """Lone surrogates (possible in memory, never in a file) become U+FFFD, as when saving."""
    return _SURROGATE.sub("\ufffd", text)


def _moment(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


def _fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks inside `text`."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def to_markdown(conv: Conversation) -> str:
    """A readable Markdown document: a title, the facts, then each message under a heading."""
    lines = [f"# {conv.display_title}", ""]
    lines.append(f"- Model: {conv.model} (profile {conv.profile})")
    lines.append(f"- Created: {_moment(conv.created)}")
    lines.append(f"- Updated: {_moment(conv.updated)}")
    if conv.tags:
        lines.append(f"- Tags: {', '.join(conv.tags)}")
    spend = conv.spend
    if spend.known_usd or spend.unknown_replies:
        lines.append(f"- Cost: {spend.describe(lambda usd: f'${usd:.6f}')}")
    lines.append(f"- Id: {conv.id}")
    if conv.system:
        # The system prompt is instructions, not chat: a fenced block keeps its Markdown inert.
        fence = _fence_for(conv.system)
        lines += ["", "## System prompt", "", fence, conv.system, fence]
    for message in conv.messages:
        lines += ["", _heading(message), ""]
        lines += _thinking_details(message)
        if message.content or not message.tool_calls:
            lines.append(message.content if message.content else "*(empty)*")
        for call in message.tool_calls:
            lines += _call_lines(call)
        for attachment in message.attachments:
            lines += ["", *_attachment_lines(attachment)]
        notes = _notes(message)
        if notes:
            lines += ["", f"*{notes}*"]
    return _encodable("\n".join(lines).rstrip("\n") + "\n")


def _attachment_lines(attachment: Attachment) -> list[str]:
    """A text file under its name in a fenced block (its Markdown stays inert); an image by
    the name it is stored under in the data folder."""
    name = _code_span(" ".join(attachment.name.split()))
    size = format_size(attachment.size)
    if attachment.kind == "image":
        return [
            f"Attached image {name} ({attachment.width}×{attachment.height}, {size}), stored as "
            f"`attachments/{attachment.stored_name}`"
        ]
    encoding = f", {attachment.encoding}" if attachment.encoding else ""
    fence = _fence_for(attachment.text)
    text = attachment.text.removesuffix("\n")  # the fence's own line break ends the last line
    return [f"Attached file {name} ({size}{encoding}):", "", fence, text, fence]


def _code_span(text: str) -> str:
    """`text` as inline code: a span's backticks must outnumber any run inside it, and the
    spaces inside them are dropped when shown (CommonMark)."""
    fence = _fence_for(text) if "`" in text else "`"
    return f"{fence} {text} {fence}"


def _call_lines(call: ToolCall) -> list[str]:
    """`- Called `get_current_time` with `{"timezone": "UTC"}` (done, 0.56 s)`, then its result
    folded away as on screen, in a `<details>` block under the call."""
    took = f", {call.seconds:.2f} s" if call.seconds is not None else ""
    line = f"- Called `{call.name}` with {_code_span(call.arguments)} ({call.status}{took})"
    if call.result is None:
        return [line]
    # A tool's output is data, not prose: fenced, so its Markdown (and HTML) stays inert.
    fence = _fence_for(call.result)
    return [line, "", *_details("Result", [fence, call.result, fence])]


def _thinking_details(message: Message) -> list[str]:
    """The thinking folded away as on screen: an HTML `<details>` block, which GitHub, GitLab
    and most Markdown viewers show closed. Its text is HTML-escaped, so a `</details>` the model
    wrote cannot end the block early."""
    if not message.thinking:
        return []
    return _details(message.thinking_summary, [html.escape(message.thinking, quote=False)])


def _details(summary: str, body: list[str]) -> list[str]:
    """An HTML `<details>` block: shown closed by most Markdown viewers."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _heading(message: Message) -> str:
    who = {"user": "User", "assistant": "Assistant", "system": "System"}[message.role]
    if message.role == "assistant" and message.model:
        who = f"{who} ({message.model})"
    return f"## {who} · {message.created:%Y-%m-%d %H:%M}"


def _notes(message: Message) -> str:
    notes = []
    if message.finish_reason not in (None, "stop"):
        notes.append(f"finished: {message.finish_reason}")
    if message.error:
        notes.append(f"error: {' '.join(message.error.split())}")
    return "; ".join(notes)


def to_json(conv: Conversation) -> str:
    """The conversation as pretty-printed JSON with ISO 8601 times (schema 1's known fields)."""
    payload: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "id": conv.id,
        "title": conv.title,
        "created": conv.created.isoformat(),
        "updated": conv.updated.isoformat(),
        "profile": conv.profile,
        "model": conv.model,
        "system": conv.system,
        "pinned": conv.pinned,
        "tags": list(conv.tags),
        "messages": [_message_json(m) for m in conv.messages],
    }
    return _encodable(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def _message_json(message: Message) -> dict[str, Any]:
    item: dict[str, Any] = {
        "role": message.role,
        "content": message.content,
        "created": message.created.isoformat(),
    }
    for key in ("model", "finish_reason", "cost_usd", "error"):
        value = getattr(message, key)
        if isinstance(value, float) and not math.isfinite(value):
            value = None  # JSON has no NaN or infinity
        if value is not None:
            item[key] = value
    if message.thinking:
        item["thinking"] = {
            "text": message.thinking,
            "seconds": message.thinking_seconds,
            "tokens": message.thinking_tokens,
        }
    if message.usage is not None:
        usage = message.usage
        item["usage"] = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cached_tokens": usage.cached_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "estimated": usage.estimated,
        }
    if message.attachments:
        item["attachments"] = [_attachment_json(a) for a in message.attachments]
    if message.tool_calls:
        item["tool_calls"] = [
            {
                "id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": call.status,
                "seconds": call.seconds,
                "result": call.result,
            }
            for call in message.tool_calls
        ]
    return item


def _attachment_json(attachment: Attachment) -> dict[str, Any]:
    """A text file with its words; an image by its stored name, never its bytes."""
    item: dict[str, Any] = {
        "kind": attachment.kind,
        "name": attachment.name,
        "path": attachment.path,
        "sha256": attachment.sha256,
        "size": attachment.size,
    }
    if attachment.kind == "image":
        item.update(
            media_type=attachment.media_type,
            width=attachment.width,
            height=attachment.height,
            stored_as=f"attachments/{attachment.stored_name}",
        )
    else:
        item.update(encoding=attachment.encoding or "utf-8", text=attachment.text)
    return item

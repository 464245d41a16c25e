"""Conversation files, schema 1: one TOML document per conversation (written by
toml_write.py, read by toml_read.py; the keys of the schema are here).

Written by hand (not with `tomli_w.dumps`) for three reasons that matter to people who read,
diff and edit these files:

* key order is fixed (schema, id, title, created, updated, profile, model, system, pinned, tags,
  unknown keys, then one `[[messages]]` table per message);
* message text is a TOML multi-line string, one text line per file line, so a diff shows the lines
  that changed. A literal string (`'''`) is used when the text allows it (no escapes at all, so code
  reads and greps as written); otherwise a basic string (`\"\"\"`) with the fewest escapes. tomli-w
  cannot be used for this: it turns CRLF into LF inside multi-line strings, while here a carriage
  return is written as the escape `\\r`, so any text round-trips exactly;
* keys this version does not know, at the top level and in messages, are written back unchanged;
* an attached text file is kept whole as a multi-line string, an image only by its hash: a
  conversation file never holds base64.

Reading uses the standard `tomllib`. Lone surrogates (which cannot be encoded as UTF-8, so cannot be
in any file) are replaced with U+FFFD when saving; every other string round-trips exactly.
"""

from __future__ import annotations

from tui_chat.domain.conversation import Role

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
    "tools_off",
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
    # The model's thinking (see Message.thinking): text, seconds and tokens.
    "thinking",
    "thinking_seconds",
    "thinking_tokens",
    "tool_calls",
    "attachments",
)
# One `[[messages.tool_calls]]` table per call an assistant message asked for, its result in
# it: a tui-chat from before tools keeps the table as an unknown key of the message.
TOOL_CALL_KEYS = ("id", "name", "arguments", "status", "seconds", "result")
# One `[[messages.attachments]]` table per attached file: a text file's words in `text` (a
# multi-line string), an image by its hash (the bytes are in the data folder's attachments/).
ATTACHMENT_KEYS = (
    "kind",
    "name",
    "path",
    "sha256",
    "size",
    "encoding",
    "media_type",
    "width",
    "height",
    "text",
)
USAGE_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "estimated",
)
ROLES: tuple[Role, ...] = ("user", "assistant", "system")
# Files written before results moved onto their calls hold each result as a message of this
# role, answering `tool_call_id`: read into the call, and written back that way at the next save.
LEGACY_TOOL_ROLE = "tool"

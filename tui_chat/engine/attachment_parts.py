"""How an attachment is put to the model: one rule for what is sent and what is counted."""

from __future__ import annotations

import html

from tui_chat.domain.attachments import Attachment
from tui_chat.sanitize import one_line


def framed_text(attachment: Attachment) -> str:
    """A text attachment as the model reads it: its words inside `<file name="...">` tags.

    The name is put on one line, made inert and XML-escaped, so a file named to look like
    the end of the tag cannot end it."""
    name = html.escape(one_line(attachment.name), quote=True)
    return f'<file name="{name}">\n{attachment.text}\n</file>'

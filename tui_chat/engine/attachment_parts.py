"""How attachments are put to the model: one rule for what is sent and what is counted.

A message with attachments is sent as Chat Completions content parts: the typed text first,
then each text file as a text part framed with its name, then each image as an `image_url`
part holding a `data:` URL. The image bytes come through a loader the caller passes in (the
engine does not know where the data folder is).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Message
from tui_chat.sanitize import one_line

# Gives an image attachment's stored bytes; raises an exception whose str is one sentence
# for the user when it cannot (the image store's StorageError: missing or changed).
ImageLoader = Callable[[Attachment], bytes]
ContentPart = dict[str, Any]


def framed_text(attachment: Attachment) -> str:
    """A text attachment as the model reads it: its words inside `<file name="...">` tags.

    The name is put on one line, made inert and XML-escaped, so a file named to look like
    the end of the tag cannot end it."""
    name = html.escape(one_line(attachment.name), quote=True)
    return f'<file name="{name}">\n{attachment.text}\n</file>'


def image_data_url(attachment: Attachment, data: bytes) -> str:
    """An image as the `url` of an `image_url` part: `data:<media type>;base64,...`."""
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{attachment.media_type};base64,{encoded}"


def content_parts(message: Message, load_image: ImageLoader | None) -> list[ContentPart]:
    """`message`'s typed text and attachments as content parts; images only with a loader."""
    parts: list[ContentPart] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    for attachment in message.attachments:
        if attachment.kind == "text":
            parts.append({"type": "text", "text": framed_text(attachment)})
        elif load_image is not None:
            url = image_data_url(attachment, load_image(attachment))
            parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts

"""Attachments as a conversation holds them, built for tests without reading any file."""

from __future__ import annotations

import hashlib
from typing import Any

from tui_chat.domain.attachments import Attachment


def text_file(text: str, name: str = "notes.txt", **fields: Any) -> Attachment:
    """A text attachment of `text` (its hash and size those of its UTF-8 bytes)."""
    data = text.encode()
    values: dict[str, Any] = {
        "path": f"/home/me/{name}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    values.update(fields)
    return Attachment(kind="text", name=name, text=text, **values)


def image_file(
    width: int = 1280, height: int = 800, name: str = "screen.png", **fields: Any
) -> Attachment:
    """A PNG attachment of `width` x `height` (its bytes are not stored anywhere)."""
    values: dict[str, Any] = {
        "path": f"/home/me/{name}",
        "sha256": hashlib.sha256(name.encode()).hexdigest(),
        "size": 48_213,
        "media_type": "image/png",
    }
    values.update(fields)
    return Attachment(kind="image", name=name, width=width, height=height, **values)

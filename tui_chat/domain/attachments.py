"""Files a user attached to a message, as a conversation keeps them (no reading, no API types).

A text file is kept whole in the message, so the conversation file stays readable and
greppable; an image is kept once in the data folder under its hash (`attachments/<sha256>.<ext>`)
and only referenced here, so a conversation file never holds base64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

AttachmentKind = Literal["text", "image"]

# The image types the Chat Completions API takes as `image_url` data URLs, by file extension.
IMAGE_MEDIA_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


@dataclass
class Attachment:
    """One attached file, as it was when it was attached (what was shown is what is sent).

    `path` is where it was read from (absolute, as a record: it is never read again once
    attached); `name` is what the user sees and what the model is told. A text attachment's
    words are `text` (decoded with `encoding` when that was not UTF-8); an image's bytes are
    stored apart under `stored_name`, with its `media_type` and size in pixels.
    """

    kind: AttachmentKind
    name: str
    path: str
    sha256: str
    size: int  # bytes on disk when attached
    text: str = ""
    encoding: str | None = None  # None means UTF-8; else the fallback that decoded it
    media_type: str | None = None  # images: "image/png", ...
    width: int | None = None
    height: int | None = None
    # Keys found in the file that this version does not know: kept so a save never drops them.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stored_name(self) -> str:
        """An image's file name in the attachments folder: `<sha256>.<ext>`."""
        extension = next(
            (ext for ext, media in IMAGE_MEDIA_TYPES.items() if media == self.media_type), "bin"
        )
        return f"{self.sha256}.{extension}"

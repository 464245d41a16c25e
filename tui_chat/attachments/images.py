"""Which image a file's first bytes say it is, and its size in pixels, read from its header.

No Pillow: the four types the Chat Completions API takes all state their size within the first
few hundred bytes (JPEG's can come later, after metadata segments, so JPEG walks its segments).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Enough for every header here except a JPEG with large metadata, which `jpeg_size` walks.
HEADER_BYTES = 64


@dataclass(frozen=True)
class ImageHeader:
    """An image's media type and size in pixels (0 when the header does not say)."""

    media_type: str
    width: int
    height: int


def sniff_media_type(head: bytes) -> str | None:
    """The media type the magic bytes at the start of a file name, or None for other files."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_header(data: bytes) -> ImageHeader | None:
    """The media type and size of the image in `data`, or None when it is not one we send."""
    media_type = sniff_media_type(data[:HEADER_BYTES])
    if media_type is None:
        return None
    width, height = _SIZE_READERS[media_type](data)
    return ImageHeader(media_type, width, height)


def _png_size(data: bytes) -> tuple[int, int]:
    # The IHDR chunk always comes first: width and height are big-endian at bytes 16..24.
    if len(data) < 24 or data[12:16] != b"IHDR":
        return 0, 0
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _gif_size(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        return 0, 0
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:  # lossy: 14-bit sizes after the frame tag
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:  # lossless: 14-bit sizes minus one, packed
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:  # extended: 24-bit sizes minus one
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return 0, 0


# Start-of-frame markers carry the size; C4 (Huffman tables), C8 and CC (arithmetic
# conditioning) share the range but are not frames.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            return 0, 0
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return 0, 0


_SIZE_READERS = {
    "image/png": _png_size,
    "image/jpeg": _jpeg_size,
    "image/gif": _gif_size,
    "image/webp": _webp_size,
}

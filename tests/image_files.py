"""Small image files made by hand (no Pillow here): each a real header of its type, of a
chosen size in pixels, padded to a chosen number of bytes."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of `width` x `height` (every viewer opens it)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def gif(width: int, height: int) -> bytes:
    """A GIF header and logical screen of `width` x `height`, with an empty image."""
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x3b"


def jpeg(width: int, height: int, *, metadata_bytes: int = 0) -> bytes:
    """A JPEG's segments up to its frame header (after `metadata_bytes` of EXIF-like APP1
    data, which pushes the size further into the file), then the end marker."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b""
    if metadata_bytes:
        app1 = b"\xff\xe1" + struct.pack(">H", metadata_bytes + 2) + b"\x00" * metadata_bytes
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + frame + b"\xff\xd9"


def webp(width: int, height: int, form: str = "VP8X") -> bytes:
    """A WebP header of `width` x `height`: extended (VP8X), lossless (VP8L) or lossy (VP8)."""
    if form == "VP8X":
        payload = b"\x00\x00\x00\x00"
        payload += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    elif form == "VP8L":
        bits = (width - 1) | ((height - 1) << 14)
        payload = b"\x2f" + bits.to_bytes(4, "little")
    else:  # a key frame's tag, the start code, then 14-bit sizes
        payload = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    body = form.ljust(4).encode() + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def padded(image: bytes, size: int) -> bytes:
    """`image` with trailing bytes up to `size` (viewers ignore what follows the end)."""
    return image + b"\x00" * max(0, size - len(image))

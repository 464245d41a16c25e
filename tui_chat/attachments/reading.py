"""Reading a file the user attaches: text kept whole, an image stored by hash, anything else
refused in one sentence.

Blocking (callers run it in a thread). The file is looked at with `stat` before it is opened,
and opened without blocking, so a FIFO or device (`/dev/zero`) is refused, never read; reads
stop one byte past the limit, so a file that grows while it is read cannot fill memory.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tui_chat.attachments.images import image_header, sniff_media_type
from tui_chat.attachments.sizes import format_size
from tui_chat.domain.attachments import Attachment
from tui_chat.sanitize import one_line
from tui_chat.storage.attachments import ImageStore
from tui_chat.storage.errors import StorageError
from tui_chat.user_error import UserError

# Enough to tell an image from text by its magic bytes (the whole file is checked for NULs).
_SNIFF_BYTES = 8192
_READ_CHUNK = 1 << 20
# Open without waiting for a FIFO's writer, and without taking a terminal as ours.
_NO_WAIT_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


@dataclass(frozen=True)
class AttachLimits:
    """The largest files attached, in bytes."""

    text_bytes: int = 2_000_000
    # The Chat Completions API refuses images over 20 MB.
    image_bytes: int = 20_000_000


DEFAULT_LIMITS = AttachLimits()


class AttachmentRefused(UserError):
    """A file that cannot be attached; its str is one sentence, safe to show."""


def shown_name(path: str) -> str:
    """A path as it may be shown: control characters and escape sequences made inert, on one
    line."""
    return one_line(path)


def resolve_path(path: str, cwd: Path) -> Path:
    """`path` with `~` expanded, relative to `cwd` unless absolute."""
    return Path(cwd) / os.path.expanduser(path)


def read_attachment(
    path: str, *, cwd: Path, blobs: ImageStore, limits: AttachLimits = DEFAULT_LIMITS
) -> Attachment:
    """Read the file at `path` (relative to `cwd`, `~` allowed) as an attachment; an image's
    bytes are put in `blobs`. Raises AttachmentRefused with the reason in one sentence."""
    if not path.strip():
        raise AttachmentRefused("No file was named.")
    full = resolve_path(path, cwd)
    shown = shown_name(path)
    data = _read_regular_file(full, shown, limits)
    digest = hashlib.sha256(data).hexdigest()
    name = full.name or str(full)
    if sniff_media_type(data[:_SNIFF_BYTES]) is not None:
        return _store_image(data, name, str(full), digest, shown, blobs)
    text, encoding = _decode(data, shown)
    return Attachment(
        kind="text",
        name=name,
        path=str(full),
        sha256=digest,
        size=len(data),
        text=text,
        encoding=encoding,
    )


def _read_regular_file(full: Path, shown: str, limits: AttachLimits) -> bytes:
    """The bytes of the regular file at `full`; refused when it is another kind of file or
    larger than the limit for its kind."""
    try:
        status = os.stat(full)
        if not stat.S_ISREG(status.st_mode):
            raise AttachmentRefused(_not_regular_sentence(status.st_mode, shown))
        # O_NONBLOCK: if the name was swapped for a FIFO since the stat, open still returns
        # at once, and the fstat below refuses it (POSIX only; Windows has no FIFOs to open).
        descriptor = os.open(full, os.O_RDONLY | _NO_WAIT_FLAGS)
    except OSError as error:
        raise AttachmentRefused(_os_error_sentence(error, shown)) from None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        try:
            return _read_capped(handle, shown, limits)
        except OSError as error:
            raise AttachmentRefused(_os_error_sentence(error, shown)) from None


def _read_capped(handle: BinaryIO, shown: str, limits: AttachLimits) -> bytes:
    status = os.fstat(handle.fileno())
    if not stat.S_ISREG(status.st_mode):
        raise AttachmentRefused(_not_regular_sentence(status.st_mode, shown))
    if _NO_WAIT_FLAGS:
        os.set_blocking(handle.fileno(), True)
    chunks = [handle.read(_SNIFF_BYTES) or b""]
    is_image = sniff_media_type(chunks[0]) is not None
    limit = limits.image_bytes if is_image else limits.text_bytes
    total = len(chunks[0])
    # Read one byte past the limit and no further: enough to know a growing file is too large.
    while status.st_size <= limit and total <= limit:
        chunk = handle.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if max(total, status.st_size) > limit:
        kind = "images" if is_image else "text files"
        # A file that grew while read (or a /proc file, whose size says 0) is cut off unread.
        size = format_size(status.st_size) if status.st_size > limit else "over the limit"
        if size == format_size(limit):  # just over: rounded, it would read as the limit
            size = f"{status.st_size:,} bytes"
        raise AttachmentRefused(
            f"{shown} is {size}: {kind} are attached up to {format_size(limit)}."
        )
    return b"".join(chunks)


def _store_image(
    data: bytes, name: str, path: str, digest: str, shown: str, blobs: ImageStore
) -> Attachment:
    header = image_header(data)
    if header is None or not header.width or not header.height:
        raise AttachmentRefused(f"{shown} starts like an image but its header is damaged.")
    attachment = Attachment(
        kind="image",
        name=name,
        path=path,
        sha256=digest,
        size=len(data),
        media_type=header.media_type,
        width=header.width,
        height=header.height,
    )
    try:
        blobs.put(data, attachment)
    except StorageError as error:
        raise AttachmentRefused(error.sentence) from None
    return attachment


def _decode(data: bytes, shown: str) -> tuple[str, str | None]:
    """The text in `data` and the encoding it was decoded with (None for UTF-8).

    UTF-8 (a BOM is dropped), UTF-16 with a BOM, else Windows-1252 (what most "ANSI" files
    are), else Latin-1, which decodes any byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise AttachmentRefused(
                f"{shown} starts like UTF-16 text but does not decode as UTF-16."
            ) from None
    if b"\x00" in data:
        raise AttachmentRefused(
            f"{shown} is a binary file: only text and PNG, JPEG, GIF or WebP images are attached."
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined
        return data.decode("latin-1"), "latin-1"


def _not_regular_sentence(mode: int, shown: str) -> str:
    if stat.S_ISDIR(mode):
        return f"{shown} is a folder: attach the files in it one by one."
    if stat.S_ISFIFO(mode):
        what = "a named pipe"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "not a regular file"
    return f"{shown} is {what}, not a file: it is not read."


def _os_error_sentence(error: OSError, shown: str) -> str:
    reasons = {
        errno.ENOENT: f"There is no file {shown}.",
        errno.ENOTDIR: f"There is no file {shown}: a part of its path is a file, not a folder.",
        errno.EACCES: f"{shown} cannot be read: permission denied.",
        errno.EPERM: f"{shown} cannot be read: the operation is not permitted.",
        errno.ELOOP: f"{shown} is a symbolic link that loops back on itself.",
        errno.ENAMETOOLONG: f"The name {shown} is too long for this system.",
        errno.EISDIR: f"{shown} is a folder: attach the files in it one by one.",
    }
    found = reasons.get(error.errno or 0)
    if found is not None:
        return found
    return f"{shown} cannot be read: {one_line(error.strerror or str(error))}."

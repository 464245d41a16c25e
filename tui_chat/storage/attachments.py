"""The folder of attached images: each stored once under its hash, read back checked.

An image is copied here when it is attached, so what the user saw is what is sent even if the
file on disk changes or goes away; conversation files only name it (`<sha256>.<ext>`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from tui_chat.domain.attachments import Attachment
from tui_chat.sanitize import one_line
from tui_chat.storage.atomic import atomic_write_bytes, delete_file, make_private_dir
from tui_chat.storage.errors import StorageError
from tui_chat.storage.index import scan

# `trash empty` keeps images stored this recently even when no conversation names them yet:
# an image attached in a composer is stored before its message is sent and saved.
UNSENT_GRACE_SECONDS = 24 * 3600
_HASH = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_SHA256 = re.compile("[0-9a-f]{64}")


class ImageStore:
    """Image bytes by content, in `folder` (0700), each file 0600."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_of(self, attachment: Attachment) -> Path:
        """Where `attachment`'s bytes are (or would be) stored."""
        return self.folder / attachment.stored_name

    def put(self, data: bytes, attachment: Attachment) -> Path:
        """Store `data` for `attachment` (whose `sha256` must be the data's); a no-op when the
        same image is stored already (a file of another size there is damaged: replaced).
        Raises StorageError."""
        target = self.path_of(attachment)
        with contextlib.suppress(FileNotFoundError):
            if target.stat().st_size == len(data):
                # Fresh again: attached anew, it waits unsent under the grace of a new file.
                os.utime(target)
                return target
        try:
            make_private_dir(self.folder)
            atomic_write_bytes(target, data)
        except OSError as error:
            raise StorageError.from_os_error("store the image", target, error) from None
        return target

    def read(self, attachment: Attachment) -> bytes:
        """The stored bytes of `attachment`. Raises StorageError when they are missing or no
        longer match the hash recorded when it was attached."""
        path = self.path_of(attachment)
        name = one_line(attachment.name)
        if not _SHA256.fullmatch(attachment.sha256):
            # A hand-edited file could name any path here ("../../.ssh/id_rsa"): never read it.
            raise StorageError(
                f"The image {name} has no valid sha256 in its conversation file, so it is not sent."
            )
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StorageError(
                f"The stored copy of the image {name} is missing from {path.parent}.", path
            ) from None
        except OSError as error:
            raise StorageError.from_os_error("read the image", path, error) from None
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise StorageError(
                f"The stored copy of the image {name} has changed since it was attached.", path
            )
        return data

    def remove_unreferenced(self, referenced: Collection[str]) -> int:
        """Delete stored images whose hash is not in `referenced` (see `referenced_hashes`),
        sparing ones stored in the last day. Returns how many were deleted."""
        cutoff = time.time() - UNSENT_GRACE_SECONDS
        removed = 0
        try:
            stored = [path for path in self.folder.iterdir() if not path.name.startswith(".")]
        except FileNotFoundError:
            return 0
        except OSError as error:
            raise StorageError.from_os_error("list", self.folder, error) from None
        for path in stored:
            if path.name.split(".", 1)[0] in referenced:
                continue
            try:
                recent = path.stat().st_mtime >= cutoff
            except FileNotFoundError:
                continue
            if not recent:
                removed += delete_file(path)
        return removed


def referenced_hashes(folders: Iterable[Path]) -> set[str]:
    """Every sha256 the conversation files in `folders` mention, read as raw text (no parsing,
    so a broken or newer file still keeps its images). Any 64-hex-digit run counts: a hash
    quoted in a message keeps an image too, which errs on the side of keeping."""
    found: set[str] = set()
    for folder in folders:
        for name, _ in scan(folder):
            try:
                data = (folder / name).read_bytes()
            except FileNotFoundError:
                continue
            except OSError as error:
                raise StorageError.from_os_error("read", folder / name, error) from None
            found.update(match.decode("ascii") for match in _HASH.findall(data))
    return found

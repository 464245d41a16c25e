"""The folder of attached images: each stored once under its hash, read back checked.

An image is copied here when it is attached, so what the user saw is what is sent even if the
file on disk changes or goes away; conversation files only name it (`<sha256>.<ext>`).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Collection
from pathlib import Path

from tui_chat.domain.attachments import Attachment
from tui_chat.sanitize import one_line
from tui_chat.storage.atomic import atomic_write_bytes, make_private_dir
from tui_chat.storage.errors import StorageError

# `trash empty` keeps images stored this recently even when no conversation names them yet:
# an image attached in a composer is stored before its message is sent and saved.
UNSENT_GRACE_SECONDS = 24 * 3600


class ImageStore:
    """Image bytes by content, in `folder` (0700), each file 0600."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_of(self, attachment: Attachment) -> Path:
        """Where `attachment`'s bytes are (or would be) stored."""
        return self.folder / attachment.stored_name

    def put(self, data: bytes, attachment: Attachment) -> Path:
        """Store `data` for `attachment` (whose `sha256` must be the data's); a no-op when the
        same image is stored already. Raises StorageError."""
        target = self.path_of(attachment)
        if target.exists():
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
        """Delete stored images whose names are not in `referenced` (the `stored_name`s every
        live and trashed conversation holds), sparing ones stored in the last day. Returns how
        many were deleted."""
        cutoff = time.time() - UNSENT_GRACE_SECONDS
        removed = 0
        try:
            candidates = list(self.folder.iterdir())
        except FileNotFoundError:
            return 0
        except OSError as error:
            raise StorageError.from_os_error("list", self.folder, error) from None
        for path in candidates:
            if path.name in referenced or path.name.startswith("."):
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime >= cutoff:
                    continue
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                except OSError as error:
                    raise StorageError.from_os_error("delete", path, error) from None
                removed += 1
        return removed

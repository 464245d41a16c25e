"""What can go wrong when reading and writing conversation files, said so a user can act on it."""

from __future__ import annotations

import errno
from pathlib import Path


class ConversationFileError(Exception):
    """A conversation file that cannot be read as schema 1: it is listed, never rewritten."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else str(self.path)
        return f"{where}: {self.reason}."


class StorageError(Exception):
    """The disk refused a read or write (read-only folder, disk full, permissions)."""

    def __init__(self, sentence: str, path: Path | None = None) -> None:
        self.sentence = sentence
        self.path = path
        super().__init__(sentence)

    @classmethod
    def from_os_error(cls, action: str, path: Path, error: OSError) -> StorageError:
        """Turn an OSError into one sentence, e.g. `Could not save x.toml: the disk is full.`"""
        reasons = {
            errno.ENOSPC: "the disk is full",
            errno.EDQUOT: "the disk quota is used up",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied (is the folder read-only?)",
            errno.EPERM: "the operation is not permitted",
            errno.ENOENT: "the file or folder does not exist",
            errno.ENOTDIR: "a part of the path is a file, not a folder",
            errno.EISDIR: "it is a folder, not a file",
            errno.EFBIG: "the file would be larger than this system allows",
        }
        reason = reasons.get(error.errno or 0, error.strerror or str(error))
        return cls(f"Could not {action} {path}: {reason}.", path)


class InvalidConversationId(ValueError):
    """An id that could name a file outside the conversations folder, or no file at all."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        super().__init__(f"{conversation_id!r} is not a valid conversation id.")


class ConversationNotFound(FileNotFoundError):
    """No conversation (or trashed conversation) with that id."""

    def __init__(self, conversation_id: str, where: str = "conversations") -> None:
        self.conversation_id = conversation_id
        super().__init__(f"There is no conversation {conversation_id!r} in {where}.")

    def __str__(self) -> str:
        return str(self.args[0])

"""Which conversation was open when tui-chat last closed, so the next start opens it again.

One line in the cache folder (`cache/last-open`): state that is safe to lose (the app then
opens the newest conversation, as before), kept out of the conversation files (which other
machines sync) and out of config.toml (which is the user's to write).
"""

from __future__ import annotations

from pathlib import Path

from tui_chat.storage.atomic import atomic_write_text, make_private_dir
from tui_chat.storage.errors import InvalidConversationId, StorageError
from tui_chat.storage.store import validate_id

FILE_NAME = "last-open"


class LastOpen:
    """Reads and writes the id of the conversation open at the last exit."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.path = cache_dir / FILE_NAME

    def read(self) -> str | None:
        """The id recorded at the last exit; None when there is none or it cannot be read (a
        missing or damaged note only means the newest conversation opens)."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            return validate_id(text)
        except (OSError, UnicodeDecodeError, InvalidConversationId):
            return None

    def write(self, conversation_id: str) -> None:
        """Record the open conversation. Raises StorageError when the disk refuses."""
        try:
            make_private_dir(self.cache_dir)
            atomic_write_text(self.path, conversation_id + "\n")
        except OSError as error:
            raise StorageError.from_os_error(
                "remember the open conversation", self.path, error
            ) from None

"""What the app was started on from the shell: a conversation to open, text for the composer.

Plain data, so the command line builds it without importing Textual.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StartRequest:
    """`conversation_id`: open it at start (`tui-chat open ID`, `tui-chat -c`) instead of the one
    open at the last exit. `composer_text`: start on a new conversation whose composer holds it
    (`git diff | tui-chat`)."""

    conversation_id: str | None = None
    composer_text: str = ""

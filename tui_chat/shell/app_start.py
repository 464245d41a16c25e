"""Starting the full-screen app from the shell on something: `tui-chat open ID`, `tui-chat -c`
(the most recently updated conversation) and `git diff | tui-chat` (a new conversation whose
composer holds the piped text).

Piped into, the app cannot read keys from standard input (it is the pipe): once the pipe is
read, standard input becomes the controlling terminal (/dev/tty), where keys come from.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tui_chat.config import Config, ConfigProblem
from tui_chat.paths import AppPaths
from tui_chat.storage.errors import ConversationNotFound
from tui_chat.storage.store import ConversationStore, id_typed_by_user
from tui_chat.user_error import UserError

CONTROLLING_TERMINAL = "/dev/tty"


def start_app(
    paths: AppPaths,
    config: Config,
    problems: list[ConfigProblem],
    *,
    open_id: str | None = None,
    open_latest: bool = False,
    piped: str | None = None,
) -> int:
    """Run the app, on `open_id`, on the latest conversation, or on `piped` text (standard input
    was a pipe); returns the exit code. Raises UserError (no terminal to show piped text on) and
    ConversationNotFound."""
    if open_id is not None:
        open_id = id_typed_by_user(open_id)
        if not ConversationStore(paths).path_for(open_id).exists():
            raise ConversationNotFound(open_id)
    elif open_latest:
        latest = ConversationStore(paths).most_recent()
        open_id = latest.id if latest is not None else None
    if piped is not None:
        _read_keys_from_the_terminal()
    from tui_chat.ui.app import run_app  # Textual loads only when the app starts
    from tui_chat.ui.start_request import StartRequest

    return run_app(
        paths, config, problems, StartRequest(conversation_id=open_id, composer_text=piped or "")
    )


def read_piped(stream: TextIO) -> str | None:
    """Standard input read whole when it is not a terminal (a pipe, a file), else None.
    Decoded leniently: a log holding invalid UTF-8 must not stop the question."""
    if stream.isatty():
        return None
    return stream.buffer.read().decode("utf-8", errors="replace")


def _read_keys_from_the_terminal() -> None:
    """Standard input was the pipe, read by now: make it the controlling terminal."""
    try:
        terminal = os.open(CONTROLLING_TERMINAL, os.O_RDWR)
    except OSError:
        raise UserError(
            "the app needs a terminal to show itself and read keys, and there is none: "
            "use `tui-chat ask` to send piped text from a script."
        ) from None
    # Textual reads keys from file descriptor 0 (sys.__stdin__).
    os.dup2(terminal, sys.stdin.fileno())
    os.close(terminal)

"""The conversation flow below the UI: send a prompt, stream and record the reply, save it, and
shorten a conversation that grew too long for its model.

Nothing here imports Textual. The chat screen runs a `ReplyFlow` in a worker and repaints from
its events; the shell commands drive the same code. Imports point one way: flow -> engine,
storage, domain.
"""

from tui_chat.flow.events import (
    FlowEvent,
    FlowListener,
    ReplyEnded,
    ReplyStarted,
    ReplyUpdated,
    Saved,
    SaveFailed,
)
from tui_chat.flow.saving import BackgroundSaver, SaveReport, save_conversation
from tui_chat.flow.send import (
    IN_PROGRESS,
    PERIODIC_SAVE_SECONDS,
    ReplyFlow,
    mark_unfinished_replies,
)
from tui_chat.flow.shorten import ShorterFork, plan_shorter_fork

__all__ = [
    "IN_PROGRESS",
    "PERIODIC_SAVE_SECONDS",
    "BackgroundSaver",
    "FlowEvent",
    "FlowListener",
    "ReplyEnded",
    "ReplyFlow",
    "ReplyStarted",
    "ReplyUpdated",
    "SaveFailed",
    "SaveReport",
    "Saved",
    "ShorterFork",
    "mark_unfinished_replies",
    "plan_shorter_fork",
    "save_conversation",
]

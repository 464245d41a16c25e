"""Tool calls the model asked for, as a conversation keeps them (no MCP, no API types)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

# pending: waiting for the user's approval (a file saved then, by a hang-up, keeps it so);
# running; done; failed (the tool or its server said so); declined (by the user); interrupted
# (Esc, quit or hang-up before it finished); skipped (past the limit of rounds, never run).
ToolCallStatus = Literal[
    "pending", "running", "done", "failed", "declined", "interrupted", "skipped"
]
TOOL_CALL_STATUSES: tuple[ToolCallStatus, ...] = (
    "pending",
    "running",
    "done",
    "failed",
    "declined",
    "interrupted",
    "skipped",
)


@dataclass
class ToolCall:
    """One call in an assistant message: the model's id for it, the tool's name as the model
    called it, and its arguments as the JSON text the model sent (kept as sent, even when it is
    not valid JSON). Its result is kept on the call, so a file keeps each call and what came of
    it in one `[[messages.tool_calls]]` table, which a tui-chat from before tools keeps as an
    unknown key (a `role = "tool"` message would make it reject the whole file)."""

    id: str
    name: str
    arguments: str
    status: ToolCallStatus = "pending"
    seconds: float | None = None  # how long it ran
    # What the model is told of the call once it settled: the tool's output (cut to the limit,
    # with the notice of the cut in the text), or why it did not run. None while unsettled.
    result: str | None = None
    # Keys found in the file that this version does not know: kept so a save never drops them.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        """True once nothing more will happen to the call."""
        return self.status not in ("pending", "running")

    def copy(self) -> ToolCall:
        """A copy whose later changes (status, result) leave this call alone."""
        return replace(self, extra=dict(self.extra))

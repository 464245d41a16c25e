"""The question before a tool runs: which server, which tool, exactly which arguments.

y runs it this once, a runs this tool unasked from now on (saved to config.toml), n declines
(the model is told), Esc stops the reply (the call is kept, marked interrupted). The keys are
the dialog's own, as in the other dialogs: single letters that every terminal sends as typed.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui_chat.domain.tools import ToolCall
from tui_chat.flow.tool_round import Approval
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.tools import ToolSpec


def shown_arguments(arguments: str) -> str:
    """The arguments as the model sent them: laid out when they are a JSON object (same
    content), as sent otherwise; inert either way."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return sanitize_for_terminal(arguments)
    return sanitize_for_terminal(json.dumps(parsed, indent=2, ensure_ascii=False))


class ToolApprovalDialog(ModalScreen[Approval | None]):
    """Asks whether one tool call may run. Dismisses with "once", "always", "decline", or
    None (Esc: stop the reply)."""

    CSS_PATH = "tool_approval.tcss"

    BINDINGS = [
        Binding("y", "answer('once')", "Run once"),
        Binding("a", "answer('always')", "Always"),
        Binding("n", "answer('decline')", "Decline"),
        Binding("escape", "stop", "Stop reply"),
    ]

    def __init__(self, call: ToolCall, spec: ToolSpec) -> None:
        super().__init__(classes="dialog")
        self.call = call
        self.spec = spec

    def compose(self) -> ComposeResult:
        name = sanitize_for_terminal(self.spec.name)
        with Vertical(classes="dialog-box tool-approval") as box:
            box.border_title = "Run a tool?"
            yield Label(
                f"{name} from MCP server {sanitize_for_terminal(self.spec.server)} wants to run"
                " with:",
                classes="dialog-question",
            )
            with VerticalScroll(classes="tool-arguments"):
                yield Static(shown_arguments(self.call.arguments) or "(no arguments)", markup=False)
            yield Label(
                f"y run once · a always run {name} (saved to config) · n decline · Esc stop",
                classes="dialog-hint",
            )

    def action_answer(self, answer: Approval) -> None:
        self.dismiss(answer)

    def action_stop(self) -> None:
        self.dismiss(None)

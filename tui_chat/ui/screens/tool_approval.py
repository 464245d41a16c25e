"""The question before a tool runs: which server, which tool, exactly which arguments.

y runs it this once, a runs this tool unasked from now on (saved to config.toml), n declines
(the model is told), Esc stops the reply (the call is kept, marked interrupted). The keys come
from the action registry (scope TOOL_APPROVAL), so `[keys]` remaps them and the keys screen and
the dialog's key line show them as they are.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui_chat.domain.tools import ToolCall
from tui_chat.flow.tool_round import Approval
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.tools import ToolSpec
from tui_chat.ui.actions import KeyMap, Scope, actions_in
from tui_chat.ui.bindings import TOOL_APPROVAL_BINDINGS, key_names


def shown_arguments(arguments: str) -> str:
    """The arguments as the model sent them: laid out when they are a JSON object (same
    content), as sent otherwise; inert either way."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return sanitize_for_terminal(arguments)
    return sanitize_for_terminal(json.dumps(parsed, indent=2, ensure_ascii=False))


NO_BREAK = "\u00a0"


def key_line(key_map: KeyMap) -> str:
    """'y run once · a always (saved to config) · n decline · Esc stop': the dialog's keys in
    force, with their words from the registry. A narrow box wraps the line between keys only,
    never between a key and its words."""
    words = []
    for action in actions_in(Scope.TOOL_APPROVAL):
        keys = key_map.keys_of(action.id)
        if keys:
            shown = action.key_display if keys == action.keys and action.key_display else None
            words.append(f"{shown or key_names(keys, joiner='/')} {action.footer}")
    return " · ".join(word.replace(" ", NO_BREAK) for word in words)


class ToolApprovalDialog(ModalScreen[Approval | None]):
    """Asks whether one tool call may run. Dismisses with "once", "always", "decline", or
    None (Esc: stop the reply)."""

    CSS_PATH = "tool_approval.tcss"

    BINDINGS = TOOL_APPROVAL_BINDINGS

    def __init__(self, call: ToolCall, spec: ToolSpec, key_map: KeyMap) -> None:
        super().__init__(classes="dialog")
        self.call = call
        self.spec = spec
        self.key_map = key_map

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
            yield Label(key_line(self.key_map), classes="dialog-hint", markup=False)

    def action_answer(self, answer: Approval) -> None:
        self.dismiss(answer)

    def action_stop(self) -> None:
        self.dismiss(None)

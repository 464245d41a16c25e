"""What the rest of tui-chat knows of a tool and of one call's outcome (no SDK types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_chat.sanitize import sanitize_for_terminal


@dataclass(frozen=True)
class ToolSpec:
    """One tool an MCP server offers.

    `api_name` is the name the model sees and calls: the tool's own name, or `server__name` when
    two servers offer a tool of one name (Chat Completions needs names unique in a request).
    """

    server: str
    name: str
    description: str
    input_schema: dict[str, Any] = field(hash=False)
    api_name: str

    @property
    def key(self) -> str:
        """ "server/tool": how a conversation names the tool it switched off."""
        return f"{self.server}/{self.name}"

    def definition(self) -> dict[str, Any]:
        """The Chat Completions `tools` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.api_name,
                "description": self.description,
                "parameters": self.input_schema or {"type": "object", "properties": {}},
            },
        }


@dataclass(frozen=True)
class ToolOutcome:
    """What one call gave: the text for the model and the pane, and whether it failed.

    A failure (the tool's own error, invalid arguments, an unknown tool, a server that died or
    hung) is an outcome too: the model is told, and the chat goes on.
    """

    text: str
    failed: bool = False


def no_such_tool(name: str) -> ToolOutcome:
    """What the model is told when it calls a tool it was not offered."""
    return ToolOutcome(f"There is no tool named {sanitize_for_terminal(name)!r}.", True)

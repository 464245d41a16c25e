"""What the chat screen does about tools: ask the user before a call runs, repaint calls as
they change, say what went wrong with a server. A helper the screen owns (it imports nothing of
the screen), so the screen only hands it the flow's tool events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App

from tui_chat.domain.conversation import Conversation
from tui_chat.domain.tools import ToolCall
from tui_chat.flow.events import FlowEvent, ToolCallChanged, ToolRoundsLimitReached
from tui_chat.flow.tool_round import Approval
from tui_chat.tools import ToolBox, ToolSpec
from tui_chat.ui.actions import KeyMap
from tui_chat.ui.screens.tool_approval import ToolApprovalDialog
from tui_chat.ui.screens.tools_list import ToolsScreen
from tui_chat.ui.widgets.message_pane import MessagePane


class ChatTools:
    """Approvals and tool events for one chat screen."""

    def __init__(
        self,
        app: App[None],
        toolbox: ToolBox,
        key_map: KeyMap,
        stop_reply: Callable[[], None],
    ) -> None:
        self.app = app
        self.toolbox = toolbox
        self.key_map = key_map
        self.stop_reply = stop_reply
        toolbox.notice = self._server_trouble

    def reply_starting(self) -> None:
        """Before the first reply that offers tools, the servers start (seconds): say so, as
        nothing else moves meanwhile."""
        if self.toolbox.configured and not self.toolbox.started:
            self.app.notify("Starting the MCP servers for their tools…", timeout=5)

    async def approve(self, call: ToolCall, spec: ToolSpec) -> Approval:
        """The flow's approver: the dialog's answer; Esc stops the whole reply (runs in the
        reply's worker, as dialogs that wait for an answer must)."""
        answer = await self.app.push_screen_wait(ToolApprovalDialog(call, spec, self.key_map))
        if answer is None:
            self.stop_reply()
            await asyncio.sleep(0)  # the cancel lands here: the call is marked interrupted
            return "decline"  # only if the reply could not be stopped
        if answer == "always":
            self.app.notify(f"{spec.name} will run without asking (saved to config.toml).")
        return answer

    async def show_tools(self, conversation: Conversation, saved: Callable[[], None]) -> None:
        """The palette's "Tools": list them (starting the servers if need be); what the user
        switches off is kept with the conversation (`saved` then saves it)."""
        if not self.toolbox.configured:
            self.app.notify(
                "No MCP server is configured: add [mcp_servers.NAME] to config.toml (README).",
                timeout=8,
            )
            return
        specs = await self.toolbox.tools()
        off = await self.app.push_screen_wait(
            ToolsScreen(specs, conversation.tools_off, self.toolbox.problems())
        )
        if off != conversation.tools_off:
            conversation.tools_off = off
            saved()

    def flow_event(self, event: FlowEvent, pane: MessagePane) -> None:
        """Repaint a call that changed."""
        if isinstance(event, ToolCallChanged):
            pane.message_changed(event.message_index)
        elif isinstance(event, ToolRoundsLimitReached):
            self.app.notify(
                f"The model called tools {event.limit} rounds in a row: it was asked to answer"
                " without more.",
                severity="warning",
            )

    def _server_trouble(self, sentence: str) -> None:
        self.app.notify(sentence, title="Tools", severity="warning", timeout=10)

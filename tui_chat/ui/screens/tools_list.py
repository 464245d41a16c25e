"""The palette's "Tools": every tool the MCP servers offer (server, name, description), each
switchable off for the open conversation, and a line for each server that is not available."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList
from textual.widgets.selection_list import Selection

from tui_chat.sanitize import one_line, sanitize_for_terminal
from tui_chat.tools import ToolSpec

PROMPT_CELLS = 60  # a tool's line, cut to fit the box at 80 columns


def tool_prompt(spec: ToolSpec) -> Content:
    """`time · get_current_time — Get current time in a specific timezone`: the server, the
    tool and, dimmed, the first line of its description, on one line."""
    first_line = next((ln for ln in spec.description.splitlines() if ln.strip()), "")
    description = one_line(first_line)
    head = f"{sanitize_for_terminal(spec.server)} · {sanitize_for_terminal(spec.name)}"
    prompt = Content(head)
    if description:
        prompt = Content.assemble(prompt, Content(f" — {description}").stylize("dim"))
    return prompt.truncate(PROMPT_CELLS, ellipsis=True)


class ToolsScreen(ModalScreen[list[str]]):
    """Lists the tools; space switches one off or on for this conversation. Esc closes and
    dismisses with the keys ("server/tool") of the tools switched off."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, specs: Sequence[ToolSpec], off: Sequence[str], problems: Sequence[str]):
        super().__init__(classes="dialog")
        self.specs = list(specs)
        self.off = set(off)
        self.problems = list(problems)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Tools"
            if self.specs:
                yield SelectionList[str](
                    *(
                        Selection(tool_prompt(spec), spec.key, spec.key not in self.off)
                        for spec in self.specs
                    ),
                    id="tools",
                )
            else:
                yield Label("No tools: no MCP server is up.", classes="dialog-question")
            for problem in self.problems:
                yield Label(sanitize_for_terminal(problem), classes="dialog-question")
            yield Label("space: on / off for this conversation · Esc closes", classes="dialog-hint")

    def action_close(self) -> None:
        if not self.specs:
            self.dismiss(sorted(self.off))
            return
        on = set(self.query_one(SelectionList).selected)
        # Tools switched off earlier whose server is down now stay off.
        shown = {spec.key for spec in self.specs}
        self.dismiss(sorted((self.off - shown) | (shown - on)))

"""How tool calls look in the message pane: one line per call under the reply that asked for it
(tool, status, time, arguments), and each result collapsed to one line that Enter expands.

Only text is built here; `MessageBlock` turns it into lines. Everything a model or a tool wrote
passes through `sanitize_for_terminal` first.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui_chat.domain.conversation import Message
from tui_chat.domain.tools import ToolCall, ToolCallStatus
from tui_chat.sanitize import one_line

STATUS_WORDS: dict[ToolCallStatus, str] = {
    "pending": "waiting for your approval",
    "running": "running…",
    "done": "✓ done",
    "failed": "✗ failed",
    "declined": "⊘ declined",
    "interrupted": "■ interrupted",
    "skipped": "⊘ not run (too many rounds)",
}
EXPAND_HINT = "Enter shows it"
COLLAPSE_HINT = "Enter hides it"


def call_line(call: ToolCall, meta: Style, warning: Style) -> Text:
    """`⚙ get_current_time · ✓ done · 0.12 s · {"timezone": "UTC"}`: the arguments last, as
    they are what a narrow pane cuts (the full call is in the approval dialog and the file)."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(f"⚙ {one_line(call.name)}", meta)
    status_style = warning if call.status in ("failed", "interrupted", "pending") else meta
    line.append(f" · {STATUS_WORDS[call.status]}", status_style)
    if call.seconds is not None:
        line.append(f" · {call.seconds:.2f} s", meta)
    if call.arguments.strip():
        line.append(f" · {one_line(call.arguments)}", meta)
    return line


def result_summary(message: Message, expanded: bool, meta: Style) -> Text:
    """The collapsed line of a tool result: how long it is, and the key that shows it."""
    lines = message.content.count("\n") + 1 if message.content else 0
    size = f"{lines} line{'s' if lines != 1 else ''}, {len(message.content)} characters"
    hint = COLLAPSE_HINT if expanded else EXPAND_HINT
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(f"↳ result: {size} · {hint}", meta)
    return text

"""The Rich styles the message pane's CSS gives the parts of its lines, built once per change.

Message blocks are rendered into cached Strips, so they need plain Rich styles, not CSS:
`PaneStyles` reads the pane's component classes (through a function the pane gives it) into the
`RenderContext` the blocks draw with and the gutter bars left of each line, and says when a CSS
change (a new theme) recoloured them, so the pane renders its blocks again only then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Message
from tui_chat.engine.tokens import TokenCount
from tui_chat.ui.widgets.markdown_lines import (
    MARKDOWN_STYLE_ROLES,
    MarkdownRenderer,
    MarkdownStyles,
)
from tui_chat.ui.widgets.message_block import BlockStyles, RenderContext
from tui_chat.ui.widgets.row_diff import GUTTER

_MARKDOWN_ROLES = sorted(set(MARKDOWN_STYLE_ROLES.values()))

PANE_COMPONENT_CLASSES = frozenset(
    {
        "message-pane--user-role",
        "message-pane--assistant-role",
        "message-pane--user-text",
        "message-pane--meta",
        "message-pane--error",
        "message-pane--warning",
        "message-pane--gutter-user",
        "message-pane--gutter-assistant",
        "message-pane--gutter-selected",
        "message-pane--hint",
        *(f"message-pane--{role}" for role in _MARKDOWN_ROLES),
    }
)
"""The pane's component classes (message_pane.tcss styles them)."""

_BARS = {"user": "▏", "assistant": "▏", "selected": "┃"}


class PaneStyles:
    """The render context and gutter bars, from `style_of(component class)`."""

    def __init__(self, style_of: Callable[[str], Style]) -> None:
        self._style_of = style_of
        self._context: RenderContext | None = None
        self._colours: object = None  # what the context's colours were built from
        self._gutters: dict[str, Strip] = {}

    def _read(self) -> tuple[MarkdownStyles, BlockStyles]:
        style = self._style_of
        roles = {role: style(f"message-pane--{role}") for role in _MARKDOWN_ROLES}
        block_styles = BlockStyles(
            user_role=style("message-pane--user-role"),
            assistant_role=style("message-pane--assistant-role"),
            meta=style("message-pane--meta"),
            error=style("message-pane--error"),
            warning=style("message-pane--warning"),
            user_text=style("message-pane--user-text"),
        )
        return MarkdownStyles(roles), block_styles

    def context(
        self,
        console: Console,
        code_theme: str,
        token_label: Callable[[Message], str] | None,
        attachment_count: Callable[[Attachment], TokenCount | None] | None = None,
    ) -> RenderContext:
        """What the blocks render with; built on first use after a change, then kept."""
        if self._context is None:
            markdown_styles, block_styles = self._read()
            self._context = RenderContext(
                renderer=MarkdownRenderer(console, code_theme, markdown_styles),
                styles=block_styles,
                token_label=token_label,
                attachment_count=attachment_count,
                now=datetime.now().astimezone(),
            )
            self._colours = (markdown_styles.key, block_styles)
        return self._context

    def forget_context(self) -> None:
        """Build the context again on next use (the code theme or the token label changed)."""
        self._context = None

    def restyled(self) -> bool:
        """The pane's CSS was applied again: forget what was built from it. True when the
        colours the blocks were rendered in changed (a new theme): every cached line is stale."""
        self._gutters = {}
        if self._context is None:
            return False
        self._context = None
        markdown_styles, block_styles = self._read()
        return (markdown_styles.key, block_styles) != self._colours

    def gutter(self, kind: str) -> Strip:
        """The bar left of a line: "user", "assistant", "selected", or "" (none)."""
        if not self._gutters:
            for bar_kind, bar in _BARS.items():
                style = self._style_of(f"message-pane--gutter-{bar_kind}")
                # One segment, bar and space: a space shows no colour, and a segment costs bytes.
                self._gutters[bar_kind] = Strip([Segment(bar.ljust(GUTTER), style)], GUTTER)
            self._gutters[""] = Strip.blank(GUTTER)
        return self._gutters[kind]

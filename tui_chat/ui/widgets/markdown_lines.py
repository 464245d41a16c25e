"""Markdown text turned into cached terminal lines (Strips), one top-level block at a time.

The message pane never lays out a tree of Markdown widgets. A reply is cut into top-level blocks at
blank lines outside code fences; each block is rendered once per width with Rich's Markdown
renderable into Strips and reused. While a reply streams only the unfinished last block (the
"tail") is rendered again, so the cost of an update does not grow with the length of the reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.strip import Strip

from tui_chat.ui.code_styles import valid_code_theme

if TYPE_CHECKING:
    from rich.markdown import Markdown
    from rich.syntax import Syntax

# A fence opens with three or more backticks or tildes; inside a list item it may be indented.
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})")

# A top-level list item: a bullet or a number at column 0, then a space.
_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]")


def split_blocks(text: str) -> tuple[list[str], int]:
    """Cut `text` into finished top-level Markdown blocks and the offset where the tail starts.

    A block ends at a blank line outside a code fence once the next non-blank line has started at
    column 0 (an indented line continues a list item or a code block, so it is not a new block).
    Everything from the returned offset on is the unfinished tail: it may still grow into a longer
    paragraph, list, table or fence. Splitting is deterministic, so a finished message cut here
    renders exactly as it looked while it streamed.
    """
    blocks: list[str] = []
    block_start = 0
    blank_at: int | None = None  # offset of the first blank line after the current block's text
    fence: tuple[str, int] | None = None
    pos = 0
    length = len(text)
    while pos < length:
        newline = text.find("\n", pos)
        complete = newline != -1
        end = newline + 1 if complete else length
        line = text[pos:end]
        if fence is not None:
            if complete and _closes_fence(line, fence):
                fence = None
            pos = end
            continue
        if not line.strip():
            if complete and blank_at is None and pos > block_start:
                blank_at = pos
            if not complete:
                break
            pos = end
            continue
        if blank_at is not None and not line[0].isspace():
            blocks.append(text[block_start:blank_at].rstrip("\n"))
            block_start = pos
        blank_at = None
        if not complete:
            break
        opened = _FENCE_OPEN.match(line)
        if opened:
            marker = opened.group(1)
            fence = (marker[0], len(marker))
        pos = end
    return blocks, block_start


def _closes_fence(line: str, fence: tuple[str, int]) -> bool:
    char, count = fence
    stripped = line.strip()
    return len(stripped) >= count and stripped == char * len(stripped)


def open_fence(tail: str) -> tuple[str, int] | None:
    """(lexer name, offset of the code) when `tail` is a fenced code block still being written.

    Only a fence at column 0 that opens the tail and has no closing line yet counts; the pane
    renders such a block in fixed chunks of lines so a long code block streams at a flat cost.
    """
    opened = _FENCE_OPEN.match(tail)
    first_end = tail.find("\n")
    if opened is None or first_end == -1 or tail[0] not in "`~":
        return None
    marker = opened.group(1)
    fence = (marker[0], len(marker))
    info = tail[opened.end() : first_end].strip()
    pos = first_end + 1
    while (newline := tail.find("\n", pos)) != -1:
        if _closes_fence(tail[pos : newline + 1], fence):
            return None
        pos = newline + 1
    return info.partition(" ")[0] or "text", first_end + 1


def list_item_starts(tail: str) -> list[int] | None:
    """Offsets where top-level list items start, when `tail` is a list; else None.

    The pane renders a long list that is still streaming in chunks of items, so each update
    renders a bounded number of items however long the list grows.
    """
    if not _LIST_ITEM.match(tail):
        return None
    starts = [0]
    pos = 0
    while (newline := tail.find("\n", pos)) != -1:
        pos = newline + 1
        if _LIST_ITEM.match(tail, pos):
            starts.append(pos)
    return starts


def code_blocks(text: str) -> list[str]:
    """The contents of every fenced or indented code block in Markdown `text`, in order."""
    from markdown_it import MarkdownIt  # see _chat_markdown for why it is imported here

    tokens = MarkdownIt().parse(text)
    return [token.content for token in tokens if token.type in ("fence", "code_block")]


@cache
def _chat_markdown() -> type[Markdown]:
    """Rich's Markdown with headings aligned left: a centred title reads oddly in a message.

    Imported on first use: Rich's Markdown brings markdown-it and Pygments' lexers (~35 ms),
    which start-up does not need before a message is drawn.
    """
    from rich.markdown import Heading, Markdown

    class LeftHeading(Heading):
        LEVEL_ALIGN: ClassVar[dict[str, str]] = {  # type: ignore[assignment]
            f"h{level}": "left" for level in range(1, 7)
        }

    class ChatMarkdown(Markdown):
        elements: ClassVar = {**Markdown.elements, "heading_open": LeftHeading}

    return ChatMarkdown


# Rich looks its Markdown styles up by these names; each maps to one of the pane's component
# classes (see MarkdownStyles), so colours come from the app's theme, not from Rich's defaults.
MARKDOWN_STYLE_ROLES: Mapping[str, str] = {
    "markdown.h1": "heading",
    "markdown.h2": "heading",
    "markdown.h3": "heading",
    "markdown.h4": "heading",
    "markdown.h5": "heading",
    "markdown.h6": "heading",
    "markdown.h7": "heading",
    "markdown.h1.border": "heading",
    "markdown.code": "inline-code",
    "markdown.code_block": "inline-code",
    "markdown.block_quote": "quote",
    "markdown.list": "list-marker",
    "markdown.item.bullet": "list-marker",
    "markdown.item.number": "list-marker",
    "markdown.hr": "rule",
    "markdown.link": "link",
    "markdown.link_url": "link",
    "markdown.table.border": "rule",
    "markdown.table.header": "table-header",
    "markdown.kbd": "inline-code",
}

# Emphasis that distinguishes heading levels; colour comes from the theme.
_HEADING_EMPHASIS: Mapping[str, Style] = {
    "markdown.h1": Style(bold=True, underline=True),
    "markdown.h2": Style(bold=True),
    "markdown.h3": Style(bold=True, italic=True),
    "markdown.h4": Style(italic=True),
}


@dataclass(frozen=True)
class MarkdownStyles:
    """The Rich theme Markdown is rendered with, built from the pane's component-class styles."""

    roles: Mapping[str, Style]

    def rich_theme(self) -> Theme:
        styles: dict[str, Style] = {}
        for name, role in MARKDOWN_STYLE_ROLES.items():
            style = self.roles.get(role, Style())
            styles[name] = style + _HEADING_EMPHASIS.get(name, Style())
        return Theme(styles, inherit=True)

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        """Identifies the look: when it changes, cached lines are stale."""
        return tuple(sorted((role, str(style)) for role, style in self.roles.items()))


class MarkdownRenderer:
    """Renders Markdown and plain text into Strips with one console, code theme and style set."""

    def __init__(self, console: Console, code_theme: str, styles: MarkdownStyles) -> None:
        self.console = console
        self.code_theme = valid_code_theme(code_theme)
        self.styles = styles
        self._theme = styles.rich_theme()

    def markdown(self, text: str, width: int) -> list[Strip]:
        """One Markdown block (or several) rendered at `width`, without trailing blank lines."""
        renderable = _chat_markdown()(text, code_theme=self.code_theme, hyperlinks=False)
        return self._render(renderable, width)

    def plain(self, text: str, width: int, style: Style | None = None) -> list[Strip]:
        """Plain text wrapped at `width` (user messages are shown as typed, not as Markdown)."""
        return self._render(Text(text, style=style or Style()), width)

    def code(self, code: str, lexer: str, width: int, *, top: int, bottom: int) -> list[Strip]:
        """Lines of a code block as Rich's Markdown draws them, with chosen vertical padding."""
        from rich.syntax import Syntax  # with Markdown, off the start-up path

        syntax = Syntax(
            code, lexer, theme=self.code_theme, word_wrap=True, padding=(top, 1, bottom, 1)
        )
        return self._render(syntax, width)

    def text(self, text: Text, width: int) -> list[Strip]:
        """Styled Rich Text wrapped at `width`."""
        return self._render(text, width)

    def _render(self, renderable: Markdown | Text | Syntax, width: int) -> list[Strip]:
        width = max(1, width)
        options = self.console.options.update(width=width, height=None, highlight=False)
        with self.console.use_theme(self._theme):
            lines = self.console.render_lines(renderable, options, pad=False)
        strips = [Strip(line) for line in lines]
        # Rich opens lists and tables with a blank line and may end with one; the pane puts
        # exactly one blank line between blocks itself.
        start = 0
        while start < len(strips) and _is_blank(strips[start]):
            start += 1
        end = len(strips)
        while end > start and _is_blank(strips[end - 1]):
            end -= 1
        return strips[start:end]


def _is_blank(strip: Strip) -> bool:
    # A code block's padding line is blank text on a coloured background: that one stays.
    return not strip.text.strip() and not any(
        segment.style is not None and segment.style.bgcolor for segment in strip
    )

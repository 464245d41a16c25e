"""How an attached file reads on screen: one line with its name, size and tokens, the same in
the strip above the composer and under the message it was sent with.

Only text is built here. A file's name comes from the disk and may hold escape sequences or
newlines: it passes through `one_line` (inert, on one line) before it is shown; so does the
text of an unfolded attachment, through `sanitize_for_terminal`.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui_chat.attachments.sizes import format_size
from tui_chat.domain.attachments import Attachment
from tui_chat.engine.tokens import TokenCount
from tui_chat.sanitize import one_line
from tui_chat.ui.widgets.thinking_lines import FOLDED, UNFOLDED

# East Asian Wide emoji, two cells in every terminal and in Rich alike. (🖼 is not: Rich counts
# it one cell and most terminals draw two, which shifts the rest of the line.) One place to
# change them for a terminal without emoji.
TEXT_MARK = "📎"
IMAGE_MARK = "📷"


def tokens_label(count: TokenCount) -> str:
    """`3,100 tokens`, `~1,105 tokens` when only estimated."""
    approx = "~" if count.approximate else ""
    return f"{approx}{count.tokens:,} token{'s' if count.tokens != 1 else ''}"


def attachment_label(attachment: Attachment, count: TokenCount | None) -> str:
    """`📎 notes.txt · 12 KB · 3,100 tokens`, `📷 shot.png · 1280×720 · 340 KB · 765 tokens`
    (tokens left out until counted)."""
    parts = [one_line(attachment.name)]
    if attachment.kind == "image":
        mark = IMAGE_MARK
        if attachment.width and attachment.height:
            parts.append(f"{attachment.width}×{attachment.height}")
    else:
        mark = TEXT_MARK
    parts.append(format_size(attachment.size))
    if count is not None:
        parts.append(tokens_label(count))
    return f"{mark} " + " · ".join(parts)


def attachment_line(
    attachment: Attachment, count: TokenCount | None, unfolded: bool, meta: Style
) -> Text:
    """The dim line under a sent message: a text file's is marked folded or unfolded as the
    thinking line is (its key unfolds both); an image has no text to unfold."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    # An image's line keeps the mark's place blank, so the names line up in one column.
    mark = (UNFOLDED if unfolded else FOLDED) if attachment.kind == "text" else " "
    line.append(f"{mark} ", meta)
    line.append(attachment_label(attachment, count), meta)
    return line

"""Neutralise terminal control sequences in text from models and files.

Model output and hand-edited files are untrusted: an ESC, OSC or C1 control byte that reached the
terminal could set the clipboard (OSC 52), change the title, clear the screen or move the cursor.
Everything here keeps the text readable (newlines and tabs stay) and makes the rest inert by
turning it into visible Unicode control pictures.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides/isolates that can
# make text display in an order other than it reads (Trojan Source).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟ : control pictures
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def sanitize_for_terminal(text: str) -> str:
    """The text with every control character that a terminal would act on made visible and inert.

    Carriage returns inside CRLF line endings are dropped rather than shown; a lone CR would move
    the cursor, so it is shown as ␍.
    """
    text = text.replace("\r\n", "\n")
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_picture, text)


def one_line(text: str) -> str:
    """`text` made inert and put on one line, its blank space evened: a title, a model name or
    a tool's arguments shown in a single row."""
    return " ".join(sanitize_for_terminal(text).split())

"""Where `tui-chat ask` writes the reply as it streams: stdout, whatever stdout is.

Into a pipe or a file the text goes exactly as the model sent it (a script reads the answer, and
nothing else). On a terminal, control sequences are made inert (the same rule as the app) and
the reply ends with a newline so the shell prompt starts on its own line; with `markdown`, the
reply is shown rendered (by Rich) once it is complete instead. A reader that went away
(`| head -1`) ends the writing quietly, and its owner is told (`on_reader_gone`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

from tui_chat.sanitize import sanitize_for_terminal


class ReplyWriter:
    """Writes a streaming reply to `out`, exactly into a pipe, made inert on a terminal."""

    def __init__(self, out: TextIO, *, markdown: bool = False) -> None:
        self.out = out
        self.to_terminal = out.isatty()
        # Rendering needs the whole text (a table or a fence changes what came before it), and
        # is for eyes only: a pipe always gets the exact text as it streams.
        self.markdown = markdown and self.to_terminal
        self._kept: list[str] = []
        self.closed = False  # the reader went away: nothing more is written
        self.on_reader_gone: Callable[[], object] = lambda: None
        self._last = ""  # the last character written, to end a terminal's line
        # A CR held back until the next delta: with the LF after it, it is a line ending (which
        # the terminal shows as one); alone, sanitising shows it as ␍.
        self._held_cr = False

    def write(self, text: str) -> None:
        """Write one delta of the reply as it arrives."""
        if not text or self.closed:
            return
        if self.markdown:
            self._kept.append(text)
            return
        if self.to_terminal:
            if self._held_cr:
                text = "\r" + text
            self._held_cr = text.endswith("\r")
            text = sanitize_for_terminal(text.removesuffix("\r") if self._held_cr else text)
        self._put(text)

    def finish(self) -> None:
        """The reply ended: on a terminal, end its line (a pipe gets the exact text only)."""
        if not self.to_terminal:
            self._flush()
            return
        if self.markdown:
            self._render_markdown("".join(self._kept))
            return
        if self._held_cr:
            self._held_cr = False
            self._put(sanitize_for_terminal("\r"))
        if self._last and self._last != "\n":
            self._put("\n")

    def _render_markdown(self, text: str) -> None:
        # Rich only on demand: it costs ~0.1 s to import, which plain output never pays.
        from rich.console import Console
        from rich.markdown import Markdown

        Console(file=self.out, highlight=False).print(Markdown(sanitize_for_terminal(text)))

    def _put(self, text: str) -> None:
        if self.closed or not text:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except OSError:  # a closed pipe (EPIPE), a terminal that hung up (EIO)
            self._reader_gone()
            return
        self._last = text[-1]

    def _flush(self) -> None:
        if self.closed:
            return
        try:
            self.out.flush()
        except OSError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        """Point stdout at /dev/null: Python flushes it again at exit, which would fail (and
        print a traceback) on the closed pipe."""
        self.closed = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self.out.fileno())
        finally:
            os.close(devnull)
        self.on_reader_gone()

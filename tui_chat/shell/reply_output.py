"""Where `tui-chat ask` writes the reply as it streams: stdout, whatever stdout is.

Into a pipe or a file the text goes exactly as the model sent it (a script reads the answer, and
nothing else). On a terminal, control sequences are made inert (the same rule as the app) and
the reply ends with a newline so the shell prompt starts on its own line; with `markdown`, the
reply is shown rendered (by Rich) instead, redrawn as it streams and whole once complete. A
reader that went away (`| head -1`) ends the writing quietly, and its owner is told
(`on_reader_gone`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

from tui_chat.sanitize import sanitize_for_terminal

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment

# Redraws of a Markdown reply while it streams: each parses the whole text so far, so a bound
# on them (not one per delta) keeps a long reply's cost in proportion to its length.
MARKDOWN_REDRAWS_PER_SECOND = 4


class ReplyWriter:
    """Writes a streaming reply to `out`, exactly into a pipe, made inert on a terminal."""

    def __init__(self, out: TextIO, *, markdown: bool = False) -> None:
        self.out = out
        self.to_terminal = out.isatty()
        # Rendering is for eyes only: a pipe always gets the exact text as it streams.
        self.markdown = markdown and self.to_terminal
        self._rendered: LiveMarkdown | None = None  # started at the first delta
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
            self._live_markdown().add(text)
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
            self._live_markdown().finish()
            return
        if self._held_cr:
            self._held_cr = False
            self._put(sanitize_for_terminal("\r"))
        if self._last and self._last != "\n":
            self._put("\n")

    def _live_markdown(self) -> LiveMarkdown:
        if self._rendered is None:
            self._rendered = LiveMarkdown(self.out)
        return self._rendered

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


class LiveMarkdown:
    """A reply shown rendered as Markdown on a terminal while it streams, by Rich's `Live`: it is
    redrawn at most MARKDOWN_REDRAWS_PER_SECOND from the whole text so far (a fence or a table
    changes how what came before it looks), showing the last screenful; once complete, all of
    it stays on the terminal. The text is made inert (no escape sequences) before rendering."""

    def __init__(self, out: TextIO) -> None:
        # Rich only on demand: it costs ~0.1 s to import, which plain output never pays.
        from rich.console import Console
        from rich.live import Live

        self._parts: list[str] = []
        self._complete = False
        self._live = Live(
            self,
            console=Console(file=out, highlight=False),
            refresh_per_second=MARKDOWN_REDRAWS_PER_SECOND,
            # Nothing else may print through Rich meanwhile: stderr's notes wait for the end.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def add(self, text: str) -> None:
        """One more delta; drawn at the next redraw (from Live's own thread)."""
        self._parts.append(text)

    def finish(self) -> None:
        """The reply is complete (or stopped): draw all of it, once, and stop redrawing."""
        self._complete = True
        self._live.stop()  # its last redraw, of the whole reply

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.markdown import Markdown
        from rich.segment import Segment

        markdown = Markdown(sanitize_for_terminal("".join(self._parts)))
        lines = console.render_lines(markdown, options, pad=False)
        if not self._complete:
            # Live redraws by moving the cursor back up over what it drew: only what fits on
            # the screen can be redrawn, and the newest text is what the reader follows.
            lines = lines[-max(1, options.size.height - 1) :]
        for index, line in enumerate(lines):
            if index:
                yield Segment.line()
            yield from line

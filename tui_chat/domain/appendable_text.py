"""A dataclass text field that a stream appends to in amortised O(1) and that reads as a str.

Why: `message.content += delta` on an attribute builds a new string of the whole reply for every
delta (CPython's in-place append works only on a local name holding the sole reference), so a
reply of n deltas cost O(n²): a 200,000-delta reply took seconds of CPU just to record.

How: an append only adds its piece to a list. A read joins the pieces that arrived since the
last read onto the text it made then, and keeps the result until the next append, so reading
costs one copy of the text when it grew and nothing when it did not (the same str object comes
back, which a repaint uses to tell that nothing changed). Readers are paced by time (repaints,
periodic saves, the status bar), not by deltas, so a reply of n deltas read r times costs
O(n + r × length) instead of O(n × length).

Why correct from any thread: the pieces list is only ever appended to (an assignment replaces
the whole holder in one step), and a read never changes it; it takes the count of pieces once
and joins exactly those onto the cached text of an earlier count. So a read sees every piece
appended before it, a piece appended during a read is seen by the next one, and two threads
reading at once (the event loop repainting, a worker counting tokens) can only cache an older
prefix, never lose a piece. Appends come from one thread (the one streaming the reply).
"""

from __future__ import annotations


class _Pieces:
    """The text of one field of one object: every piece in order, and the join of a prefix."""

    __slots__ = ("joined", "pieces")

    def __init__(self, text: str) -> None:
        self.pieces = [text]
        self.joined = (1, text)  # (how many pieces, their join)

    def text(self) -> str:
        count = len(self.pieces)
        joined_count, joined = self.joined
        if joined_count != count:
            joined = joined + "".join(self.pieces[joined_count:count])
            self.joined = (count, joined)
        return joined


class AppendableText:
    """A descriptor for a dataclass `str` field: it reads and assigns like a str, and
    `append(instance, text)` adds to it in amortised O(1) (see the module's docstring).

    `default`: the field's default (None: the field has none, as dataclasses expect of a
    descriptor whose class access raises AttributeError).
    """

    def __init__(self, default: str | None = None) -> None:
        self._default = default
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = f"_{name}_text"

    def __get__(self, instance: object | None, owner: type | None = None) -> str:
        if instance is None:
            if self._default is None:
                raise AttributeError(self._name)
            return self._default
        pieces: _Pieces = instance.__dict__[self._name]
        return pieces.text()

    def __set__(self, instance: object, value: str) -> None:
        instance.__dict__[self._name] = _Pieces(value)

    def append(self, instance: object, text: str) -> None:
        """Add `text` at the end of `instance`'s field."""
        if text:
            pieces: _Pieces = instance.__dict__[self._name]
            pieces.pieces.append(text)

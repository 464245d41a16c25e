"""Where the message pane's keyboard cursor and view go: j / k through messages (a page at a time
inside one taller than the screen), bringing a message into view, n / N through search hits.

`MessageNavigator` only answers questions about the pane's geometry (`BlockLayout`) and the lines
on screen; the pane acts on the answers (moves `selected_index`, scrolls) and owns the keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tui_chat.ui.widgets.message_layout import BlockLayout


@dataclass(frozen=True)
class View:
    """The lines on screen: the first one's number, and how many fit."""

    top: int
    height: int


@dataclass(frozen=True)
class Step:
    """What a move does: scroll within the selected message, or select another one."""

    scroll_to: int | None = None
    select: int | None = None


@dataclass(frozen=True)
class HitStep:
    """The search hit a move lands on: its message, its place among the hits, and whether the
    move went round from the last hit to the first (or the first to the last)."""

    index: int
    position: int
    hits: int
    wrapped: bool


class MessageNavigator:
    """Moves through the blocks of a `BlockLayout` the pane owns and keeps up to date."""

    def __init__(self, layout: BlockLayout) -> None:
        self._layout = layout

    def previous(self, current: int | None, count: int, view: View) -> Step:
        """k: the message above (the last one when none is selected); within a message whose
        top is above the screen, a page up inside it first."""
        if current is not None and current < count:
            top = self._layout.tops[current]
            if top < view.top:
                page = max(1, view.height - 2)
                return Step(scroll_to=max(top, view.top - page))
        return Step(select=self._clamp(count - 1 if current is None else current - 1, count))

    def next(self, current: int | None, count: int, view: View) -> Step:
        """j: the message below (the last one when none is selected); within a message whose
        end is below the screen, a page down inside it first."""
        if current is not None and current < count:
            bottom = self._layout.tops[current] + self._layout.heights[current]
            if bottom > view.top + view.height:
                page = max(1, view.height - 2)
                return Step(scroll_to=min(bottom - view.height, view.top + page))
        return Step(select=self._clamp(count - 1 if current is None else current + 1, count))

    def reveal(self, index: int, view: View, *, upward: bool = False) -> int | None:
        """The scroll position that brings block `index` into view, or None if it is in view.

        A block taller than the screen shows its top, or its end when reached by moving up (so
        reading upwards continues where the eye is).
        """
        top = self._layout.tops[index]
        height = self._layout.heights[index]
        if height > view.height:
            return top + height - view.height if upward else top
        if top < view.top:
            return top
        if top + height > view.top + view.height:
            return top + height - view.height
        return None

    @staticmethod
    def hit(hits: Sequence[int], position: int) -> HitStep | None:
        """Search hit `position` (0-based, kept within the hits), or None without hits."""
        if not hits:
            return None
        position = max(0, min(len(hits) - 1, position))
        return HitStep(hits[position], position, len(hits), wrapped=False)

    @staticmethod
    def step_hit(hits: Sequence[int], current: int | None, step: int) -> HitStep | None:
        """n (step 1) / N (step -1): the next or previous hit from the message `current` (so n
        after moving with j / k goes on from there), round to the other end after the last."""
        if not hits:
            return None
        if step > 0:
            later = [i for i in hits if current is None or i > current]
            target, wrapped = (later[0], False) if later else (hits[0], True)
        else:
            earlier = [i for i in hits if current is None or i < current]
            target, wrapped = (earlier[-1], False) if earlier else (hits[-1], True)
        return HitStep(target, list(hits).index(target), len(hits), wrapped)

    @staticmethod
    def _clamp(index: int, count: int) -> int | None:
        return None if count == 0 else max(0, min(count - 1, index))

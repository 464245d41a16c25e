"""Which cells of a message pane row changed between two repaints.

Why its own module: the pane repaints only the cells a streamed word changed, because Textual
sends every repainted cell to the terminal and over SSH those bytes are the cost of a stream.
Finding them is a pure function of two rows, kept apart from the widget so it can be read (and
reasoned about) without the pane's state. A row is a gutter `GUTTER` cells wide, then text.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.geometry import Region
from textual.strip import Strip

GUTTER = 2  # a coloured bar and a space left of every message line

Row = tuple[Strip, Strip]
"""A pane row as (gutter, text); None stands for a row past the end of the conversation."""


def changed_regions(
    before: Sequence[Row | None], after: Sequence[Row | None], width: int
) -> list[Region]:
    """The regions of a pane `width` cells wide to repaint when its rows went from `before` to
    `after` (row y of each is screen line y): the changed cells of each row, nothing else."""
    regions = []
    for y, (old, new) in enumerate(zip(before, after, strict=True)):
        span = changed_span(old, new)
        if span is not None and span[0] < width:
            start, end = span
            regions.append(Region(start, y, min(end, width) - start, 1))
    return regions


def changed_span(old: Row | None, new: Row | None) -> tuple[int, int] | None:
    """The columns [start, end) of a row that differ between two (gutter, text) pairs, or None.

    A streamed word usually changes a few cells in the middle of a row: the text before it is
    the same, and so is the blank padding after it. (Textual 8 sends a repainted row from the
    widget's left edge whatever the start, so the bytes saved today are those after the end.)
    """
    if old is None:
        return None if new is None else (0, GUTTER + new[1].cell_length)
    if new is None:
        return 0, GUTTER + old[1].cell_length
    if old[0] != new[0]:
        return 0, GUTTER + max(old[1].cell_length, new[1].cell_length)
    old_body, new_body = old[1], new[1]
    if old_body is new_body or old_body == new_body:
        return None
    # Compared character by character: the same text in the same style can come split into
    # segments differently from one render to the next, with no style or an empty one.
    old_cells = [(char, segment.style or None) for segment in old_body for char in segment.text]
    new_cells = [(char, segment.style or None) for segment in new_body for char in segment.text]
    same = 0
    for old_cell, new_cell in zip(old_cells, new_cells, strict=False):
        if old_cell != new_cell:
            break
        same += 1
    same = max(0, same - 1)  # a combining mark joins the character before it on screen
    start = cell_len("".join(char for char, _ in new_cells[:same]))
    end = max(old_body.cell_length, new_body.cell_length)
    if old_body.cell_length == new_body.cell_length:
        # Equally long (padded to the width): the cells after the change can be the same too.
        tail = 0
        limit = min(len(old_cells), len(new_cells)) - same
        while tail < limit and old_cells[-1 - tail] == new_cells[-1 - tail]:
            tail += 1
        if tail:
            end -= cell_len("".join(char for char, _ in new_cells[len(new_cells) - tail :]))
    if end <= start:
        return None
    return GUTTER + start, GUTTER + end

"""The message pane's helper objects on their own: when a streaming reply repaints and which
cells, how tall the pane scrolls while following, where j / k / n / N go, what a mouse
selection copies, and when a style change means rendering every message again."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset, Region
from textual.selection import Selection
from textual.strip import Strip

from tui_chat.ui.widgets.message_layout import BlockLayout
from tui_chat.ui.widgets.message_navigation import MessageNavigator, Step, View
from tui_chat.ui.widgets.mouse_selection import highlight, selected_text
from tui_chat.ui.widgets.pane_styles import PaneStyles
from tui_chat.ui.widgets.row_diff import GUTTER, changed_regions
from tui_chat.ui.widgets.stream_repaint import (
    FLUSH_INTERVAL,
    MAX_FLUSH_INTERVAL,
    FollowRoom,
    RepaintThrottle,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_changes_wait_for_the_next_repaint_and_come_out_once_in_order() -> None:
    clock = Clock()
    throttle = RepaintThrottle(clock)
    with throttle.repaint():
        pass
    for index in (7, 3, 7):
        throttle.mark(index)
    assert throttle.pending
    clock.now += 0.02
    assert abs(throttle.delay() - (FLUSH_INTERVAL - 0.02)) < 1e-9
    with throttle.repaint() as changed:
        assert changed == [3, 7]
    assert not throttle.pending
    assert throttle.delay() > 0  # a timer is always given a delay it accepts


def test_a_slow_repaint_spaces_the_next_ones_out_up_to_twice_a_second() -> None:
    clock = Clock()
    throttle = RepaintThrottle(clock)
    throttle.mark(0)
    with throttle.repaint():
        clock.now += 0.05  # a repaint taking 50 ms: the next waits 200 ms
    assert abs(throttle.interval - 0.2) < 1e-9
    throttle.mark(0)
    with throttle.repaint():
        clock.now += 3.0  # a pathological tail: still at least twice a second
    assert throttle.interval == MAX_FLUSH_INTERVAL
    throttle.mark(0)
    with throttle.repaint():
        pass  # fast again: back to ~12 a second
    assert throttle.interval == FLUSH_INTERVAL


def test_forgotten_changes_are_not_repainted() -> None:
    throttle = RepaintThrottle(Clock())
    throttle.mark(4)
    throttle.forget()
    assert not throttle.pending
    with throttle.repaint() as changed:
        assert changed == []


def test_a_streaming_reply_gets_a_third_of_a_pane_of_room_used_up_before_the_view_moves() -> None:
    room = FollowRoom()
    assert room.height(100, 30) == 100  # nothing streams: exactly the conversation
    room.streaming = True
    assert room.height(20, 30) == 30  # shorter than the pane: nothing to scroll
    heights = [room.height(total, 30) for total in range(100, 125)]
    assert heights[0] == 110  # room for a third of the pane below the reply
    # The height (and so the view) changes only when the room is used up, not on every line.
    assert sorted(set(heights)) == [110, 121, 132]
    assert all(height >= total for height, total in zip(heights, range(100, 125), strict=True))
    room.streaming = False
    assert room.height(125, 30) == 125  # the room goes when the reply ends


def row(text: str, bar: str = "▏") -> tuple[Strip, Strip]:
    return Strip([Segment(bar + " ")]), Strip([Segment(text.ljust(20))])


def test_only_the_cells_a_streamed_word_changed_are_repainted() -> None:
    before = [row("Hello"), row("world"), None]
    after = [row("Hello"), row("world, again"), row("new")]
    regions = changed_regions(before, after, width=40)
    assert regions == [
        # From the cell before the change (a combining mark would join it), to the new end.
        Region(GUTTER + len("world") - 1, 1, len("d, again"), 1),
        Region(0, 2, GUTTER + 20, 1),
    ]
    assert changed_regions(after, after, width=40) == []


def test_a_new_gutter_repaints_the_whole_row_within_the_pane() -> None:
    regions = changed_regions([row("same")], [row("same", bar="┃")], width=10)
    assert regions == [Region(0, 0, 10, 1)]


def layout_of(heights: list[int], preamble: int = 0) -> BlockLayout:
    layout = BlockLayout()
    top = preamble
    for height in heights:
        layout.tops.append(top)
        layout.heights.append(height)
        top += height
    layout.total = top
    return layout


def test_j_and_k_select_the_next_message_or_page_through_a_tall_one() -> None:
    navigator = MessageNavigator(layout_of([3, 50, 4]))
    view = View(top=3, height=20)  # the tall message's top on the first line
    assert navigator.next(None, 3, view) == Step(select=2)  # nothing selected: the last
    assert navigator.next(1, 3, view) == Step(scroll_to=21)  # a page down inside it
    assert navigator.next(1, 3, View(top=33, height=20)) == Step(select=2)  # its end shows
    assert navigator.next(2, 3, View(top=37, height=20)) == Step(select=2)  # stays on the last
    assert navigator.previous(1, 3, View(top=33, height=20)) == Step(scroll_to=15)
    assert navigator.previous(1, 3, view) == Step(select=0)
    assert navigator.previous(0, 3, View(top=0, height=20)) == Step(select=0)
    assert navigator.previous(None, 0, view) == Step()  # no messages: nothing to do


def test_a_message_is_brought_into_view_from_either_side() -> None:
    navigator = MessageNavigator(layout_of([5, 5, 40, 5], preamble=2))
    view = View(top=20, height=10)
    assert navigator.reveal(0, view) == 2  # above: its top at the top
    assert navigator.reveal(3, view) == 52 - 10 + 5  # below: its end at the bottom
    assert navigator.reveal(2, view) == 12  # taller than the screen: its top...
    assert navigator.reveal(2, view, upward=True) == 12 + 40 - 10  # ...or its end, going up
    assert navigator.reveal(1, View(top=5, height=10)) is None  # already in view


def test_n_and_shift_n_go_round_the_hits_from_the_message_under_the_cursor() -> None:
    hits = [2, 5, 9]
    step = MessageNavigator.step_hit
    assert step(hits, None, 1) is not None and step(hits, None, 1).index == 2
    forward = step(hits, 5, 1)
    assert forward is not None and (forward.index, forward.position, forward.wrapped) == (
        9,
        2,
        False,
    )
    wrapped = step(hits, 9, 1)
    assert wrapped is not None and (wrapped.index, wrapped.wrapped) == (2, True)
    back = step(hits, 3, -1)
    assert back is not None and (back.index, back.position, back.hits) == (2, 0, 3)
    assert step([], 3, 1) is None
    assert MessageNavigator.hit(hits, 7) is not None and MessageNavigator.hit(hits, 7).index == 9


def test_highlight_paints_only_the_selected_cells() -> None:
    selected = Style(reverse=True)
    line = highlight(Strip([Segment("abcdef")]), 1, 3, selected)
    assert [(s.text, s.style) for s in line] == [("a", None), ("bc", selected), ("def", None)]
    assert highlight(Strip([Segment("abc")]), 1, -1, selected).text == "abc"
    untouched = Strip([Segment("abc")])
    assert highlight(untouched, 2, 2, selected) is untouched


def test_a_selection_copies_the_text_without_the_gutter_bars() -> None:
    lines = [Strip.join(row(text)) for text in ("alpha beta", "gamma delta", "epsilon")]

    def line_at(y: int) -> Strip | None:
        return lines[y] if y < len(lines) else None

    drag = Selection(Offset(GUTTER + 6, 0), Offset(GUTTER + 5, 1))
    assert selected_text(drag, len(lines), line_at) == "beta\ngamma"
    everything = Selection(None, None)
    assert selected_text(everything, len(lines), line_at) == "alpha beta\ngamma delta\nepsilon"


def test_only_a_change_of_colours_makes_the_rendered_messages_stale() -> None:
    colours = {"message-pane--user-role": Style(color="red")}
    styles = PaneStyles(lambda component: colours.get(component, Style()))
    assert not styles.restyled()  # nothing rendered yet: nothing stale
    context = styles.context(Console(), "monokai", None)
    assert styles.context(Console(), "monokai", None) is context  # kept between uses
    assert context.styles.user_role == Style(color="red")
    assert not styles.restyled()  # CSS applied again, same colours: the lines stay
    styles.context(Console(), "monokai", None)
    colours["message-pane--user-role"] = Style(color="blue")  # a new theme
    assert styles.restyled()
    assert styles.context(Console(), "monokai", None).styles.user_role == Style(color="blue")


def test_gutter_bars_take_their_colour_from_the_css_until_it_changes() -> None:
    colours = {"message-pane--gutter-selected": Style(color="red")}
    styles = PaneStyles(lambda component: colours.get(component, Style()))
    bar = styles.gutter("selected")
    assert (bar.text, bar.cell_length) == ("┃ ", GUTTER)
    assert [segment.style for segment in bar] == [Style(color="red")]
    assert styles.gutter("").text == " " * GUTTER
    colours["message-pane--gutter-selected"] = Style(color="green")
    styles.restyled()
    assert [segment.style for segment in styles.gutter("selected")] == [Style(color="green")]

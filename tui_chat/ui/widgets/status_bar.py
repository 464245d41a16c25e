"""The status bar: token counts, context gauge, cost, model and live streaming figures.

The bar is always one line. At 80 columns (a 52-column bar beside the sidebar) not everything
fits, so the bar picks the richest of its `LAYOUTS` that fits the width: it drops or shortens
the least important figures first and keeps, to the last, the live reply speed and elapsed
time while a reply streams, then the draft's tokens, the context used of the window with its
gauge, and the cost of the next send.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from tui_chat.domain import Spend
from tui_chat.ui.widgets.widget_css import css_beside

GAUGE_CELLS = 8
SEPARATOR = Content(" │ ")


@dataclass(frozen=True)
class StatusFigures:
    """Everything the status bar shows; the screen builds a new one when something changes."""

    model: str = ""
    profile: str = ""
    composer_tokens: int = 0  # the composer's text (✎); prompt_tokens holds the message's overhead
    prompt_tokens: int = 0
    counts_approximate: bool = True
    context_window: int | None = None
    next_cost_usd: float | None = None
    spent: Spend = field(default_factory=Spend)
    streaming: bool = False
    waiting_note: str = ""  # before the first text: "waiting" or "thinking" (reasoning models)
    reply_tokens: int = 0
    tokens_per_second: float = 0.0
    elapsed_seconds: float = 0.0

    def with_changes(self, **changes: object) -> StatusFigures:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Detail:
    """How much of each figure one layout of the bar shows."""

    long_labels: bool = True  # "context", "next send"; else "ctx", "next"
    labels: bool = True  # no labels at all: the numbers, the gauge and the symbols ✎ and ▶
    profile: bool = True
    model: bool = True
    spent: bool = True
    reply_tokens: bool = True  # while streaming: the reply's tokens so far
    gauge_cells: int = GAUGE_CELLS
    percent: bool = True  # the context used as a percentage, after the gauge
    speed_unit: bool = True  # "41 tok/s"; else "41/s"
    most_figures: int | None = None  # past the leanest forms: only the first (leftmost) few


def _ladder(*steps: dict[str, object]) -> tuple[Detail, ...]:
    """Every layout from the richest down, each step applied on top of the ones before."""
    layouts = [Detail()]
    for step in steps:
        layouts.append(replace(layouts[-1], **step))  # type: ignore[arg-type]
    return tuple(layouts)


# Richest first; each step gives up the least important thing still shown. The model and
# profile go first: the sidebar entry and each reply's header name the model too. The
# conversation's spend goes before anything about the next send.
LAYOUTS = _ladder(
    {"long_labels": False},
    {"profile": False},
    {"model": False},
    {"spent": False},
    {"reply_tokens": False},
    {"gauge_cells": 5},
    {"percent": False},
    {"labels": False},
    {"speed_unit": False},
    {"most_figures": 3},
    {"most_figures": 2},
    {"most_figures": 1},
)


def compact_number(value: int) -> str:
    """1234 -> '1.2k', 128000 -> '128k': figures that fit an 80-column status line.

    Rounded down, so a figure never claims more than it is and never takes a fifth cell
    ('9999' is '9.9k', not '10.0k')."""
    if value < 1000:
        return str(value)
    if value < 10_000:
        return f"{value // 100 / 10:.1f}k"
    if value < 1_000_000:
        return f"{value // 1000}k"
    return f"{value // 100_000 / 10:.1f}M"


def money(value: float | None) -> str:
    """Dollars, '?' when the price is unknown (never a misleading $0.00)."""
    if value is None:
        return "?"
    if value == 0:
        return "$0"
    if value < 0.0001:
        return "<$0.0001"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:.2f}"


def spent(spend: Spend, long: bool = True) -> str:
    """The conversation's spend: '$0.03', '?' when no reply's price was known, and how many
    replies had an unknown price beside a known sum ('$0.03 + 2 unknown', or '$0.03+2?' when
    short of room), so a partial sum never passes for the whole."""
    if spend.all_unknown:
        return "?"
    amount = money(spend.known_usd)
    if not spend.unknown_replies:
        return amount
    n = spend.unknown_replies
    return f"{amount} + {n} unknown" if long else f"{amount}+{n}?"


def gauge(used: int, window: int, cells: int = GAUGE_CELLS, percent: bool = True) -> Content:
    """A small bar of how full the model's context window is, coloured by how close to full."""
    fraction = min(used / window, 1.0)
    filled = round(fraction * cells)
    style = "$gauge-fill" if fraction < 0.6 else "$gauge-warn" if fraction < 0.85 else "$error"
    return Content.assemble(
        ("█" * filled, style),
        ("░" * (cells - filled), "$text-muted"),
        f" {fraction:.0%}" if percent else "",
    )


def _label(detail: Detail, long: str, short: str) -> str:
    if not detail.labels:
        return ""
    return long if detail.long_labels else short


def seconds(value: float) -> str:
    """'3.2s', then whole seconds from 10 s on: four cells for the first 100 seconds."""
    return f"{value:.1f}s" if value < 9.95 else f"{value:.0f}s"


def _live_figures(f: StatusFigures, detail: Detail, approx: str) -> Content:
    elapsed = seconds(f.elapsed_seconds)
    # No speed yet (the first half second of a stream): a dash, not a misleading 0.
    speed = f"{f.tokens_per_second:.0f}" if f.tokens_per_second else "–"
    if f.waiting_note:
        text = f"▶ {f.waiting_note}… {elapsed}"
    elif detail.reply_tokens:
        reply = f"{approx}{compact_number(f.reply_tokens)} tok"
        if detail.long_labels:
            text = f"▶ {reply} · {speed} tok/s · {elapsed}"
        else:
            text = f"▶ {reply} {speed}/s {elapsed}"
    else:
        unit = " tok/s" if detail.speed_unit else "/s"
        text = f"▶ {speed}{unit} {elapsed}"
    return Content.styled(text, "bold $accent")


def compose_line(f: StatusFigures, detail: Detail) -> Content:
    """The bar's line for these figures at this level of detail, however wide it comes out."""
    return SEPARATOR.join(_figures(f, detail)[: detail.most_figures])


def _figures(f: StatusFigures, detail: Detail) -> list[Content]:
    """The figures shown at this level of detail, most important first."""
    approx = "~" if f.counts_approximate else ""
    parts: list[Content] = []
    if f.streaming:
        parts.append(_live_figures(f, detail, approx))
    draft = f"{approx}{compact_number(f.composer_tokens)}"
    parts.append(Content(f"✎ draft {draft} tok" if detail.long_labels else f"✎ {draft}"))
    used = f"{_label(detail, 'context ', 'ctx ')}{approx}{compact_number(f.prompt_tokens)}"
    if f.context_window:
        filled = gauge(f.prompt_tokens, f.context_window, detail.gauge_cells, detail.percent)
        parts.append(Content.assemble(f"{used}/{compact_number(f.context_window)} ", filled))
    else:  # a model the price table does not know: no window, so no gauge
        parts.append(Content(f"{used}/?"))
    next_send = _label(detail, "next send ", "next ")
    parts.append(Content(f"{next_send}{approx}{money(f.next_cost_usd)}"))
    if detail.spent:
        parts.append(Content(f"spent {spent(f.spent, detail.long_labels)}"))
    if detail.model and f.model:
        model = f"{f.model} @ {f.profile}" if detail.profile and f.profile else f.model
        parts.append(Content.styled(model, "$text-muted"))
    return parts


def _widest_moments(f: StatusFigures) -> tuple[StatusFigures, ...]:
    """The figures as wide as they may plausibly get during this reply.

    The layout is chosen for these, so it stays put while the speed and the clock tick (and
    from waiting to streaming) instead of flipping labels on and off as a digit comes and goes.
    """
    if not f.streaming:
        return (f,)
    # Widest as shown, not largest: '9.9s' takes more cells than '42s'. The stand-ins come first
    # so they win ties. (The layout cache's key also holds the context count and the next send's
    # cost, which grow with the reply: then the layout is chosen again, about 0.4 ms a tick.)
    widest = f.with_changes(
        reply_tokens=max(9_999, f.reply_tokens, key=lambda n: len(compact_number(n))),
        tokens_per_second=max(99.0, f.tokens_per_second, key=lambda v: len(f"{v:.0f}")),
        elapsed_seconds=max(9.9, f.elapsed_seconds, key=lambda s: len(seconds(s))),
    )
    return (
        widest.with_changes(waiting_note=""),
        widest.with_changes(waiting_note=max(f.waiting_note, "thinking", key=len)),
    )


@lru_cache(maxsize=64)
def _layout_for(moments: tuple[StatusFigures, ...], width: int) -> Detail | None:
    """The richest layout in which every moment fits; None when not even the leanest does."""
    for detail in LAYOUTS:
        if all(compose_line(f, detail).cell_length <= width for f in moments):
            return detail
    return None


def status_line(f: StatusFigures, width: int) -> Content:
    """The bar's one line for a bar `width` cells wide."""
    detail = _layout_for(_widest_moments(f), width)
    if detail is not None:
        return compose_line(f, detail)
    return compose_line(f, LAYOUTS[-1]).truncate(width, ellipsis=True)


class StatusBar(Widget):
    """One line under the composer. It only shows what it is given.

    Repaint-only: while a reply streams the figures change 4 times a second, and a layout pass
    of the whole screen each time cost CPU and bytes over SSH. The bar is one line at every
    width (it drops figures rather than wrap), so a change of figures never needs a layout.
    """

    DEFAULT_CSS = css_beside(__file__)  # status_bar.tcss (widget_css.py says why not CSS_PATH)

    figures: reactive[StatusFigures] = reactive(StatusFigures)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1

    def render(self) -> Content:
        return status_line(self.figures, self.content_size.width)

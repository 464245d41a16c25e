"""The status bar: token counts, context gauge, cost, model and live streaming figures."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

GAUGE_CELLS = 8


@dataclass(frozen=True)
class StatusFigures:
    """Everything the status bar shows; the screen builds a new one when something changes."""

    model: str = ""
    profile: str = ""
    composer_tokens: int = 0
    prompt_tokens: int = 0
    counts_approximate: bool = True
    context_window: int | None = None
    next_cost_usd: float | None = None
    spent_usd: float | None = None
    streaming: bool = False
    waiting_note: str = ""  # before the first text: "waiting" or "thinking" (reasoning models)
    reply_tokens: int = 0
    tokens_per_second: float = 0.0
    elapsed_seconds: float = 0.0

    def with_changes(self, **changes: object) -> StatusFigures:
        return replace(self, **changes)  # type: ignore[arg-type]


def compact_number(value: int) -> str:
    """1234 -> '1.2k', 128000 -> '128k': figures that fit an 80-column status line."""
    if value < 1000:
        return str(value)
    if value < 10_000:
        return f"{value / 1000:.1f}k"
    if value < 1_000_000:
        return f"{value // 1000}k"
    return f"{value / 1_000_000:.1f}M"


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


def gauge(used: int, window: int | None) -> Content:
    """A small bar of how full the model's context window is, coloured by how close to full."""
    if not window:
        return Content("")
    fraction = min(used / window, 1.0)
    filled = round(fraction * GAUGE_CELLS)
    style = "$gauge-fill" if fraction < 0.6 else "$gauge-warn" if fraction < 0.85 else "$error"
    return Content.assemble(
        (f"{'█' * filled}", style),
        (f"{'░' * (GAUGE_CELLS - filled)}", "$text-muted"),
        f" {fraction:.0%}",
    )


class StatusBar(Widget):
    """One or two lines under the composer. It only shows what it is given."""

    # Repaint-only: while a reply streams the figures change 4 times a second, and a layout pass
    # of the whole screen each time cost CPU and bytes over SSH. Only a change in the number of
    # lines the bar needs (1 or 2 at 80 columns) asks for a layout.
    figures: reactive[StatusFigures] = reactive(StatusFigures)
    _lines = 0  # lines the bar took at the last layout

    def watch_figures(self) -> None:
        width = self.content_region.width or self.size.width
        if width <= 0:
            return
        lines = max(1, self.get_content_height(self.content_region, self.size, width))
        if lines != self._lines:
            self._lines = lines
            self.refresh(layout=True)

    def on_resize(self) -> None:
        self._lines = 0
        self.watch_figures()

    def render(self) -> Content:
        f = self.figures
        approx = "~" if f.counts_approximate else ""
        parts: list[Content] = []
        if f.streaming and f.waiting_note:
            parts.append(
                Content.styled(f"▶ {f.waiting_note}… {f.elapsed_seconds:.1f}s", "bold $accent")
            )
        elif f.streaming:
            parts.append(
                Content.styled(
                    f"▶ {approx}{compact_number(f.reply_tokens)} tok "
                    f"{f.tokens_per_second:.0f}/s {f.elapsed_seconds:.1f}s",
                    "bold $accent",
                )
            )
        parts.append(Content(f"✎ {approx}{compact_number(f.composer_tokens)}"))
        window = compact_number(f.context_window) if f.context_window else "?"
        parts.append(
            Content.assemble(
                f"ctx {approx}{compact_number(f.prompt_tokens)}/{window} ",
                gauge(f.prompt_tokens, f.context_window),
            )
        )
        parts.append(Content(f"next {approx}{money(f.next_cost_usd)}"))
        parts.append(Content(f"spent {money(f.spent_usd)}"))
        parts.append(Content.styled(f"{f.model} @ {f.profile}", "$text-muted"))
        return Content(" │ ").join(parts)

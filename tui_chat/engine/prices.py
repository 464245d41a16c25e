"""Prices and context windows, from genai-prices' offline snapshot with config overrides.

genai-prices is a maintained table for 47 providers (OpenAI, OpenRouter, Groq, DeepSeek,
Mistral, Google...) shipped with the package; nothing is downloaded. Its provider is found by
the base_url, so a local server (Ollama, llama.cpp) or an unknown model has no price: the UI
shows "?" then, never $0, unless the user configured a price (`[prices."llama3.1:8b"]`).

Importing genai-prices takes about 0.25 s: it happens on the first lookup, or ahead of time
in a worker thread with `PriceBook.load()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tui_chat.config import ModelPrice
from tui_chat.domain.conversation import Usage
from tui_chat.engine.servers import bare_model_name, is_loopback_url, is_openai_url

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class ModelPricing:
    """What a model costs, in US dollars per million tokens, and how much context it takes."""

    input: float
    output: float
    cached_input: float | None = None  # None: cached input is billed as input
    context_window: int | None = None
    source: str = "genai-prices"  # or "config"
    provider: str | None = None

    def cost(self, usage: Usage) -> float:
        """The price of `usage`: cached prompt tokens at the cached rate, reasoning tokens
        (already inside completion_tokens) as output."""
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        cached_rate = self.cached_input if self.cached_input is not None else self.input
        return (
            (usage.prompt_tokens - cached) * self.input
            + cached * cached_rate
            + usage.completion_tokens * self.output
        ) / PER_MILLION


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    base = getattr(value, "base", None)  # TieredPrices: the price below the first tier
    return float(base) if base is not None else None


class PriceBook:
    """Looks up prices and context windows; config overrides win over genai-prices."""

    def __init__(
        self, overrides: dict[str, ModelPrice] | None = None, *, autoload: bool = True
    ) -> None:
        """`autoload=False` (for the app): until `load()` ran in a worker, lookups answer from
        the overrides only, so the UI never waits for the import; with True the first
        lookup imports genai-prices itself (for the CLI and scripts)."""
        self.overrides = dict(overrides or {})
        self.autoload = autoload
        self._lowered = {name.lower(): price for name, price in self.overrides.items()}
        self._cache: dict[tuple[str, str | None], ModelPricing | None] = {}
        self._snapshot: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Import genai-prices and its snapshot now (blocking, about 0.25 s)."""
        self._genai_snapshot()

    def _genai_snapshot(self) -> Any:
        with self._lock:
            if self._snapshot is None:
                from genai_prices import data_snapshot

                self._snapshot = data_snapshot.get_snapshot()
            return self._snapshot

    def _override(self, model: str) -> ModelPrice | None:
        return (
            self.overrides.get(model)
            or self._lowered.get(model.lower())
            or self._lowered.get(bare_model_name(model))
        )

    @property
    def ready(self) -> bool:
        """True once genai-prices is loaded (always answerable with autoload)."""
        return self._snapshot is not None or self.autoload

    def _from_genai(self, model: str, base_url: str | None) -> tuple[Any, Any] | None:
        # genai-prices finds a provider by its API's URL, and none is on loopback: a local
        # server is unpriced without loading the table (~0.07 s of each `tui-chat ask`).
        if not self.ready or is_loopback_url(base_url):
            return None
        snapshot = self._genai_snapshot()
        try:
            if is_openai_url(base_url) and (base_url is None or "azure" not in base_url):
                return snapshot.find_provider_model(model, None, "openai", None)  # type: ignore[no-any-return]
            return snapshot.find_provider_model(model, None, None, base_url)  # type: ignore[no-any-return]
        except LookupError:
            return None

    def lookup(self, model: str, base_url: str | None) -> ModelPricing | None:
        """The pricing of `model` served from `base_url` (None: OpenAI's API), or None when
        unknown."""
        key = (model, base_url)
        if key in self._cache:
            return self._cache[key]
        pricing: ModelPricing | None = None
        override = self._override(model)
        found = self._from_genai(model, base_url)
        window = found[1].context_window if found is not None else None
        if override is not None:
            pricing = ModelPricing(
                input=override.input,
                output=override.output,
                cached_input=override.cached_input,
                context_window=override.context_window or window,
                source="config",
            )
        elif found is not None:
            provider, info = found
            prices = info.get_prices(datetime.now(UTC))
            input_price = _as_float(getattr(prices, "input_mtok", None))
            output_price = _as_float(getattr(prices, "output_mtok", None))
            if input_price is not None and output_price is not None:
                pricing = ModelPricing(
                    input=input_price,
                    output=output_price,
                    cached_input=_as_float(getattr(prices, "cache_read_mtok", None)),
                    context_window=window,
                    source="genai-prices",
                    provider=provider.id,
                )
        if self.ready:  # an answer given before loading is only provisional
            self._cache[key] = pricing
        return pricing

    def cost(self, model: str, usage: Usage, base_url: str | None) -> float | None:
        """US dollars for `usage`, or None when the price is unknown."""
        pricing = self.lookup(model, base_url)
        return pricing.cost(usage) if pricing is not None else None

    def prompt_cost(self, model: str, tokens: int, base_url: str | None) -> float | None:
        """US dollars for sending `tokens` prompt tokens (uncached), or None when unknown."""
        pricing = self.lookup(model, base_url)
        return tokens * pricing.input / PER_MILLION if pricing is not None else None

    def context_window(self, model: str, base_url: str | None) -> int | None:
        """The model's context window in tokens, when configured or known."""
        override = self._override(model)
        if override is not None and override.context_window:
            return override.context_window
        found = self._from_genai(model, base_url)
        if found is None:
            return None
        window = found[1].context_window
        return int(window) if window else None

"""Prices and context windows: known models priced from genai-prices' snapshot, cached input at
its own rate, unknown and local models unpriced (never $0), config overrides winning."""

from __future__ import annotations

import pytest
from fresh_python import fresh_python_output

from tui_chat.config import ModelPrice
from tui_chat.domain.conversation import Usage
from tui_chat.engine.prices import PriceBook

OPENAI = "https://api.openai.com/v1"
OLLAMA = "http://localhost:11434/v1"


@pytest.fixture(scope="module")
def book() -> PriceBook:
    book = PriceBook()
    book.load()
    return book


def test_known_openai_model_has_per_million_prices_and_a_context_window(book):
    pricing = book.lookup("gpt-4o-mini", OPENAI)

    assert pricing is not None
    assert (pricing.input, pricing.output, pricing.cached_input) == (0.15, 0.6, 0.075)
    assert pricing.context_window == 128_000
    assert pricing.provider == "openai"


def test_no_base_url_means_openai(book):
    assert book.lookup("gpt-4o-mini", None) == book.lookup("gpt-4o-mini", OPENAI)


def test_cost_of_a_reply(book):
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=100_000)

    assert book.cost("gpt-4o-mini", usage, OPENAI) == pytest.approx(0.15 + 0.06)


def test_cached_prompt_tokens_are_priced_at_the_cached_rate(book):
    uncached = Usage(prompt_tokens=1_000_000, completion_tokens=0)
    half_cached = Usage(prompt_tokens=1_000_000, completion_tokens=0, cached_tokens=500_000)

    assert book.cost("gpt-4o-mini", uncached, OPENAI) == pytest.approx(0.15)
    assert book.cost("gpt-4o-mini", half_cached, OPENAI) == pytest.approx(0.075 + 0.0375)


def test_reasoning_tokens_are_billed_once_as_output(book):
    # reasoning_tokens are part of completion_tokens, not extra.
    usage = Usage(prompt_tokens=0, completion_tokens=1_000_000, reasoning_tokens=900_000)

    assert book.cost("o3-mini", usage, OPENAI) == pytest.approx(4.4)


def test_prompt_cost_before_sending(book):
    assert book.prompt_cost("gpt-4o-mini", 2_000_000, OPENAI) == pytest.approx(0.30)


def test_unknown_model_has_no_price_rather_than_zero(book):
    assert book.lookup("my-finetune-xyz", OPENAI) is None
    assert book.cost("my-finetune-xyz", Usage(10, 10), OPENAI) is None
    assert book.prompt_cost("my-finetune-xyz", 10, OPENAI) is None
    assert book.context_window("my-finetune-xyz", OPENAI) is None


def test_local_server_models_have_no_price(book):
    assert book.cost("llama3.1:8b", Usage(100, 100), OLLAMA) is None
    # Even an OpenAI model name served by a local proxy is not priced as OpenAI's.
    assert book.cost("gpt-4o-mini", Usage(100, 100), "http://127.0.0.1:4000/v1") is None


def test_a_server_on_this_machine_is_priced_without_loading_the_price_table():
    # `tui-chat ask` against Ollama need not import genai-prices (~0.07 s of CPU a run): no
    # provider it knows is on loopback. A configured price still applies.
    code = (
        "import sys\n"
        "from tui_chat.config import ModelPrice\n"
        "from tui_chat.domain.conversation import Usage\n"
        "from tui_chat.engine.prices import PriceBook\n"
        "book = PriceBook({'mine': ModelPrice(input=1, output=2)})\n"
        "usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)\n"
        "for url in ('http://localhost:11434/v1', 'http://127.0.0.1:8080/v1', 'http://[::1]:1/v1'):\n"
        "    print(book.cost('gpt-4o-mini', usage, url), book.cost('mine', usage, url))\n"
        "print('genai_prices' in sys.modules)\n"
    )
    assert fresh_python_output(code).splitlines() == ["None 3.0"] * 3 + ["False"]


def test_other_providers_are_found_by_their_base_url(book):
    groq = book.lookup("llama-3.1-8b-instant", "https://api.groq.com/openai/v1")
    router = book.lookup("openai/gpt-4o", "https://openrouter.ai/api/v1")

    assert groq is not None and groq.provider == "groq"
    assert router is not None and router.context_window == 128_000


def test_configured_price_wins_and_zero_means_free():
    book = PriceBook({"llama3.1:8b": ModelPrice(input=0, output=0, context_window=131_072)})

    assert book.cost("llama3.1:8b", Usage(1000, 1000), OLLAMA) == 0.0
    assert book.context_window("llama3.1:8b", OLLAMA) == 131_072
    assert book.lookup("llama3.1:8b", OLLAMA).source == "config"


def test_configured_price_overrides_the_snapshot_but_keeps_its_context_window():
    book = PriceBook({"gpt-4o-mini": ModelPrice(input=1.0, output=2.0)})

    pricing = book.lookup("gpt-4o-mini", OPENAI)

    assert (pricing.input, pricing.output) == (1.0, 2.0)
    assert pricing.cached_input is None
    assert pricing.context_window == 128_000
    # Without a configured cached rate, cached input costs what input costs.
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=0, cached_tokens=1_000_000)
    assert book.cost("gpt-4o-mini", usage, OPENAI) == pytest.approx(1.0)


def test_context_window_of_known_models(book):
    assert book.context_window("gpt-4o", OPENAI) == 128_000
    assert book.context_window("gpt-5", OPENAI) == 400_000
    assert book.context_window("llama3.1:8b", OLLAMA) is None


def test_without_autoload_prices_are_unknown_until_loaded_then_known():
    book = PriceBook({"llama3.1:8b": ModelPrice(input=0, output=0)}, autoload=False)

    assert book.lookup("gpt-4o-mini", OPENAI) is None  # not loaded yet: unknown, not wrong
    assert book.cost("llama3.1:8b", Usage(10, 10), OLLAMA) == 0.0  # overrides need no loading
    book.load()

    assert book.lookup("gpt-4o-mini", OPENAI).input == 0.15

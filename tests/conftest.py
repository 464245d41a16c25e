"""Shared fixtures: a real OpenAI-compatible server on 127.0.0.1, a recognisable fake key, and an
environment scrubbed of the user's OpenAI settings so no test can reach the real API."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tui_chat.engine.local_servers import PORTS_ENV

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_harness import FAKE_API_KEY, FAKE_API_KEY_ENV
from engine_harness import ChatHarness
from openai_server import FakeOpenAIServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heavy tests first, the rest after them in their usual order. On several workers
    (`-n auto --dist loadgroup`, pytest-xdist) each takes the next test in this order as it frees
    up: a 70-second test started last would run alone while the other workers sit idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _no_user_openai_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's key or base URL (and so never reach api.openai.com)."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        FAKE_API_KEY_ENV,
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_local_server_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps without a key look for servers on this machine's usual ports: tests ask none, so
    what runs on the developer's machine (an Ollama) cannot change an outcome. A test that wants
    a server found points the probe at the test server's port."""
    monkeypatch.setenv(PORTS_ENV, "")


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fresh fake OpenAI server per test (scripts and recorded requests never leak)."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fake key in the TUI_CHAT_TEST_API_KEY environment variable; returns the key."""
    monkeypatch.setenv(FAKE_API_KEY_ENV, FAKE_API_KEY)
    return FAKE_API_KEY


@pytest.fixture
async def chat(openai_server: FakeOpenAIServer, api_key: str) -> AsyncIterator[ChatHarness]:
    """Engine clients talking to the test server with the fake key."""
    harness = ChatHarness(openai_server, api_key)
    yield harness
    await harness.aclose()

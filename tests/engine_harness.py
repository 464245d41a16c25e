"""Engine clients pointed at the test server, for the tests that run replies without the app
(engine and flow tests import it; conftest's `chat` fixture hands one out)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app_harness import FAKE_API_KEY_ENV
from openai_server import FakeOpenAIServer

from tui_chat.config import Profile
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.attachment_parts import ImageLoader
from tui_chat.engine.client import ChatClient
from tui_chat.engine.errors import ChatError
from tui_chat.engine.events import StreamEvent, StreamFailed, TextDelta


class ChatHarness:
    """Builds engine clients pointed at the test server and runs replies to completion."""

    def __init__(self, server: FakeOpenAIServer, key: str) -> None:
        self.server = server
        self.key = key
        self.clients: list[Any] = []

    def profile(self, **overrides: Any) -> Profile:
        values: dict[str, Any] = {
            "name": "test",
            "base_url": self.server.base_url,
            "api_key_env": FAKE_API_KEY_ENV,
            "request_timeout": 5.0,
        }
        values.update(overrides)
        return Profile(**values)

    def client(
        self, *, max_retries: int = 0, load_image: ImageLoader | None = None, **overrides: Any
    ) -> ChatClient:
        """A client with SDK retries off unless asked (keeps error tests fast); `load_image`
        reads attached images (an ImageStore's `read`)."""
        client = ChatClient(
            self.profile(**overrides), max_retries=max_retries, load_image=load_image
        )
        self.clients.append(client)
        return client

    @staticmethod
    def conversation(
        *user_texts: str, system: str = "", model: str = "gpt-4o-mini"
    ) -> Conversation:
        conversation = Conversation.new(profile="test", model=model, system=system)
        for text in user_texts:
            conversation.add(Message(role="user", content=text))
        return conversation

    async def events(
        self,
        conversation: Conversation | None = None,
        client: ChatClient | None = None,
        **kwargs: Any,
    ) -> list[StreamEvent]:
        """Every event of one reply, in order."""
        client = client or self.client()
        conversation = conversation or self.conversation("hello there")
        return [event async for event in client.stream_reply(conversation, **kwargs)]

    async def error(
        self,
        conversation: Conversation | None = None,
        client: ChatClient | None = None,
        **client_options: Any,
    ) -> ChatError:
        """The ChatError of a reply expected to fail."""
        events = await self.events(conversation, client or self.client(**client_options))
        assert isinstance(events[-1], StreamFailed), events
        return events[-1].error

    @staticmethod
    def text(events: list[StreamEvent]) -> str:
        """The reply text carried by a list of events."""
        return "".join(event.text for event in events if isinstance(event, TextDelta))

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` on the event loop (a flow or stream runs there too) until it holds; the
    wait is long because 2 busy cores are shared by other test runs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)

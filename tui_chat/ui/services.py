"""What the screens need from the layers below, built once at start-up and passed down."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui_chat.config import Config, ConfigProblem, Profile
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.tokens import TokenCounter
from tui_chat.paths import AppPaths
from tui_chat.storage.attachments import ImageStore
from tui_chat.storage.drafts import DraftStore
from tui_chat.storage.last_open import LastOpen
from tui_chat.storage.store import ConversationStore
from tui_chat.tools import ToolBox
from tui_chat.ui.actions import KeyMap

if TYPE_CHECKING:
    from tui_chat.engine.client import ChatClient


@dataclass
class Services:
    """The stores of conversations, drafts and attached images, the note of the conversation
    open at the last exit, the token counter, the price book and one API client per profile."""

    paths: AppPaths
    config: Config
    config_problems: list[ConfigProblem]
    store: ConversationStore
    drafts: DraftStore
    last_open: LastOpen
    counter: TokenCounter
    prices: PriceBook
    images: ImageStore
    # The clock for live streaming figures (elapsed, tokens/s); tests freeze it for snapshots.
    clock: Callable[[], float] = time.monotonic
    # The tools of [mcp_servers]; servers start at the first send that needs them.
    toolbox: ToolBox = field(default_factory=lambda: ToolBox({}))
    _clients: dict[str, ChatClient] = field(default_factory=dict)

    @classmethod
    def create(cls, paths: AppPaths, config: Config, problems: list[ConfigProblem]) -> Services:
        return cls(
            paths=paths,
            config=config,
            config_problems=problems,
            store=ConversationStore(paths),
            drafts=DraftStore(paths.drafts_dir),
            last_open=LastOpen(paths.cache_dir),
            counter=TokenCounter(),
            prices=PriceBook(config.prices, autoload=False),  # loaded in a worker
            images=ImageStore(paths.attachments_dir),
            toolbox=ToolBox(config.mcp_servers, config_path=paths.config_file),
        )

    @property
    def key_map(self) -> KeyMap:
        """The keys in force: the registry's defaults, `enter_sends` and `[keys]`."""
        return KeyMap(self.config.keys, self.config.enter_sends)

    def client_for(self, profile: Profile) -> ChatClient:
        """One client per profile, made on first use: importing openai costs ~0.7 s."""
        client = self._clients.get(profile.name)
        if client is None:
            from tui_chat.engine.client import ChatClient

            # Attached images go to the server as data URLs read from the store.
            client = ChatClient(profile, load_image=self.images.read)
            self._clients[profile.name] = client
        return client

    async def aclose(self) -> None:
        self.drafts.close()  # the drafts this window held may go to the next window
        await self.toolbox.aclose()  # the servers' processes end with the app
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

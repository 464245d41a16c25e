"""Attachments through the reply flow: a refused send keeps the prompt and its files on disk,
asking again sends them again, and forks carry them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from engine_harness import ChatHarness
from image_files import png
from openai_server import FakeOpenAIServer

from tui_chat.attachments.reading import read_attachment
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.tokens import TokenCounter
from tui_chat.flow import ReplyFlow
from tui_chat.paths import AppPaths
from tui_chat.storage.attachments import ImageStore
from tui_chat.storage.store import ConversationStore

LOG = "ERROR disk full\n"


def flow(conversation: Conversation, chat: ChatHarness, store: ConversationStore) -> ReplyFlow:
    blobs = ImageStore(store.paths.attachments_dir)
    return ReplyFlow(
        conversation,
        chat.client(load_image=blobs.read),
        store=store,
        counter=TokenCounter(),
        prices=PriceBook(autoload=False),
    )


async def test_a_model_refusing_images_keeps_the_prompt_and_files_and_a_retry_sends_them(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer
) -> None:
    paths = AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    store = ConversationStore(paths)
    blobs = ImageStore(paths.attachments_dir)
    (tmp_path / "job.log").write_text(LOG)
    (tmp_path / "s.png").write_bytes(png(4, 4))
    files = [read_attachment(name, cwd=tmp_path, blobs=blobs) for name in ("job.log", "s.png")]
    conversation = ChatHarness.conversation(model="gpt-4o")
    conversation.add(Message(role="user", content="Why?", attachments=files))
    openai_server.refuse_images = True

    reply = await flow(conversation, chat, store).run()

    assert reply.finish_reason == "error"
    assert reply.error is not None and "does not take images" in reply.error
    on_disk = tomllib.loads(store.path_for(conversation.id).read_text(encoding="utf-8"))
    prompt = on_disk["messages"][0]
    assert prompt["content"] == "Why?"
    assert [a["name"] for a in prompt["attachments"]] == ["job.log", "s.png"]
    assert prompt["attachments"][0]["text"] == LOG

    # Ask again (as regenerate does: the failed reply goes, the prompt stays).
    openai_server.refuse_images = False
    conversation.messages.pop()
    again = await flow(conversation, chat, store).run()

    assert again.finish_reason == "stop"
    parts = openai_server.chat_requests[-1].parts
    assert [part.type for part in parts] == ["text", "text", "image_url"]
    assert parts[2].data == png(4, 4)


def test_a_fork_keeps_the_files_of_the_messages_it_keeps_as_copies(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("remember")
    [notes] = [read_attachment("notes.txt", cwd=tmp_path, blobs=ImageStore(tmp_path / "x"))]
    conversation = ChatHarness.conversation()
    conversation.add(Message(role="user", content="Read this", attachments=[notes]))
    conversation.add(Message(role="assistant", content="Read."))
    conversation.add(Message(role="user", content="And now?"))

    fork = conversation.fork_before(2)

    assert fork.messages[0].attachments == [notes]
    fork.messages[0].attachments[0].extra["note"] = "edited in the fork"
    assert conversation.messages[0].attachments[0].extra == {}

"""Attachments on the wire: a message with files goes as content parts the server can read
(its text, each file framed with its name, each image a data URL of its type), and a server
or an image store that says no gets one sentence."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from image_files import jpeg, png
from openai_server import Script

from tui_chat.attachments.reading import read_attachment
from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.events import Finished, StreamFailed
from tui_chat.storage.attachments import ImageStore

LOG = "07:00:01 ERROR disk full\n07:00:02 WARN retrying\n"
NOTES = "Check /var first.\n"


@pytest.fixture
def blobs(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "attachments")


def attached(tmp_path: Path, blobs: ImageStore, files: dict[str, bytes]) -> list[Attachment]:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return [read_attachment(name, cwd=tmp_path, blobs=blobs) for name in files]


def asking(chat, text: str, attachments: list[Attachment], model: str = "gpt-4o") -> Conversation:
    conversation = chat.conversation(model=model)
    conversation.add(Message(role="user", content=text, attachments=attachments))
    return conversation


async def test_two_files_and_an_image_reach_the_server_as_parts_it_can_read(
    chat, openai_server, tmp_path, blobs
):
    shot = png(40, 30)
    files = attached(
        tmp_path, blobs, {"job.log": LOG.encode(), "notes.txt": NOTES.encode(), "s.png": shot}
    )
    conversation = asking(chat, "Why did it fail?", files)

    events = await chat.events(conversation, chat.client(load_image=blobs.read))

    assert isinstance(events[-1], Finished), events
    parts = openai_server.chat_requests[-1].parts
    assert [(part.role, part.type) for part in parts] == [
        ("user", "text"),
        ("user", "text"),
        ("user", "text"),
        ("user", "image_url"),
    ]
    assert parts[0].text == "Why did it fail?"
    assert parts[1].text == f'<file name="job.log">\n{LOG}\n</file>'
    assert parts[2].text == f'<file name="notes.txt">\n{NOTES}\n</file>'
    assert (parts[3].media_type, parts[3].data, parts[3].problem) == ("image/png", shot, None)
    # The server read the files: its echo holds their words.
    assert "ERROR disk full" in chat.text(events)


async def test_what_is_sent_is_the_image_as_attached_not_as_the_file_is_now(
    chat, openai_server, tmp_path, blobs
):
    photo = jpeg(800, 600)
    files = attached(tmp_path, blobs, {"photo.jpg": photo})
    (tmp_path / "photo.jpg").write_bytes(png(1, 1))  # changed after it was attached

    await chat.events(asking(chat, "", files), chat.client(load_image=blobs.read))

    [part] = openai_server.chat_requests[-1].parts
    url = openai_server.chat_requests[-1].json["messages"][-1]["content"][0]["image_url"]["url"]
    assert url == "data:image/jpeg;base64," + base64.b64encode(photo).decode()
    assert part.data == photo


async def test_a_message_with_only_text_files_needs_no_image_folder(chat, openai_server, tmp_path):
    files = attached(tmp_path, ImageStore(tmp_path / "unused"), {"notes.txt": NOTES.encode()})
    events = await chat.events(asking(chat, "Summarise", files), chat.client())
    assert isinstance(events[-1], Finished)
    assert [part.type for part in openai_server.chat_requests[-1].parts] == ["text", "text"]


async def test_a_model_that_takes_no_images_is_said_in_one_sentence(
    chat, openai_server, tmp_path, blobs
):
    openai_server.refuse_images = True
    files = attached(tmp_path, blobs, {"s.png": png(4, 4)})
    error = await chat.error(
        asking(chat, "What is this?", files), chat.client(load_image=blobs.read)
    )
    assert error.kind == "no_images"
    host = f"127.0.0.1:{openai_server.port}"
    assert error.message == (
        f"gpt-4o at {host} does not take images (400: Invalid content type. image_url is only "
        "supported by certain models): remove the images or pick a model that reads them."
    )


@pytest.mark.parametrize(
    ("status", "server_says"),
    [
        (500, "image input is not supported - hint: you may need to provide the mmproj"),
        (400, "llava-text is not a multimodal model"),
        (400, "This model does not support image input."),
    ],
)
async def test_other_servers_ways_of_refusing_images_are_understood(
    chat, openai_server, tmp_path, blobs, status, server_says
):
    openai_server.enqueue(Script(status=status, error_message=server_says))
    files = attached(tmp_path, blobs, {"s.png": png(4, 4)})
    error = await chat.error(
        asking(chat, "What is this?", files, model="llava-text"), chat.client(load_image=blobs.read)
    )
    assert error.kind == "no_images"
    assert error.message.startswith("llava-text at 127.0.0.1:")


async def test_a_stored_image_gone_missing_stops_the_send_before_the_server_hears_of_it(
    chat, openai_server, tmp_path, blobs
):
    [image] = attached(tmp_path, blobs, {"s.png": png(4, 4)})
    blobs.path_of(image).unlink()

    events = await chat.events(asking(chat, "Look", [image]), chat.client(load_image=blobs.read))

    assert isinstance(events[-1], StreamFailed)
    assert events[-1].error.kind == "attachment"
    assert events[-1].error.message == (
        f"The stored copy of the image s.png is missing from {blobs.folder}."
    )
    assert openai_server.chat_requests == []


async def test_a_client_without_an_image_folder_says_it_cannot_send_images(
    chat, openai_server, tmp_path, blobs
):
    files = attached(tmp_path, blobs, {"s.png": png(4, 4)})
    error = await chat.error(asking(chat, "Look", files), chat.client())
    assert error.kind == "attachment"
    assert openai_server.chat_requests == []


async def test_an_image_in_an_earlier_message_is_sent_again_with_the_history(
    chat, openai_server, tmp_path, blobs
):
    shot = png(8, 8)
    conversation = asking(chat, "Look", attached(tmp_path, blobs, {"s.png": shot}))
    conversation.add(Message(role="assistant", content="A grey square."))
    conversation.add(Message(role="user", content="What colour again?"))

    await chat.events(conversation, chat.client(load_image=blobs.read))

    messages = openai_server.chat_requests[-1].json["messages"]
    assert [type(message["content"]).__name__ for message in messages] == ["list", "str", "str"]
    assert [part.data for part in openai_server.chat_requests[-1].parts] == [None, shot]

"""Exports carry attached files: Markdown shows a text file's words in a fence that its own
backticks cannot close and names an image by where it is stored; JSON holds both, no bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from attachment_samples import image_file, text_file

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.export import to_json, to_markdown

T0 = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
README = "# Project\n\n```sh\nmake\n```\n"
README_FILE = text_file(README, "README.md", size=1_234)
SHOT = image_file(1280, 800, "screen.png")


def with_files() -> Conversation:
    conv = Conversation(id="20261202-073000-beef", title="Review", created=T0, updated=T0)
    legacy = text_file("café", "odd `name`\n.txt", size=4, encoding="cp1252")
    conv.messages.append(
        Message("user", "Is this clear?", created=T0, attachments=[README_FILE, legacy, SHOT])
    )
    conv.messages.append(Message("assistant", "Mostly.", created=T0))
    return conv


def test_markdown_shows_a_text_file_under_its_name_in_a_fence_it_cannot_close():
    text = to_markdown(with_files())
    assert (
        "Is this clear?\n\nAttached file ` README.md ` (1.2 KB):\n\n````\n" + README + "````\n"
    ) in text
    # A name's backticks and newline cannot break the line it is on.
    assert "Attached file ``` odd `name` .txt ``` (4 B, cp1252):\n\n```\ncafé\n```\n" in text


def test_markdown_names_an_image_by_its_stored_file():
    text = to_markdown(with_files())
    assert (
        "Attached image ` screen.png ` (1280×800, 48 KB), stored as "
        f"`attachments/{SHOT.stored_name}`\n"
    ) in text
    assert text.index("stored as") < text.index("## Assistant")


def test_json_holds_the_text_and_references_the_image():
    [readme, legacy, shot] = json.loads(to_json(with_files()))["messages"][0]["attachments"]
    assert readme == {
        "kind": "text",
        "name": "README.md",
        "path": "/home/me/README.md",
        "sha256": README_FILE.sha256,
        "size": 1234,
        "encoding": "utf-8",
        "text": README,
    }
    assert legacy["encoding"] == "cp1252"
    assert shot == {
        "kind": "image",
        "name": "screen.png",
        "path": "/home/me/screen.png",
        "sha256": SHOT.sha256,
        "size": 48213,
        "media_type": "image/png",
        "width": 1280,
        "height": 800,
        "stored_as": f"attachments/{SHOT.sha256}.png",
    }

"""Exports carry attached files: Markdown shows a text file's words in a fence that its own
backticks cannot close and names an image by where it is stored; JSON holds both, no bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.export import to_json, to_markdown

T0 = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
README = "# Project\n\n```sh\nmake\n```\n"


def with_files() -> Conversation:
    conv = Conversation(id="20261202-073000-beef", title="Review", created=T0, updated=T0)
    readme = Attachment(
        kind="text",
        name="README.md",
        path="/src/README.md",
        sha256="a" * 64,
        size=1_234,
        text=README,
    )
    legacy = Attachment(
        kind="text",
        name="odd `name`\n.txt",
        path="/src/odd.txt",
        sha256="b" * 64,
        size=4,
        text="café",
        encoding="cp1252",
    )
    shot = Attachment(
        kind="image",
        name="screen.png",
        path="/home/me/screen.png",
        sha256="c" * 64,
        size=48_213,
        media_type="image/png",
        width=1280,
        height=800,
    )
    conv.messages.append(
        Message("user", "Is this clear?", created=T0, attachments=[readme, legacy, shot])
    )
    conv.messages.append(Message("assistant", "Mostly.", created=T0))
    return conv


def test_markdown_shows_a_text_file_under_its_name_in_a_fence_it_cannot_close():
    text = to_markdown(with_files())
    assert (
        "Is this clear?\n\nAttached file ` README.md ` (1.2 KB):\n\n````\n" + README + "\n````\n"
    ) in text
    # A name's backticks and newline cannot break the line it is on.
    assert "Attached file ``` odd `name` .txt ``` (4 B, cp1252):\n\n```\ncafé\n```\n" in text


def test_markdown_names_an_image_by_its_stored_file():
    text = to_markdown(with_files())
    assert (
        f"Attached image ` screen.png ` (1280×800, 48 KB), stored as `attachments/{'c' * 64}.png`\n"
    ) in text
    assert text.index("stored as") < text.index("## Assistant")


def test_json_holds_the_text_and_references_the_image():
    [readme, legacy, shot] = json.loads(to_json(with_files()))["messages"][0]["attachments"]
    assert readme == {
        "kind": "text",
        "name": "README.md",
        "path": "/src/README.md",
        "sha256": "a" * 64,
        "size": 1234,
        "encoding": "utf-8",
        "text": README,
    }
    assert legacy["encoding"] == "cp1252"
    assert shot == {
        "kind": "image",
        "name": "screen.png",
        "path": "/home/me/screen.png",
        "sha256": "c" * 64,
        "size": 48213,
        "media_type": "image/png",
        "width": 1280,
        "height": 800,
        "stored_as": f"attachments/{'c' * 64}.png",
    }

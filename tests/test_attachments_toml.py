"""Attachments in conversation files: a text file's words readable and greppable in the
message, an image only by its hash, never base64; older files and older tui-chats unharmed."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import pytest
from attachment_samples import image_file, text_file
from older_version import resave_with_older_version

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.storage.errors import ConversationFileError
from tui_chat.storage.toml_read import conversation_from_toml
from tui_chat.storage.toml_write import conversation_to_toml

PATH = Path("/data/conversations/20261202-073000-a1b2.toml")
MOMENT = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
LOG = "2026-12-02 07:00:01 ERROR disk full on /var\n2026-12-02 07:00:02 WARN retrying\n"
# The last tui-chat before attachments were saved: its reader does not know the key.
BEFORE_ATTACHMENTS = "245317f"
SHOT = image_file(1280, 800, "screen.png")


def with_attachments() -> Conversation:
    conv = Conversation(id=PATH.stem, title="Why did the job fail?", created=MOMENT, updated=MOMENT)
    conv.messages.append(
        Message(
            "user",
            "What went wrong here?",
            created=MOMENT,
            attachments=[
                text_file(LOG, "job.log", path="/var/log/job.log"),
                text_file("café", "notes.txt", size=5, encoding="cp1252"),
                SHOT,
            ],
        )
    )
    conv.messages.append(Message("assistant", "The disk filled up.", created=MOMENT))
    return conv


def test_text_is_kept_line_for_line_and_an_image_by_its_hash():
    text = conversation_to_toml(with_attachments())
    assert (
        '[[messages.attachments]]\nkind = "text"\nname = "job.log"\npath = "/var/log/job.log"\n'
        f'sha256 = "{sha256(LOG.encode()).hexdigest()}"\nsize = {len(LOG)}\n'
        f"text = '''\n{LOG}'''\n"
    ) in text
    assert "encoding = \"cp1252\"\ntext = '''\ncafé'''\n" in text
    assert (
        f'[[messages.attachments]]\nkind = "image"\nname = "screen.png"\n'
        f'path = "/home/me/screen.png"\nsha256 = "{SHOT.sha256}"\nsize = 48213\n'
        'media_type = "image/png"\nwidth = 1280\nheight = 800\n'
    ) in text
    # grep finds the log's lines as they were; nothing base64-like is in the file.
    assert "\n2026-12-02 07:00:01 ERROR disk full on /var\n" in text
    assert not re.search(r"[A-Za-z0-9+/]{100,}", text)
    # The attachments belong to the user's message, before the reply.
    assert text.index("[[messages.attachments]]") < text.rindex("[[messages]]")


def test_attachments_round_trip_exactly():
    conv = with_attachments()
    assert conversation_from_toml(conversation_to_toml(conv), PATH) == conv


def test_a_file_from_before_attachments_loads_and_saves_unchanged():
    conv = with_attachments()
    for message in conv.messages:
        message.attachments = []
    old_file = conversation_to_toml(conv)
    assert "attachments" not in old_file
    loaded = conversation_from_toml(old_file, PATH)
    assert all(message.attachments == [] for message in loaded.messages)
    assert conversation_to_toml(loaded) == old_file


def test_keys_a_newer_tui_chat_adds_to_an_attachment_are_kept():
    text = conversation_to_toml(with_attachments()).replace(
        "width = 1280\nheight = 800\n",
        'width = 1280\nheight = 800\ndetail = "low"\n\n[messages.attachments.crop]\nx = 10\n',
    )
    loaded = conversation_from_toml(text, PATH)
    image = loaded.messages[0].attachments[2]
    assert image.extra == {"detail": "low", "crop": {"x": 10}}
    again = tomllib.loads(conversation_to_toml(loaded))["messages"][0]["attachments"][2]
    assert (again["detail"], again["crop"], again["width"]) == ("low", {"x": 10}, 1280)


def test_an_attachment_of_an_unknown_kind_names_its_line():
    text = conversation_to_toml(with_attachments()).replace('kind = "image"', 'kind = "video"')
    with pytest.raises(ConversationFileError) as broken:
        conversation_from_toml(text, PATH)
    assert broken.value.reason == "an attachment's kind is 'video'; it should be text or image"
    assert text.splitlines()[broken.value.line - 1] == 'kind = "video"'


def test_a_tui_chat_from_before_attachments_keeps_them_when_it_saves(tmp_path):
    file = tmp_path / f"{PATH.stem}.toml"
    file.write_text(conversation_to_toml(with_attachments()), encoding="utf-8")
    resave_with_older_version(BEFORE_ATTACHMENTS, file, tmp_path, "attachments")

    back = conversation_from_toml(file.read_text(encoding="utf-8"), file)
    assert back.title == "renamed by the older version"
    assert back.messages[0].attachments == with_attachments().messages[0].attachments
    assert f"text = '''\n{LOG}'''" in file.read_text(encoding="utf-8")  # still readable

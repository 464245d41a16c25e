"""Images outlive their conversations only while someone needs them: trash and restore keep
them, `tui-chat trash empty` removes those no conversation (live or trashed) mentions."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from image_files import png

from tui_chat.attachments.reading import read_attachment
from tui_chat.cli import main
from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.attachments import UNSENT_GRACE_SECONDS, ImageStore, referenced_hashes
from tui_chat.storage.store import ConversationStore


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")


def attach_image(paths: AppPaths, tmp_path: Path, name: str, size: int) -> Attachment:
    """An image attached a while ago (older than the grace period for unsent ones)."""
    (tmp_path / name).write_bytes(png(size, size))
    blobs = ImageStore(paths.attachments_dir)
    attachment = read_attachment(name, cwd=tmp_path, blobs=blobs)
    old = time.time() - UNSENT_GRACE_SECONDS - 60
    os.utime(blobs.path_of(attachment), (old, old))
    return attachment


def saved_with(store: ConversationStore, title: str, image: Attachment) -> str:
    conversation = Conversation.new(profile="p", model="gpt-4o")
    conversation.title = title
    conversation.add(Message("user", "see this", attachments=[image]))
    store.save(conversation)
    return conversation.id


def stored(paths: AppPaths) -> set[str]:
    return {path.name for path in paths.attachments_dir.iterdir()}


def test_trash_and_restore_keep_the_image_and_empty_trash_removes_it_once_unused(
    paths, tmp_path, capsys
):
    store = ConversationStore(paths)
    live_image = attach_image(paths, tmp_path, "live.png", 4)
    gone_image = attach_image(paths, tmp_path, "gone.png", 5)
    shared_image = attach_image(paths, tmp_path, "shared.png", 6)
    saved_with(store, "kept", live_image)
    saved_with(store, "also kept", shared_image)
    doomed = saved_with(store, "deleted", gone_image)
    doomed_too = saved_with(store, "deleted too", shared_image)
    everything = stored(paths)
    assert len(everything) == 3

    store.trash(doomed)
    store.trash(doomed_too)
    assert stored(paths) == everything  # trashing deletes nothing
    restored = store.restore(doomed)
    assert stored(paths) == everything
    assert store.load(restored).messages[0].attachments == [gone_image]
    store.trash(restored)

    assert main(["trash", "empty", "--yes", "--data-dir", str(paths.data_dir)]) == 0
    assert capsys.readouterr().out == "Deleted 2 conversations and 1 unused image for good.\n"
    assert stored(paths) == {live_image.stored_name, shared_image.stored_name}


def test_images_named_in_live_and_trashed_files_count_as_used(paths, tmp_path):
    store = ConversationStore(paths)
    live = attach_image(paths, tmp_path, "live.png", 4)
    trashed = attach_image(paths, tmp_path, "trashed.png", 5)
    saved_with(store, "live", live)
    store.trash(saved_with(store, "trashed", trashed))
    used = referenced_hashes((paths.conversations_dir, paths.trash_dir))
    assert {live.sha256, trashed.sha256} <= used
    assert ImageStore(paths.attachments_dir).remove_unreferenced(used) == 0


def test_an_image_attached_but_not_yet_sent_survives_emptying(paths, tmp_path):
    store = ConversationStore(paths)
    (tmp_path / "new.png").write_bytes(png(7, 7))
    fresh = read_attachment("new.png", cwd=tmp_path, blobs=ImageStore(paths.attachments_dir))
    store.trash(saved_with(store, "old", attach_image(paths, tmp_path, "old.png", 4)))
    assert store.empty_trash().images == 1
    assert stored(paths) == {fresh.stored_name}


def test_a_broken_file_keeps_the_images_it_names(paths, tmp_path):
    store = ConversationStore(paths)
    image = attach_image(paths, tmp_path, "shot.png", 4)
    kept = saved_with(store, "soon broken", image)
    path = store.path_for(kept)
    path.write_text(path.read_text() + "\nthis line is not TOML\n")
    store.trash(saved_with(store, "goes", attach_image(paths, tmp_path, "other.png", 5)))
    store.empty_trash()
    assert stored(paths) == {image.stored_name}


def test_the_trash_is_counted_without_reading_its_files(paths):
    store = ConversationStore(paths)
    paths.trash_dir.mkdir(parents=True)
    (paths.trash_dir / "a.toml").write_text("not a conversation at all")
    (paths.trash_dir / "b.toml").write_bytes(b"\xff\xfe broken")
    (paths.trash_dir / ".c.toml.123.tmp").write_text("a temp file")
    assert store.count_trash() == 2


def test_emptying_an_empty_trash_still_clears_images_never_sent(paths, tmp_path, capsys):
    ConversationStore(paths)
    attach_image(paths, tmp_path, "never-sent.png", 4)  # attached a while ago, then removed
    assert main(["trash", "empty", "--data-dir", str(paths.data_dir)]) == 0
    assert capsys.readouterr().out == "Deleted 1 unused image for good.\n"
    assert stored(paths) == set()
    assert main(["trash", "empty", "--data-dir", str(paths.data_dir)]) == 0
    assert capsys.readouterr().out == "The trash is empty.\n"


def test_an_old_image_attached_again_waits_unsent_like_a_new_one(paths, tmp_path):
    store = ConversationStore(paths)
    image = attach_image(paths, tmp_path, "again.png", 4)  # stored long ago, used by nothing
    read_attachment("again.png", cwd=tmp_path, blobs=ImageStore(paths.attachments_dir))
    assert store.empty_trash().images == 0
    assert stored(paths) == {image.stored_name}

"""The folder of attached images: stored once by content, private, read back checked, and
cleared of images no conversation names."""

from __future__ import annotations

import hashlib
import os
import stat
import time

import pytest
from attachment_samples import image_file
from image_files import png

from tui_chat.domain.attachments import Attachment
from tui_chat.paths import AppPaths
from tui_chat.storage.attachments import UNSENT_GRACE_SECONDS, ImageStore
from tui_chat.storage.errors import StorageError


def image_attachment(data: bytes, name: str = "shot.png") -> Attachment:
    """A PNG attachment whose hash and size are those of `data`."""
    return image_file(8, 8, name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def test_images_live_in_the_data_folders_attachments_folder(tmp_path):
    paths = AppPaths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    assert paths.attachments_dir == tmp_path / "data" / "attachments"


def test_an_image_is_stored_once_under_its_hash_privately(tmp_path):
    store = ImageStore(tmp_path / "attachments")
    data = png(8, 8)
    attachment = image_attachment(data)
    stored = store.put(data, attachment)
    assert stored == tmp_path / "attachments" / f"{attachment.sha256}.png"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    again = store.put(data, image_attachment(data, name="copy.png"))
    assert again == stored and len(list(store.folder.iterdir())) == 1
    assert store.read(attachment) == data


def test_a_damaged_stored_copy_is_replaced_when_the_image_is_attached_again(tmp_path):
    store = ImageStore(tmp_path / "attachments")
    data = png(8, 8)
    attachment = image_attachment(data)
    store.put(data, attachment).write_bytes(data[:20])  # cut short by a full disk, say
    store.put(data, attachment)
    assert store.read(attachment) == data


def test_a_missing_stored_image_is_said_in_one_sentence(tmp_path):
    store = ImageStore(tmp_path / "attachments")
    attachment = image_attachment(png(8, 8), name="shot\x1b[2J.png")
    with pytest.raises(StorageError) as missing:
        store.read(attachment)
    assert str(missing.value) == (
        f"The stored copy of the image shot␛[2J.png is missing from {store.folder}."
    )


def test_a_stored_image_changed_on_disk_is_not_sent(tmp_path):
    store = ImageStore(tmp_path / "attachments")
    data = png(8, 8)
    attachment = image_attachment(data)
    store.put(data, attachment).write_bytes(png(9, 9))
    with pytest.raises(StorageError) as changed:
        store.read(attachment)
    assert (
        str(changed.value)
        == "The stored copy of the image shot.png has changed since it was attached."
    )


def test_unreferenced_images_are_removed_but_recent_ones_wait_for_their_message(tmp_path):
    store = ImageStore(tmp_path / "attachments")
    kept, orphan, fresh = (image_attachment(png(size, size)) for size in (4, 5, 6))
    for attachment, size in ((kept, 4), (orphan, 5), (fresh, 6)):
        store.put(png(size, size), attachment)
    old = time.time() - UNSENT_GRACE_SECONDS - 60
    for attachment in (kept, orphan):
        os.utime(store.path_of(attachment), (old, old))
    removed = store.remove_unreferenced({kept.sha256})
    assert removed == 1
    assert sorted(path.name for path in store.folder.iterdir()) == sorted(
        [kept.stored_name, fresh.stored_name]
    )


def test_no_attachments_folder_means_nothing_to_remove(tmp_path):
    assert ImageStore(tmp_path / "never-made").remove_unreferenced(set()) == 0


def test_a_hand_edited_hash_cannot_make_it_read_a_file_outside_its_folder(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(2, 2))
    store = ImageStore(tmp_path / "attachments")
    store.folder.mkdir()
    forged = image_file(2, 2, "x.png", sha256="../secret")
    with pytest.raises(StorageError) as refused:
        store.read(forged)
    assert str(refused.value) == (
        "The image x.png has no valid sha256 in its conversation file, so it is not sent."
    )

"""Attaching a file: text kept whole in its encoding, images stored by hash, and every file
that cannot be attached refused in one sentence that is safe to show."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from image_files import gif, jpeg, padded, png, webp

from tui_chat.attachments.reading import (
    DEFAULT_LIMITS,
    AttachLimits,
    AttachmentRefused,
    read_attachment,
)
from tui_chat.storage.attachments import ImageStore

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture
def blobs(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "data" / "attachments")


def refusal(path: str, cwd: Path, blobs: ImageStore, limits: AttachLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(AttachmentRefused) as refused:
        read_attachment(path, cwd=cwd, blobs=blobs, limits=limits)
    sentence = str(refused.value)
    assert "\n" not in sentence and "\x1b" not in sentence
    return sentence


def test_a_utf8_text_file_is_kept_whole_with_its_hash_and_size(tmp_path, blobs):
    words = "first line\nsecond line, café ☕\n"
    (tmp_path / "notes.txt").write_text(words, encoding="utf-8")
    attachment = read_attachment("notes.txt", cwd=tmp_path, blobs=blobs)
    assert attachment.kind == "text"
    assert attachment.name == "notes.txt"
    assert attachment.path == str(tmp_path / "notes.txt")
    assert attachment.text == words
    assert attachment.encoding is None
    assert attachment.size == len(words.encode())
    assert attachment.sha256 == hashlib.sha256(words.encode()).hexdigest()
    assert not blobs.folder.exists()  # text is kept in the message, not stored apart


def test_a_byte_order_mark_is_dropped_from_utf8(tmp_path, blobs):
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfhello")
    attachment = read_attachment("bom.txt", cwd=tmp_path, blobs=blobs)
    assert (attachment.text, attachment.encoding) == ("hello", None)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_decoded(tmp_path, blobs, codec):
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    (tmp_path / "wide.txt").write_bytes(bom + "wide ☕ text".encode(codec))
    attachment = read_attachment("wide.txt", cwd=tmp_path, blobs=blobs)
    assert (attachment.text, attachment.encoding) == ("wide ☕ text", "utf-16")


def test_text_that_is_not_utf8_falls_back_to_windows_1252_then_latin1(tmp_path, blobs):
    (tmp_path / "ansi.txt").write_bytes("naïve “quotes”".encode("cp1252"))
    ansi = read_attachment("ansi.txt", cwd=tmp_path, blobs=blobs)
    assert (ansi.text, ansi.encoding) == ("naïve “quotes”", "cp1252")
    # 0x81 is one of the bytes cp1252 leaves undefined; latin-1 decodes every byte.
    (tmp_path / "odd.txt").write_bytes(b"caf\xe9 \x81")
    odd = read_attachment("odd.txt", cwd=tmp_path, blobs=blobs)
    assert (odd.text, odd.encoding) == ("café \x81", "latin-1")


def test_paths_are_relative_to_the_folder_given_and_tilde_is_home(tmp_path, blobs, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("in sub")
    assert read_attachment("sub/a.txt", cwd=tmp_path, blobs=blobs).text == "in sub"
    monkeypatch.setenv("HOME", str(tmp_path / "sub"))
    at_home = read_attachment("~/a.txt", cwd=Path("/"), blobs=blobs)
    assert (at_home.text, at_home.path) == ("in sub", str(tmp_path / "sub" / "a.txt"))


@pytest.mark.parametrize(
    ("name", "image", "media_type", "size"),
    [
        ("shot.png", png(30, 20), "image/png", (30, 20)),
        ("anim.gif", gif(640, 480), "image/gif", (640, 480)),
        ("photo.jpg", jpeg(4032, 3024), "image/jpeg", (4032, 3024)),
        ("exif.jpeg", jpeg(800, 600, metadata_bytes=30_000), "image/jpeg", (800, 600)),
        ("pic.webp", webp(1920, 1080), "image/webp", (1920, 1080)),
        ("lossless.webp", webp(640, 400, "VP8L"), "image/webp", (640, 400)),
        ("lossy.webp", webp(300, 200, "VP8"), "image/webp", (300, 200)),
        (
            "progressive.jpg",
            jpeg(1024, 768).replace(b"\xff\xc0", b"\xff\xc2"),
            "image/jpeg",
            (1024, 768),
        ),
    ],
)
def test_an_image_is_known_by_its_bytes_and_stored_by_hash(
    tmp_path, blobs, name, image, media_type, size
):
    (tmp_path / name).write_bytes(image)
    attachment = read_attachment(name, cwd=tmp_path, blobs=blobs)
    assert attachment.kind == "image"
    assert attachment.media_type == media_type
    assert (attachment.width, attachment.height) == size
    assert attachment.text == ""
    stored = blobs.folder / attachment.stored_name
    assert stored.read_bytes() == image
    assert stored.name.startswith(attachment.sha256)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(blobs.folder.stat().st_mode) == 0o700


def test_an_image_with_a_misleading_extension_is_still_an_image(tmp_path, blobs):
    (tmp_path / "notes.txt").write_bytes(png(4, 4))
    assert read_attachment("notes.txt", cwd=tmp_path, blobs=blobs).media_type == "image/png"


def test_what_is_sent_is_what_was_attached_even_when_the_file_changes(tmp_path, blobs):
    original = png(8, 8)
    (tmp_path / "shot.png").write_bytes(original)
    attachment = read_attachment("shot.png", cwd=tmp_path, blobs=blobs)
    (tmp_path / "shot.png").write_bytes(png(16, 16))
    assert blobs.read(attachment) == original


def test_a_missing_file_is_named_in_the_sentence(tmp_path, blobs):
    assert refusal("gone.txt", tmp_path, blobs) == "There is no file gone.txt."
    assert refusal("  ", tmp_path, blobs) == "No file was named."


def test_a_path_through_a_file_is_refused(tmp_path, blobs):
    (tmp_path / "plain").write_text("x")
    assert "not a folder" in refusal("plain/inside.txt", tmp_path, blobs)


def test_a_folder_is_refused(tmp_path, blobs):
    (tmp_path / "src").mkdir()
    assert refusal("src", tmp_path, blobs) == "src is a folder: attach the files in it one by one."


def test_an_unreadable_file_is_refused_even_for_root(tmp_path):
    # Run in a process that cannot bypass file permissions (root drops the capability).
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    secret.chmod(0)
    code = (
        "import sys; from pathlib import Path\n"
        "from tui_chat.attachments.reading import read_attachment, AttachmentRefused\n"
        "from tui_chat.storage.attachments import ImageStore\n"
        "try:\n"
        f"    read_attachment('secret.txt', cwd=Path({str(tmp_path)!r}),\n"
        "                    blobs=ImageStore(Path('x')))\n"
        "except AttachmentRefused as refused:\n"
        "    print(refused)\n"
    )
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*drop, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=REPOSITORY,
    )
    assert done.stdout.strip() == "secret.txt cannot be read: permission denied."


def _refused_quickly(path: str, cwd: Path, blobs: ImageStore) -> str:
    """The refusal, from a thread that must finish in seconds (a read of a FIFO would not)."""
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(refusal(path, cwd, blobs)), daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), f"reading {path} hung"
    assert time.monotonic() - started < 10
    return outcome[0]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, blobs):
    os.mkfifo(tmp_path / "pipe")
    assert (
        _refused_quickly("pipe", tmp_path, blobs)
        == "pipe is a named pipe, not a file: it is not read."
    )


def test_dev_zero_is_refused_without_reading_it(tmp_path, blobs):
    assert _refused_quickly("/dev/zero", tmp_path, blobs) == (
        "/dev/zero is a device, not a file: it is not read."
    )


def test_a_socket_is_refused(tmp_path, blobs, monkeypatch):
    listener = socket.socket(socket.AF_UNIX)
    # Unix socket paths are short (108 bytes): bind it by a relative name.
    monkeypatch.chdir(tmp_path)
    try:
        listener.bind("sock")
        assert refusal("sock", tmp_path, blobs) == "sock is a socket, not a file: it is not read."
    finally:
        listener.close()


def test_a_symlink_loop_is_refused(tmp_path, blobs):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert refusal("a", tmp_path, blobs) == "a is a symbolic link that loops back on itself."


def test_text_over_the_limit_is_refused_with_the_limit_stated(tmp_path, blobs):
    (tmp_path / "big.log").write_bytes(b"x" * 2_000_001)
    assert refusal("big.log", tmp_path, blobs) == (
        "big.log is 2,000,001 bytes: text files are attached up to 2 MB."
    )
    (tmp_path / "fits.log").write_bytes(b"x" * 2_000_000)
    assert read_attachment("fits.log", cwd=tmp_path, blobs=blobs).size == 2_000_000


def test_an_image_over_20_mb_is_refused(tmp_path, blobs):
    (tmp_path / "huge.png").write_bytes(padded(png(4, 4), 20_000_001))
    assert refusal("huge.png", tmp_path, blobs) == (
        "huge.png is 20,000,001 bytes: images are attached up to 20 MB."
    )
    assert not blobs.folder.exists()


def test_a_file_larger_than_its_size_says_is_read_no_further_than_the_limit(tmp_path, blobs):
    # /proc files say they are empty and hold more, like a file that grows while it is read:
    # reading stops one byte past the limit instead of trusting the size.
    maps = Path("/proc/self/maps")
    assert maps.stat().st_size == 0 and len(maps.read_bytes()) > 100
    sentence = refusal(str(maps), tmp_path, blobs, limits=AttachLimits(text_bytes=100))
    assert sentence == "/proc/self/maps is over the limit: text files are attached up to 100 B."


def test_a_binary_file_that_is_not_an_image_is_refused(tmp_path, blobs):
    (tmp_path / "program").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    assert refusal("program", tmp_path, blobs) == (
        "program is a binary file: only text and PNG, JPEG, GIF or WebP images are attached."
    )


def test_an_image_with_a_damaged_header_is_refused(tmp_path, blobs):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 4)
    assert refusal("broken.png", tmp_path, blobs) == (
        "broken.png starts like an image but its header is damaged."
    )


def test_a_name_with_escape_sequences_and_newlines_is_kept_but_shown_inert(tmp_path, blobs):
    name = "evil\x1b]52;c;aGk=\x07\nname.txt"
    (tmp_path / name).write_text("fine")
    attachment = read_attachment(name, cwd=tmp_path, blobs=blobs)
    assert attachment.name == name  # the real name, to find the file again
    missing = refusal(name + ".old", tmp_path, blobs)
    assert missing == "There is no file evil␛]52;c;aGk=␇ name.txt.old."

"""`tui-chat ask --attach FILE` through the installed command: files go with the message as
the app sends them and are saved the same way; a file that cannot be attached is one
sentence, exit 1, and nothing is sent."""

from __future__ import annotations

import re
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from image_files import png
from openai_server import FakeOpenAIServer
from terminal_session import run_installed, session_env

LOG = "07:00:01 ERROR disk full\n"
NOTES = "Check /var first.\n"


@pytest.fixture
def env(tmp_path: Path, openai_server: FakeOpenAIServer) -> dict[str, str]:
    return session_env(tmp_path, openai_server)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder the command runs in, holding the files to attach."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "job.log").write_text(LOG)
    (folder / "notes.txt").write_text(NOTES)
    (folder / "screen.png").write_bytes(png(32, 16))
    return folder


def ask(env: dict[str, str], work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_installed(env, "ask", *args, cwd=work)


def saved(tmp_path: Path) -> list[dict[str, Any]]:
    folder = tmp_path / "data" / "conversations"
    return [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))]


def test_two_files_and_an_image_are_sent_and_saved_text_inline_image_by_hash(
    tmp_path, openai_server, env, work
):
    done = ask(
        env,
        work,
        "why did it fail?",
        "--attach",
        "job.log",
        "--attach",
        str(work / "notes.txt"),
        "--attach",
        "screen.png",
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('You said: why did it fail?\n<file name="job.log">')
    parts = openai_server.chat_requests[-1].parts
    assert [part.type for part in parts] == ["text", "text", "text", "image_url"]
    assert parts[1].text == f'<file name="job.log">\n{LOG}\n</file>'
    assert parts[2].text == f'<file name="notes.txt">\n{NOTES}\n</file>'
    assert (parts[3].media_type, parts[3].data) == ("image/png", png(32, 16))

    [conversation] = saved(tmp_path)
    log, notes, image = conversation["messages"][0]["attachments"]
    assert (log["name"], log["path"], log["text"]) == ("job.log", str(work / "job.log"), LOG)
    assert notes["text"] == NOTES
    assert (image["media_type"], image["width"], image["height"]) == ("image/png", 32, 16)
    stored = tmp_path / "data" / "attachments" / f"{image['sha256']}.png"
    assert stored.read_bytes() == png(32, 16)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    file_text = next((tmp_path / "data" / "conversations").glob("*.toml")).read_text()
    assert not re.search(r"[A-Za-z0-9+/]{100,}", file_text)  # no base64 in the file


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("missing.txt", "tui-chat: There is no file missing.txt.\n"),
        (".", "tui-chat: . is a folder: attach the files in it one by one.\n"),
        ("/dev/zero", "tui-chat: /dev/zero is a device, not a file: it is not read.\n"),
    ],
)
def test_a_file_that_cannot_be_attached_sends_nothing(
    tmp_path, openai_server, env, work, name, sentence
):
    done = ask(env, work, "look at these", "--attach", "job.log", "--attach", name)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", sentence)
    assert openai_server.chat_requests == []
    assert saved(tmp_path) == []


def test_files_alone_make_a_message(openai_server, env, work):
    done = ask(env, work, "--attach", "notes.txt")
    assert done.returncode == 0, done.stderr
    assert [part.text for part in openai_server.chat_requests[-1].parts] == [
        f'<file name="notes.txt">\n{NOTES}\n</file>'
    ]


def test_no_save_keeps_no_image_either(tmp_path, openai_server, env, work):
    done = ask(env, work, "what is it?", "--no-save", "--attach", "screen.png")
    assert done.returncode == 0, done.stderr
    assert openai_server.chat_requests[-1].parts[1].data == png(32, 16)
    assert not (tmp_path / "data").exists()


def test_a_model_without_images_is_one_sentence_and_the_message_is_kept(
    tmp_path, openai_server, env, work
):
    openai_server.refuse_images = True
    done = ask(env, work, "what is it?", "--attach", "screen.png")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "does not take images" in done.stderr
    [conversation] = saved(tmp_path)
    prompt = conversation["messages"][0]
    assert prompt["content"] == "what is it?"
    assert prompt["attachments"][0]["name"] == "screen.png"


def test_no_save_continuing_a_conversation_still_sends_its_earlier_images(
    tmp_path, openai_server, env, work
):
    assert ask(env, work, "what is it?", "--attach", "screen.png").returncode == 0
    done = ask(env, work, "-c", "--no-save", "and this?", "--attach", "notes.txt")
    assert done.returncode == 0, done.stderr
    images = [p.data for p in openai_server.chat_requests[-1].parts if p.type == "image_url"]
    assert images == [png(32, 16)]

"""Fault injection, the files: conversation files that are broken in every way a user, a sync tool
or a crash can break them. Each is listed with its error (in `tui-chat list` and in the app's
sidebar), never rewritten, and the app keeps working beside them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from app_harness import build_app, data_paths, notifications, plant, wait_for, wait_until_idle
from app_harness import chat as chat_screen
from app_harness import reply_finished as reply_done
from openai_server import FakeOpenAIServer

from tui_chat.cli import main as cli_main

GOOD_HEADER = (
    'schema = 1\nid = "x"\ntitle = "t"\ncreated = 2026-01-01T00:00:00Z\n'
    'updated = 2026-01-01T00:00:00Z\nprofile = "test"\nmodel = "gpt-4o-mini"\n'
)
SECRET_OUTSIDE = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAB\n"


@dataclass
class Broken:
    name: str
    says: str  # a fragment of the error the list shows


def make_broken_files(tmp_path: Path) -> tuple[list[Broken], dict[str, bytes]]:
    """Broken files beside a good conversation; returns them and every planted file's bytes."""
    folder = data_paths(tmp_path).conversations_dir
    folder.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside" / "id_ed25519"
    outside.parent.mkdir()
    outside.write_text(SECRET_OUTSIDE, encoding="utf-8")
    files = {
        "invalid-toml": ('schema = 1\ntitle = "never closed\n', "line"),
        "unknown-schema": ('schema = 99\ntitle = "from the future"\n', "schema"),
        "missing-fields": (GOOD_HEADER + '[[messages]]\nrole = "user"\n', "has no content"),
        "wrong-types": ("schema = 1\ntitle = 5\n", "'title' should be a string"),
        "wrong-list-type": (GOOD_HEADER + 'messages = "not a list"\n', "'messages' should be"),
        "wrong-message-types": (GOOD_HEADER + '[[messages]]\nrole = 5\ncontent = "x"\n', "role 5"),
        "binary-garbage": (bytes(range(256)) * 64, "UTF-8"),
        "fifty-megabytes": (
            GOOD_HEADER + ("# padding line of a huge file\n" * 1_700_000) + "= broken at the end\n",
            "line",
        ),
    }
    broken: list[Broken] = []
    for name, (body, says) in files.items():
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        (folder / f"{name}.toml").write_bytes(data)
        broken.append(Broken(name, says))
    (folder / "outside-link.toml").symlink_to(outside)
    broken.append(Broken("outside-link", ""))
    (folder / "dangling-link.toml").symlink_to(tmp_path / "nowhere.toml")
    (folder / "a-folder.toml").mkdir()
    before = {f"{item.name}.toml": (folder / f"{item.name}.toml").read_bytes() for item in broken}
    before["outside"] = outside.read_bytes()
    return broken, before


def unchanged(tmp_path: Path, before: dict[str, bytes]) -> None:
    folder = data_paths(tmp_path).conversations_dir
    for name, data in before.items():
        path = tmp_path / "outside" / "id_ed25519" if name == "outside" else folder / name
        assert path.read_bytes() == data, f"{name} was rewritten"
    assert (folder / "outside-link.toml").is_symlink()
    assert (folder / "dangling-link.toml").is_symlink()
    assert not (tmp_path / "nowhere.toml").exists()


@dataclass
class Folder:
    root: Path
    good_id: str
    broken: list[Broken]
    before: dict[str, bytes]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Folder:
    """One data folder for the module: writing a 50 MB file once is enough."""
    root = tmp_path_factory.mktemp("broken-files")
    good = plant(root, "a good question", "a good answer")
    broken, before = make_broken_files(root)
    return Folder(root, good.id, broken, before)


def test_tui_chat_list_shows_every_broken_file_with_its_error(
    folder: Folder, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path, broken, before = folder.root, folder.broken, folder.before
    code = cli_main(["list", "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert any(folder.good_id in line and "a good question" in line for line in lines)
    for item in broken:
        (line,) = [line for line in lines if line.startswith(item.name + " ")]
        assert "BROKEN:" in line, line
        assert item.says in line, line
    assert "BEGIN OPENSSH" not in out and "b3BlbnNzaC1" not in out  # never the file's text
    assert cli_main(["stats", "--data-dir", str(tmp_path / "data")]) == 0
    stats = capsys.readouterr().out
    assert "conversations:    1" in stats
    assert f"files that cannot be read: {len(broken)}" in stats
    unchanged(tmp_path, before)


async def test_app_lists_broken_files_with_their_errors_and_keeps_working(
    folder: Folder, openai_server: FakeOpenAIServer
) -> None:
    tmp_path, broken, before = folder.root, folder.broken, folder.before
    app = build_app(tmp_path, openai_server)
    polled: list[bool] = []  # each store poll's answer: did the folder change?
    refresh = app.services.store.refresh

    def counted_refresh() -> bool:
        changed = refresh()
        polled.append(changed)
        return changed

    app.services.store.refresh = counted_refresh  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat_screen(app)
        option_list = screen.sidebar.option_list
        await wait_for(
            pilot, lambda: option_list.option_count == len(broken) + 1, timeout=20, what="list"
        )
        await wait_for(pilot, lambda: screen.conversation.id == folder.good_id, what="the good one")
        listed = {
            option_list.get_option_at_index(i).id: str(option_list.get_option_at_index(i).prompt)
            for i in range(option_list.option_count)
        }
        for item in broken:
            assert listed[item.name].startswith("⚠"), listed[item.name]
            assert item.says in listed[item.name], listed[item.name]
        assert not any("BEGIN OPENSSH" in text for text in listed.values())

        # Choosing a broken file says why it cannot be opened; the good one stays open.
        option_list.focus()
        index = next(
            i
            for i in range(option_list.option_count)
            if option_list.get_option_at_index(i).id == "invalid-toml"
        )
        option_list.highlighted = index
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any("invalid-toml" in str(n.message) for n in notifications(app)),
            what="the error notice",
        )
        assert screen.conversation.id == folder.good_id

        # Pinning a broken file is refused with its error, not written.
        option_list.focus()
        option_list.highlighted = index
        await pilot.press("p")
        await wait_for(
            pilot,
            lambda: any("Cannot change" in str(n.title) for n in notifications(app)),
            what="the refusal",
        )

        # And the app still chats.
        screen.composer.focus()
        screen.composer.set_text("still working?")
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen, 4), what="the reply")
        # One store poll with the broken files in the folder, and its list shown.
        polls = len(polled)
        await wait_for(pilot, lambda: len(polled) > polls, timeout=20, what="a store poll")
        await wait_until_idle(pilot)
    unchanged(tmp_path, before)
    assert sorted(os.listdir(data_paths(tmp_path).conversations_dir)) == sorted(
        [f"{folder.good_id}.toml", "a-folder.toml", "dangling-link.toml"]
        + [f"{item.name}.toml" for item in broken]
    )


def test_a_file_too_large_to_be_a_conversation_is_listed_not_read_and_never_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 300 MB file (sparse: no disk used) is refused by its size before it is read."""
    from tui_chat.domain.conversation import Message
    from tui_chat.storage.errors import ConversationFileError
    from tui_chat.storage.store import ConversationStore

    good = plant(tmp_path, "small question", "small answer")
    folder = data_paths(tmp_path).conversations_dir
    huge = folder / "huge.toml"
    with open(huge, "wb") as handle:
        handle.truncate(300_000_000)
    assert cli_main(["list", "--data-dir", str(tmp_path / "data")]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("huge ")]
    assert "BROKEN:" in line and "300 MB" in line

    store = ConversationStore(data_paths(tmp_path))
    with pytest.raises(ConversationFileError):
        store.load("huge")
    # A conversation saved under that id (a stale window) goes to a conflict copy instead.
    stale = store.load(good.id)
    stale.id = "huge"
    stale.add(Message(role="user", content="typed in a stale window"))
    outcome = store.save(stale)
    assert outcome.kind == "conflict_copy" and "cannot be read" in outcome.message
    assert huge.stat().st_size == 300_000_000
    copy = folder / f"{outcome.conflict_copy_id}.toml"
    assert "typed in a stale window" in copy.read_text(encoding="utf-8")

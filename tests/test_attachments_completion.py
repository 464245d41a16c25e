"""What `@` offers: files and folders of the folder the prefix points into, sorted, capped,
hidden ones only when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_chat.attachments.completion import Completion, list_completions


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("notes.txt", "Notes-old.txt", "nothing.md", ".env", "zeta.py"):
        (tmp_path / name).write_text("x")
    for name in ("node_modules", "src", ".git"):
        (tmp_path / name).mkdir()
    (tmp_path / "src" / "main.py").write_text("x")
    (tmp_path / "src" / "model.py").write_text("x")
    return tmp_path


def texts(completions: list[Completion]) -> list[str]:
    return [completion.text for completion in completions]


def test_an_empty_prefix_offers_the_folder_folders_first_hidden_left_out(project):
    assert texts(list_completions("", project)) == [
        "node_modules/",
        "src/",
        "Notes-old.txt",
        "notes.txt",
        "nothing.md",
        "zeta.py",
    ]


def test_typing_narrows_and_a_folder_ends_in_a_slash(project):
    found = list_completions("no", project)
    assert texts(found) == ["node_modules/", "notes.txt", "nothing.md"]
    assert [completion.is_folder for completion in found] == [True, False, False]


def test_a_prefix_that_matches_only_in_another_case_still_finds(project):
    assert texts(list_completions("NOTES", project)) == ["Notes-old.txt", "notes.txt"]


def test_a_prefix_into_a_folder_lists_that_folder(project):
    assert texts(list_completions("src/m", project)) == ["src/main.py", "src/model.py"]


def test_hidden_entries_only_when_the_name_starts_with_a_dot(project):
    assert texts(list_completions(".", project)) == [".git/", ".env"]


def test_tilde_is_the_home_folder(project, monkeypatch):
    monkeypatch.setenv("HOME", str(project / "src"))
    assert texts(list_completions("~/ma", Path("/"))) == ["~/main.py"]


def test_a_folder_that_cannot_be_listed_offers_nothing(project):
    assert list_completions("nowhere/", project) == []
    assert list_completions("notes.txt/", project) == []


def test_a_big_folder_gives_at_most_the_cap(tmp_path):
    for number in range(500):
        (tmp_path / f"file{number:04}.log").write_text("")
    found = list_completions("file", tmp_path)
    assert len(found) == 200
    assert found[0].text == "file0000.log" and found[-1].text == "file0199.log"

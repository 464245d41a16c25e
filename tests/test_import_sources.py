"""`tui-chat import` from the other terminal clients, against files their own code wrote
(fixtures/import/, with the scripts that made them): Elia, oterm, llm (0.36 and 0.19), aichat."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from import_harness import FIXTURES, by_title, checksum, folder_state, imported, run_import

SOURCES = [
    "elia.sqlite",
    "oterm_store.db",
    "llm_logs.db",
    "llm_0.19_logs.db",
    "aichat_sessions",
    "aichat_sessions/rust-questions.yaml",
]


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A copy of the fixtures: a test that goes wrong cannot spoil the committed files."""
    return Path(shutil.copytree(FIXTURES, tmp_path / "fixtures"))


def test_elia_chats_with_system_prompt_times_and_exact_text(fixtures: Path) -> None:
    data = fixtures.parent / "data"

    run = run_import(data, str(fixtures / "elia.sqlite"))

    assert run.code == 0, run.err
    assert run.out.startswith("From elia: 2 conversations read; 2 imported")
    chats = by_title(data)
    endings = chats["Line endings"]
    assert endings.system == "You are terse."
    assert [(m.role, m.content) for m in endings.messages] == [
        ("user", "Windows line\r\nends, ''' and \"\"\""),
        ("assistant", "Kept: \\n 雪 🎉"),
    ]
    assert endings.messages[1].created.isoformat() == "2025-03-04T10:02:00+00:00"
    assert endings.model == "elia-gpt-4o"
    assert [m.content for m in chats["A chat with no title"].messages] == [
        "A chat with no title",
        "Still imported.",
    ]


def test_oterm_chats_keep_system_prompt_and_name_their_images(fixtures: Path) -> None:
    data = fixtures.parent / "data"

    assert run_import(data, str(fixtures / "oterm_store.db")).code == 0

    chats = by_title(data)
    pirate = chats["Llama talk"]
    assert pirate.system == "Answer like a pirate."
    assert pirate.model == "llama3.1:8b"
    assert pirate.messages[0].content == (
        "What is in this picture?\r\n''' \"\"\" \\ 雪 🎉\n\n"
        "[image 1: 70 bytes, kept in oterm's store.db]"
    )
    assert [m.role for m in pirate.messages] == ["user", "assistant", "user", "assistant"]
    assert [m.content for m in chats["Untitled chat"].messages] == ["Untitled chat", "Imported."]


def test_chats_of_two_oterm_databases_with_the_same_ids_are_both_imported(
    fixtures: Path,
) -> None:
    data = fixtures.parent / "data"
    other = fixtures / "other_machine_store.db"
    shutil.copy(fixtures / "oterm_store.db", other)
    with sqlite3.connect(other) as connection:  # its chat 1 is another conversation
        connection.execute("update chat set name = 'Another machine' where id = 1")
        connection.execute("update message set text = 'Hello from elsewhere ' || id")

    assert run_import(data, str(fixtures / "oterm_store.db")).code == 0
    run = run_import(data, str(other))

    assert run.code == 0, run.err
    chats = by_title(data)
    assert len(chats["Llama talk"].messages) == 4  # nothing of the other machine's added
    assert chats["Llama talk"].messages[1].content != "Hello from elsewhere 2"
    assert chats["Another machine"].messages[0].content.startswith("Hello from elsewhere")
    again = run_import(data, str(other))  # and each is known as imported from then on
    assert "0 imported" in again.out, again.out


@pytest.mark.parametrize("database", ["llm_logs.db", "llm_0.19_logs.db"])
def test_llm_threads_new_and_old_tables(fixtures: Path, database: str) -> None:
    data = fixtures.parent / "data"

    assert run_import(data, str(fixtures / database)).code == 0

    sea, questions = imported(data)
    assert sea.system == "You answer in haiku."
    assert [m.content for m in sea.messages] == [
        "Tell me about the sea",
        "You said: Tell me about the sea",
    ]
    first = "First question: ''' and \"\"\" and a \\ backslash, 雪 ☃ 🎉"
    assert [m.content for m in questions.messages] == [
        first,
        f"You said: {first}",
        "Second question in the same conversation",
        "You said: Second question in the same conversation",
        "Third question",
        "You said: Third question",
    ]
    assert questions.model == "echo"
    times = [m.created for m in questions.messages]
    assert times == sorted(times) and times[0] < times[-1]


def test_aichat_sessions_folder_with_compressed_messages_images_and_tools(fixtures: Path) -> None:
    data = fixtures.parent / "data"

    assert run_import(data, str(fixtures / "aichat_sessions")).code == 0

    sessions = by_title(data)
    rust = sessions["rust-questions"]
    assert rust.system == "You explain Rust to a Python programmer."
    assert rust.model == "openai:gpt-4o-mini"
    assert [m.content for m in rust.messages] == [
        'What does this do?\nlet s = r"C:\\path\\to" ; // \'\'\' and """',
        "A raw string: backslashes stay as written.\r\nCRLF kept, 雪 🎉",
    ]
    texts = [m.content for m in sessions["compressed"].messages]
    assert texts[:2] == ["First question, long ago", "First answer, long ago"]
    assert texts[2] == "What is in this image?\n\n[image: /home/me/cat.png]"
    assert "[tool call: web_search]" in texts[3] and '{"result": "Tabby"}' in texts[3]
    assert texts[4] == "It is a tabby cat."


def test_an_aichat_folder_is_listed_once_to_detect_and_import_it(
    fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui_chat.importers import aichat

    listed: list[Path] = []
    listing = aichat.session_files

    def counted(path: Path) -> list[Path]:
        listed.append(path)
        return listing(path)

    monkeypatch.setattr(aichat, "session_files", counted)
    data = fixtures.parent / "data"

    assert run_import(data, str(fixtures / "aichat_sessions")).code == 0

    assert listed == [fixtures / "aichat_sessions"]  # by the reader; detection stopped early
    assert len(imported(data)) == 2


def test_one_aichat_session_file_alone(fixtures: Path) -> None:
    data = fixtures.parent / "data"

    assert run_import(data, str(fixtures / "aichat_sessions" / "rust-questions.yaml")).code == 0

    assert list(by_title(data)) == ["rust-questions"]


@pytest.mark.parametrize("source", SOURCES)
def test_reimport_adds_nothing_and_the_source_is_not_modified(fixtures: Path, source: str) -> None:
    data = fixtures.parent / "data"
    before = checksum(fixtures / source)
    first = run_import(data, str(fixtures / source))
    written = folder_state(data / "conversations")

    again = run_import(data, str(fixtures / source))

    assert first.code == again.code == 0
    assert " 0 imported, 0 updated" in again.out
    assert folder_state(data / "conversations") == written
    assert checksum(fixtures / source) == before
    # SQLite opened read-only leaves no journal or WAL files behind either.
    assert sorted(p.name for p in fixtures.rglob("*")) == sorted(
        p.name for p in FIXTURES.rglob("*")
    )


def test_an_elia_chat_that_grew_gets_only_its_new_message(fixtures: Path) -> None:
    data = fixtures.parent / "data"
    database = fixtures / "elia.sqlite"
    run_import(data, str(database))
    with sqlite3.connect(database) as connection:  # what Elia does when the chat goes on
        connection.execute(
            "insert into message (chat_id, role, content, timestamp, meta, model) "
            "values (1, 'user', 'One more thing', '2025-03-05 09:00:00.000000', '{}', "
            "'elia-gpt-4o')"
        )

    run = run_import(data, str(database))

    assert "0 imported, 1 updated (1 new messages)" in run.out
    assert [m.content for m in by_title(data)["Line endings"].messages][-1] == "One more thing"
    assert len(by_title(data)["Line endings"].messages) == 3


def test_a_broken_oterm_chat_does_not_stop_the_others(fixtures: Path) -> None:
    data = fixtures.parent / "data"
    database = fixtures / "oterm_store.db"
    with sqlite3.connect(database) as connection:
        connection.execute("update message set images = 'not json' where chat_id = 1")

    run = run_import(data, str(database))

    assert run.code == 1
    assert list(by_title(data)) == ["Untitled chat"]
    assert "1 failed" in run.out and "“Llama talk” (1@" in run.out


@pytest.mark.parametrize(
    ("source", "named"),
    [("elia", "elia.sqlite"), ("llm", "oterm_store.db"), ("aichat", "elia.sqlite")],
)
def test_from_names_the_source_and_a_wrong_one_is_one_sentence(
    fixtures: Path, source: str, named: str
) -> None:
    data = fixtures.parent / "data"

    run = run_import(data, str(fixtures / named), "--from", source)

    if source == "elia":
        assert run.code == 0
        return
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert not (data / "conversations").exists()


def test_unknown_file_is_one_sentence_naming_what_was_looked_for(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes\n")

    run = run_import(tmp_path / "data", str(notes))

    assert run.code == 1
    assert run.err == (
        f"tui-chat: {notes} is none of what tui-chat imports: a ChatGPT export (.zip or "
        "conversations.json), Elia's or oterm's or llm's SQLite database, or aichat's session "
        "files.\n"
    )

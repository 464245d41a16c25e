"""`tui-chat import` of a ChatGPT data export: the shown path, forks, hidden messages, the
content types beyond text, exact text, re-imports, and the ways an export can be wrong."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from import_harness import (
    T0,
    by_title,
    checksum,
    conversation,
    folder_state,
    imported,
    linear,
    message,
    run_import,
    write_export,
)

from tui_chat.domain.conversation import Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

TRICKY = "CRLF\r\nline ''' and \"\"\" and \\n \\\\ backslashes\n雪が降る 🎉👩‍💻\r\n\tend\\"


def branched() -> dict:
    """A conversation where the user edited their first question: the edit is what ChatGPT
    shows (current_node), the original question and its reply are an abandoned branch."""
    return conversation(
        "c-branch",
        "Edited question",
        [
            ("root", None, None),
            ("q1", "root", message("q1", "user", ["Original question"])),
            ("a1", "q1", message("a1", "assistant", ["Answer to the original"], model="gpt-4")),
            ("q2", "root", message("q2", "user", ["Edited question"], create_time=T0 + 10)),
            ("a2", "q2", message("a2", "assistant", ["Answer to the edit"], create_time=T0 + 11)),
        ],
        current_node="a2",
    )


def test_shown_path_is_imported_and_abandoned_branch_becomes_a_fork(tmp_path: Path) -> None:
    export = write_export(tmp_path / "conversations.json", [branched()])
    data = tmp_path / "data"

    run = run_import(data, str(export))

    assert run.code == 0, run.err
    conversations = by_title(data)
    shown = conversations["Edited question"]
    assert [(m.role, m.content) for m in shown.messages] == [
        ("user", "Edited question"),
        ("assistant", "Answer to the edit"),
    ]
    fork = conversations["Edited question (fork 1)"]
    assert [m.content for m in fork.messages] == ["Original question", "Answer to the original"]
    assert "1 imported" not in run.out and "2 imported" in run.out


def test_hidden_system_messages_are_skipped_and_custom_instructions_kept(tmp_path: Path) -> None:
    instructions = {
        "content_type": "user_editable_context",
        "user_profile": "I am a chemist.",
        "user_instructions": "Answer briefly.",
    }
    export = write_export(
        tmp_path / "conversations.json",
        [
            conversation(
                "c-sys",
                "With instructions",
                [
                    ("root", None, None),
                    ("s", "root", message("s", "system", [""], hidden=True)),
                    ("ctx", "s", message("ctx", "user", content=instructions, hidden=True)),
                    ("h", "ctx", message("h", "system", ["internal note"], hidden=True)),
                    ("q", "h", message("q", "user", ["Hi"])),
                    ("a", "q", message("a", "assistant", ["Hello"])),
                ],
                current_node="a",
            )
        ],
    )
    data = tmp_path / "data"

    assert run_import(data, str(export)).code == 0

    (only,) = imported(data)
    assert only.system == "I am a chemist.\n\nAnswer briefly."
    assert [m.content for m in only.messages] == ["Hi", "Hello"]
    assert "internal note" not in (data / "conversations" / f"{only.id}.toml").read_text()


def test_code_output_browsing_tool_and_images_are_kept_as_marked_text(tmp_path: Path) -> None:
    image = {
        "content_type": "image_asset_pointer",
        "asset_pointer": "file-service://file-AbC123",
        "width": 640,
        "height": 480,
        "size_bytes": 1234,
    }
    missing = dict(image, asset_pointer="file-service://file-Gone99")
    nodes = [
        ("root", None, None),
        (
            "q",
            "root",
            message(
                "q",
                "user",
                content={"content_type": "multimodal_text", "parts": [image, missing, "Plot it"]},
            ),
        ),
        (
            "code",
            "q",
            message(
                "code",
                "assistant",
                content={"content_type": "code", "language": "python", "text": "print(2 + 2)"},
            ),
        ),
        (
            "out",
            "code",
            message(
                "out",
                "tool",
                name="python",
                content={"content_type": "execution_output", "text": "4"},
            ),
        ),
        (
            "web",
            "out",
            message(
                "web",
                "tool",
                name="browser",
                content={
                    "content_type": "tether_browsing_display",
                    "result": "Example Domain result",
                    "summary": "a page",
                },
            ),
        ),
        ("dalle", "web", message("dalle", "tool", ["Image made"], name="dalle.text2im")),
        ("odd", "dalle", message("odd", "assistant", content={"content_type": "mystery"})),
        ("a", "odd", message("a", "assistant", ["The answer is 4."])),
    ]
    export = write_export(
        tmp_path / "export.zip",
        [conversation("c-types", "Types", nodes, current_node="a")],
        images={"file-AbC123-plot.png": b"\x89PNG not really"},
    )
    data = tmp_path / "data"

    assert run_import(data, str(export)).code == 0

    texts = [m.content for m in imported(data)[0].messages]
    assert texts[0] == (
        "[image: file-AbC123, 640x480; in the export as file-AbC123-plot.png]\n\n"
        "[image: file-Gone99, 640x480; not in the export]\n\nPlot it"
    )
    assert texts[1] == "[code, run by assistant]\n```python\nprint(2 + 2)\n```"
    assert texts[2] == "[tool output from python]\n[code output]\n```\n4\n```"
    assert texts[3].startswith("[tool output from browser]\n[browsing result]\n")
    assert "Example Domain result" in texts[3]
    assert texts[4] == "[tool output from dalle.text2im]\nImage made"
    assert texts[5].startswith("[mystery from assistant]\n")
    assert texts[6] == "The answer is 4."


def test_null_title_and_times_get_a_title_and_the_times_around_them(tmp_path: Path) -> None:
    nodes = [
        ("root", None, None),
        ("q", "root", message("q", "user", ["Why is the sky blue?"], create_time=None)),
        ("a", "q", message("a", "assistant", ["Rayleigh."], create_time=T0 + 5)),
        ("q2", "a", message("q2", "user", ["And sunsets?"], create_time=None)),
    ]
    export = write_export(
        tmp_path / "c.json",
        [conversation("c-null", None, nodes, "q2", create_time=None, update_time=None)],
    )
    data = tmp_path / "data"

    assert run_import(data, str(export)).code == 0

    (only,) = imported(data)
    assert only.title == "Why is the sky blue?"
    first, reply, last = only.messages
    assert first.created == reply.created == last.created  # borrowed from the known one
    assert reply.created.timestamp() == T0 + 5


def test_text_round_trips_exactly(tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "export.zip", [linear("c-text", "Tricky ''' \"\"\" \\ 🎉", [TRICKY, TRICKY])]
    )
    data = tmp_path / "data"

    assert run_import(data, str(export)).code == 0

    (only,) = imported(data)
    assert only.title == "Tricky ''' \"\"\" \\ 🎉"
    assert [m.content for m in only.messages] == [TRICKY, TRICKY]


def test_imported_replies_are_complete_never_interrupted(tmp_path: Path) -> None:
    export = write_export(tmp_path / "c.json", [linear("c-1", "Done", ["q", "a", "q2", "a2"])])
    data = tmp_path / "data"

    run_import(data, str(export))

    replies = [m for m in imported(data)[0].messages if m.role == "assistant"]
    assert len(replies) == 2
    assert all(m.finish_reason == "stop" for m in replies)


def test_reimport_adds_nothing_and_writes_nothing(tmp_path: Path) -> None:
    export = write_export(tmp_path / "c.zip", [branched(), linear("c-2", "Two", ["q", "a"])])
    data = tmp_path / "data"
    run_import(data, str(export))
    before = folder_state(data / "conversations")

    again = run_import(data, str(export))

    assert again.code == 0
    assert "0 imported, 0 updated (0 new messages), 3 already present, 0 failed" in again.out
    assert folder_state(data / "conversations") == before


def test_a_conversation_that_grew_gets_only_its_new_messages(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_import(data, str(write_export(tmp_path / "c.json", [linear("c-g", "Grows", ["q", "a"])])))
    grown = linear("c-g", "Grows", ["q", "a", "q2", "a2"])
    grown["update_time"] = T0 + 600

    run = run_import(data, str(write_export(tmp_path / "c.json", [grown])))

    assert "0 imported, 1 updated (2 new messages)" in run.out
    (only,) = imported(data)
    assert [m.content for m in only.messages] == ["q", "a", "q2", "a2"]


def test_messages_added_in_tui_chat_survive_a_reimport_of_a_grown_source(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_import(data, str(write_export(tmp_path / "c.json", [linear("c-g", "Grows", ["q", "a"])])))
    (conv,) = imported(data)
    store = ConversationStore(AppPaths(config_file=data / "none.toml", data_dir=data))
    store.load(conv.id)
    conv.add(Message("user", "asked in tui-chat"))
    store.save(conv)
    grown = linear("c-g", "Grows", ["q", "a", "q2", "a2"])
    grown["update_time"] = T0 + 600

    run_import(data, str(write_export(tmp_path / "c.json", [grown])))

    (after,) = imported(data)
    assert [m.content for m in after.messages] == ["q", "a", "asked in tui-chat", "q2", "a2"]


def test_dry_run_says_what_would_happen_and_writes_nothing(tmp_path: Path) -> None:
    export = write_export(tmp_path / "c.zip", [branched()])
    data = tmp_path / "data"
    data.mkdir()
    before = folder_state(data)

    run = run_import(data, str(export), "--dry-run")

    assert run.code == 0
    assert "2 would be imported" in run.out and "nothing was written" in run.out
    assert folder_state(data) == before


def test_one_broken_conversation_does_not_stop_the_others(tmp_path: Path) -> None:
    broken = {"title": "No mapping", "id": "c-bad", "current_node": "x"}
    export = write_export(
        tmp_path / "c.json",
        [linear("c-1", "First", ["q", "a"]), broken, linear("c-3", "Third", ["q"])],
    )
    data = tmp_path / "data"

    run = run_import(data, str(export))

    assert run.code == 1
    assert sorted(by_title(data)) == ["First", "Third"]
    assert "2 imported" in run.out and "1 failed" in run.out
    assert "failed: “No mapping” (c-bad): it has no 'mapping' field" in run.out


def test_json_summary_for_scripts(tmp_path: Path) -> None:
    export = write_export(tmp_path / "c.json", [linear("c-1", "First", ["q", "a"])])

    run = run_import(tmp_path / "data", str(export), "--json")

    summary = json.loads(run.out)
    assert summary["source"] == "chatgpt"
    assert [(d["source_id"], d["title"]) for d in summary["imported"]] == [("c-1", "First")]
    assert summary["failed"] == []


def _refused(tmp_path: Path, path: Path, *args: str) -> str:
    data = tmp_path / "data"
    run = run_import(data, str(path), *args)
    assert run.code == 1
    assert not (data / "conversations").exists() or not any((data / "conversations").iterdir())
    assert run.out == ""
    assert run.err.count("\n") == 1 and run.err.rstrip().endswith(".")
    return run.err


def test_truncated_zip_is_one_sentence_and_nothing_written(tmp_path: Path) -> None:
    full = write_export(tmp_path / "full.zip", [linear("c-1", "First", ["q", "a"] * 50)])
    cut = tmp_path / "cut.zip"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])

    assert "damaged zip" in _refused(tmp_path, cut)


def test_json_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "left-pad", "version": "1.3.0"}')

    err = _refused(tmp_path, other)

    assert "none of what tui-chat imports" in err and "ChatGPT export" in err


def test_sqlite_database_of_another_program_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "places.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("create table moz_places (id integer, url text)")

    assert "SQLite database of another program" in _refused(tmp_path, other)


def test_empty_export_is_refused(tmp_path: Path) -> None:
    assert "holds no conversations" in _refused(tmp_path, write_export(tmp_path / "e.zip", []))


def test_truncated_json_export_is_refused(tmp_path: Path) -> None:
    whole = write_export(tmp_path / "c.json", [linear("c-1", "First", ["q", "a"])])
    whole.write_text(whole.read_text()[:200])

    assert "not complete JSON" in _refused(tmp_path, whole, "--from", "chatgpt")


def test_the_export_is_not_modified(tmp_path: Path) -> None:
    export = write_export(tmp_path / "c.zip", [branched()])
    before = checksum(export)

    run_import(tmp_path / "data", str(export))
    run_import(tmp_path / "data", str(export))

    assert checksum(export) == before
    assert zipfile.ZipFile(export).namelist() == ["conversations.json", "chat.html"]


def test_a_branch_made_after_the_import_comes_in_as_a_new_fork(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_import(data, str(write_export(tmp_path / "c.json", [linear("c-b", "Branchy", ["q", "a"])])))
    later = linear("c-b", "Branchy", ["q", "a"])
    later["mapping"]["c-b-sys"]["children"].append("edit")
    later["mapping"]["edit"] = {
        "id": "edit",
        "parent": "c-b-sys",
        "children": [],
        "message": message("edit", "user", ["q, edited"], create_time=T0 + 100),
    }
    later["current_node"] = "edit"
    later["update_time"] = T0 + 100

    run = run_import(data, str(write_export(tmp_path / "c.json", [later])))

    assert run.code == 0
    titles = by_title(data)
    # The file keeps what it had (nothing is removed from it); the old answer is a fork now.
    assert [m.content for m in titles["Branchy"].messages] == ["q", "a", "q, edited"]
    assert [m.content for m in titles["Branchy (fork 1)"].messages] == ["q", "a"]


def test_a_system_prompt_that_looks_like_provenance_does_not_fool_a_reimport(
    tmp_path: Path,
) -> None:
    instructions = {
        "content_type": "user_editable_context",
        "user_profile": 'source = "elia"\nsource_id = "1"',
        "user_instructions": "",
    }
    nodes = [
        ("root", None, None),
        ("ctx", "root", message("ctx", "user", content=instructions, hidden=True)),
        ("q", "ctx", message("q", "user", ["Hi"])),
    ]
    export = write_export(tmp_path / "c.json", [conversation("c-s", "Sly", nodes, "q")])
    data = tmp_path / "data"
    run_import(data, str(export))

    again = run_import(data, str(export))

    assert "1 already present" in again.out
    assert len(imported(data)) == 1


def test_the_import_leaves_the_index_filled_for_the_next_start(tmp_path: Path) -> None:
    export = write_export(tmp_path / "c.json", [linear(f"c-{n}", f"N{n}", ["q"]) for n in range(5)])
    data = tmp_path / "data"

    run_import(data, str(export))

    lines = (data / "cache" / "index.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["count"] == 5
    titles = sorted(json.loads(line)["entry"]["title"] for line in lines[1:])
    assert titles == [f"N{n}" for n in range(5)]


def test_an_export_cut_short_keeps_what_came_before_and_says_both(tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "c.json", [linear("c-1", "Whole", ["q", "a"]), linear("c-2", "Cut", ["q"])]
    )
    text = export.read_text()
    export.write_text(text[: text.index('"c-2"')])
    data = tmp_path / "data"

    run = run_import(data, str(export), "--json")

    assert run.code == 1
    assert "is not complete JSON: it ends after 1 conversation;" in run.err
    assert [d["title"] for d in json.loads(run.out)["imported"]] == ["Whole"]
    assert list(by_title(data)) == ["Whole"]
    lines = (data / "cache" / "index.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["count"] == 1  # listed for the next start, --json or not


def test_an_unzipped_export_folder_is_found_by_its_conversations_json(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write_export(folder / "conversations.json", [linear("c-1", "Unzipped", ["q", "a"])])

    run = run_import(tmp_path / "data", str(folder))

    assert run.code == 0 and run.out.startswith("From chatgpt: 1 conversation read; 1 imported")
    assert list(by_title(tmp_path / "data")) == ["Unzipped"]

"""Tool calls in conversation files across versions: each call keeps its result in its own
`[[messages.tool_calls]]` table, so a tui-chat from before tools still opens the file and keeps
them; files written while results were `role = "tool"` messages still open, unchanged on disk
until the next save."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import textwrap
import tomllib
from pathlib import Path

import pytest
from fresh_python import REPOSITORY

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.domain.tools import ToolCall
from tui_chat.paths import AppPaths
from tui_chat.storage.errors import ConversationFileError
from tui_chat.storage.store import ConversationStore
from tui_chat.storage.toml_read import conversation_from_toml

# The last commit before tools: its reader knows roles user, assistant and system only.
BEFORE_TOOLS = "5d6b1d2"
CONVERSATION_ID = "20261202-080000-abcd"

# As the tui-chat before this change saved a round of tools: each result a message of its own.
RESULTS_AS_MESSAGES = """\
schema = 1
id = "20261202-080000-abcd"
title = "time?"
created = 2026-12-02 08:00:00+00:00
updated = 2026-12-02 08:00:05+00:00
profile = "test"
model = "gpt-4o-mini"
system = ""
pinned = false
tags = []

[[messages]]
role = "user"
content = '''
time?'''
created = 2026-12-02 08:00:00+00:00

[[messages]]
role = "assistant"
content = ""
created = 2026-12-02 08:00:01+00:00
finish_reason = "tool_calls"

[[messages.tool_calls]]
id = "call_1"
name = "get_current_time"
arguments = '{"timezone": "UTC"}'
status = "done"
seconds = 0.25

[[messages.tool_calls]]
id = "call_2"
name = "echo"
arguments = '{"text": "hi"}'
status = "declined"

[[messages]]
role = "tool"
content = '''
{
  "timezone": "UTC"
}'''
created = 2026-12-02 08:00:02+00:00
tool_call_id = "call_1"

[[messages]]
role = "tool"
content = '''
The user declined this call; it was not run.'''
created = 2026-12-02 08:00:02+00:00
tool_call_id = "call_2"

[[messages]]
role = "assistant"
content = '''
It is noon.'''
created = 2026-12-02 08:00:03+00:00
finish_reason = "stop"
"""


def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")


def conversation_with_results() -> Conversation:
    conversation = Conversation(id=CONVERSATION_ID, profile="test")
    conversation.add(Message(role="user", content="time?"))
    reply = conversation.add(Message(role="assistant", content="", finish_reason="tool_calls"))
    reply.tool_calls += [
        ToolCall(
            "call_1",
            "get_current_time",
            '{"timezone": "UTC"}',
            "done",
            seconds=0.25,
            result='{\n  "timezone": "UTC"\n}',
        ),
        ToolCall("call_2", "echo", '{"text": "hi"}', "declined", result="declined\n"),
    ]
    conversation.add(Message(role="assistant", content="It is noon.", finish_reason="stop"))
    return conversation


def test_a_file_with_results_as_tool_messages_opens_with_each_result_on_its_call(
    tmp_path: Path,
) -> None:
    store = ConversationStore(paths(tmp_path))
    file = store.path_for(CONVERSATION_ID)
    file.parent.mkdir(parents=True)
    file.write_text(RESULTS_AS_MESSAGES, encoding="utf-8")
    loaded = store.load(CONVERSATION_ID)
    assert [m.role for m in loaded.messages] == ["user", "assistant", "assistant"]
    first, second = loaded.messages[1].tool_calls
    assert first.result == '{\n  "timezone": "UTC"\n}'
    assert second.result == "The user declined this call; it was not run."
    assert file.read_text(encoding="utf-8") == RESULTS_AS_MESSAGES  # opening writes nothing
    loaded.add(Message(role="user", content="thanks"))
    store.save(loaded)
    saved = tomllib.loads(file.read_text(encoding="utf-8"))
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant", "assistant", "user"]
    assert saved["messages"][1]["tool_calls"][0]["result"] == '{\n  "timezone": "UTC"\n}'


def test_a_tool_result_answering_no_call_is_reported_with_its_line() -> None:
    text = RESULTS_AS_MESSAGES.replace('tool_call_id = "call_2"', 'tool_call_id = "call_9"')
    with pytest.raises(ConversationFileError) as raised:
        conversation_from_toml(text, Path(f"{CONVERSATION_ID}.toml"))
    assert "answering no call" in str(raised.value) and "'call_9'" in str(raised.value)
    assert raised.value.line == text.splitlines().index('tool_call_id = "call_9"') + 1


@pytest.fixture(scope="module")
def tui_chat_before_tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as it was at BEFORE_TOOLS, unpacked from the repository's history."""
    archive = subprocess.run(
        ["git", "archive", BEFORE_TOOLS, "tui_chat"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    folder = tmp_path_factory.mktemp("before-tools")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def test_a_tui_chat_from_before_tools_opens_the_file_and_keeps_calls_and_results(
    tmp_path: Path, tui_chat_before_tools: Path
) -> None:
    store = ConversationStore(paths(tmp_path))
    conversation = conversation_with_results()
    store.save(conversation)
    # The older version opens the file, the user adds a message there, and it saves.
    older = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import tui_chat
        from tui_chat.domain.conversation import Message
        from tui_chat.paths import AppPaths
        from tui_chat.storage.store import ConversationStore

        assert Path(tui_chat.__file__).is_relative_to({str(tui_chat_before_tools)!r})
        data = Path(sys.argv[1])
        store = ConversationStore(AppPaths(config_file=Path("none.toml"), data_dir=data))
        conversation = store.load({CONVERSATION_ID!r})
        print(len(conversation.messages))
        conversation.messages.append(Message(role="user", content="from the older machine"))
        store.save(conversation)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", older, str(paths(tmp_path).data_dir)],
        cwd=tui_chat_before_tools,  # first on sys.path: its tui_chat, not this one
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3"]
    reloaded = ConversationStore(paths(tmp_path)).load(CONVERSATION_ID)
    assert reloaded.messages[-1].content == "from the older machine"
    assert reloaded.messages[1].tool_calls == conversation.messages[1].tool_calls


def test_a_word_only_a_tool_returned_is_found_by_search_at_the_reply_that_called_it(
    tmp_path: Path,
) -> None:
    store = ConversationStore(paths(tmp_path))
    store.save(conversation_with_results())
    (result,) = store.search('"timezone": "utc"')  # in the first call's result only
    assert result.message_indexes == [1]

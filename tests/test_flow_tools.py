"""Tool calls in the reply flow, without a UI: the real test server streams tool calls, real MCP
servers run them, a real store writes the file. Each test checks what the user would find in the
saved conversation and what the model was sent."""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from engine_harness import ChatHarness
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_server import FakeOpenAIServer, Script
from tool_harness import time_server, tools_test_server

from tui_chat.config import McpServer, load_config
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.domain.tools import ToolCall
from tui_chat.engine.client import ChatClient
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.prompt import build_chat_messages
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.tokens import TokenCounter
from tui_chat.export import to_json, to_markdown
from tui_chat.flow import FlowEvent, ReplyFlow
from tui_chat.flow.events import ToolCallChanged, ToolRoundsLimitReached
from tui_chat.flow.send import mark_unfinished_replies
from tui_chat.flow.tool_round import DECLINED, INTERRUPTED, MAX_ROUNDS, TOOL_OUTPUT_TOKENS, Approval
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.storage.toml_read import conversation_from_toml
from tui_chat.storage.toml_write import conversation_to_toml
from tui_chat.tools import ToolBox, ToolSpec

ASK_TIME = 'What time is it?\ncall get_current_time {"timezone": "Europe/Paris"}'


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    counter = TokenCounter()
    counter.load()
    return counter


def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")


def saved(tmp_path: Path) -> dict[str, Any]:
    (only,) = sorted(paths(tmp_path).conversations_dir.glob("*.toml"))
    return tomllib.loads(only.read_text(encoding="utf-8"))


class Approver:
    """Answers every approval with `answer`, noting what it was shown."""

    def __init__(self, answer: Approval = "once") -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, call: ToolCall, spec: ToolSpec) -> Approval:
        self.asked.append((spec.name, call.arguments))
        return self.answer


class Run:
    """Flows over one store and one toolbox in tmp_path, with the events they reported."""

    def __init__(
        self, tmp_path: Path, client: ChatClient, counter: TokenCounter, toolbox: ToolBox
    ) -> None:
        self.tmp_path = tmp_path
        self.client = client
        self.counter = counter
        self.toolbox = toolbox
        self.store = ConversationStore(paths(tmp_path))
        self.events: list[FlowEvent] = []

    def flow(
        self,
        conversation: Conversation,
        approver: Callable[[ToolCall, ToolSpec], Awaitable[Approval]] | None,
    ) -> ReplyFlow:
        return ReplyFlow(
            conversation,
            self.client,
            store=self.store,
            counter=self.counter,
            prices=PriceBook(autoload=False),
            listener=self.events.append,
            toolbox=self.toolbox,
            approver=approver,
        )

    async def send(
        self,
        conversation: Conversation,
        text: str,
        approver: Callable[[ToolCall, ToolSpec], Awaitable[Approval]] | None,
    ) -> Message:
        conversation.add(Message(role="user", content=text))
        return await self.flow(conversation, approver).run()


def config_file(tmp_path: Path, *servers: McpServer) -> Path:
    path = paths(tmp_path).config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for server in servers:
        lines += [f"[mcp_servers.{server.name}]", f"command = {json.dumps(server.command)}"]
        lines += [f"args = {json.dumps(list(server.args))}", ""]
    path.write_text("\n".join(lines))
    return path


async def started_run(
    tmp_path: Path, chat: ChatHarness, counter: TokenCounter, *servers: McpServer
) -> Run:
    config = config_file(tmp_path, *servers)
    toolbox = ToolBox({s.name: s for s in servers}, config_path=config)
    return Run(tmp_path, chat.client(request_timeout=10.0), counter, toolbox)


# --- the test server streams tool calls faithfully (no MCP) ---------------------------------


async def test_streamed_tool_calls_are_assembled_from_their_pieces(
    chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    calls = [("get_current_time", '{"timezone": "Asia/Tokyo"}'), ("echo", '{"text": "a, b"}')]
    openai_server.enqueue(Script(text="Let me look.", tool_calls=calls, chunk_chars=3))
    tool = {"type": "function", "function": {"name": "echo", "parameters": {}}}
    conversation = chat.conversation("two calls please")
    reply = conversation.add(Message(role="assistant", content=""))
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PriceBook(autoload=False), base_url=None, prompt_estimate=0
    )
    events = await chat.events(conversation, tools=[tool])
    pieces = [e for e in events if type(e).__name__ == "ToolCallDelta"]
    assert len(pieces) > 2 * len(calls)  # the arguments came in several pieces each
    for event in events:
        recorder.apply(event)
    assert reply.finish_reason == "tool_calls"
    assert reply.content == "Let me look."
    assert [(c.name, c.arguments) for c in reply.tool_calls] == calls
    assert [c.id for c in reply.tool_calls] == ["call_0_get_current_time", "call_1_echo"]
    assert openai_server.chat_requests[-1].json["tools"] == [tool]


# --- approval, results, and what the model is sent next -------------------------------------

slow = pytest.mark.slow  # the tests below start real MCP servers


@slow
async def test_an_approved_call_runs_and_the_model_answers_from_its_result(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    run = await started_run(tmp_path, chat, counter, time_server())
    approver = Approver("once")
    try:
        reply = await run.send(chat.conversation(), ASK_TIME, approver)
    finally:
        await run.toolbox.aclose()
    assert approver.asked == [("get_current_time", '{"timezone": "Europe/Paris"}')]
    first, second = openai_server.chat_requests
    assert [t["function"]["name"] for t in first.json["tools"]] == [
        "get_current_time",
        "convert_time",
    ]
    sent = second.json["messages"]
    assert sent[-2]["tool_calls"][0]["function"]["name"] == "get_current_time"
    assert sent[-1]["role"] == "tool" and sent[-1]["tool_call_id"] == "call_0_get_current_time"
    assert json.loads(sent[-1]["content"])["timezone"] == "Europe/Paris"
    assert reply.content.startswith("Tools said: {") and reply.finish_reason == "stop"
    messages = saved(tmp_path)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]
    assert messages[1]["finish_reason"] == "tool_calls"
    (call,) = messages[1]["tool_calls"]
    assert call["name"] == "get_current_time" and call["status"] == "done"
    assert call["arguments"] == '{"timezone": "Europe/Paris"}' and call["seconds"] >= 0
    assert call["result"] == sent[-1]["content"]  # what the model read, kept on the call
    assert [type(e) for e in run.events].count(ToolCallChanged) == 2  # running, done


@slow
async def test_always_is_saved_to_config_and_not_asked_again(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    run = await started_run(tmp_path, chat, counter, time_server())
    approver = Approver("always")
    conversation = chat.conversation()
    try:
        await run.send(conversation, ASK_TIME, approver)
        await run.send(conversation, ASK_TIME, approver)
    finally:
        await run.toolbox.aclose()
    assert len(approver.asked) == 1
    config, problems = load_config(paths(tmp_path).config_file)
    assert problems == []
    assert config.mcp_servers["time"].approval("get_current_time") == "always"
    assert config.mcp_servers["time"].approval("convert_time") == "ask"
    statuses = [c["status"] for m in saved(tmp_path)["messages"] for c in m.get("tool_calls", [])]
    assert statuses == ["done", "done"]


@slow
async def test_a_declined_call_is_not_run_and_the_model_is_told(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    run = await started_run(tmp_path, chat, counter, tools_test_server())
    try:
        reply = await run.send(
            chat.conversation(), 'call echo {"text": "secret"}', Approver("decline")
        )
    finally:
        await run.toolbox.aclose()
    assert openai_server.chat_requests[1].json["messages"][-1]["content"] == DECLINED
    assert reply.content == f"Tools said: {DECLINED}"
    messages = saved(tmp_path)["messages"]
    assert messages[1]["tool_calls"][0]["status"] == "declined"
    assert "seconds" not in messages[1]["tool_calls"][0]


@slow
async def test_mistaken_calls_are_answered_with_what_went_wrong(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    openai_server.enqueue(
        Script(tool_calls=[("echo", '{"text": "unterminated'), ("format_disk", "{}")])
    )
    run = await started_run(tmp_path, chat, counter, tools_test_server())
    approver = Approver("once")
    try:
        await run.send(chat.conversation(), "go", approver)
    finally:
        await run.toolbox.aclose()
    assert approver.asked == [("echo", '{"text": "unterminated')]  # shown exactly as sent
    invalid, unknown = openai_server.chat_requests[1].json["messages"][-2:]
    assert "not valid JSON" in invalid["content"]
    assert unknown["content"] == "There is no tool named 'format_disk'."
    calls = saved(tmp_path)["messages"][1]["tool_calls"]
    assert [c["status"] for c in calls] == ["failed", "failed"]


@slow
async def test_a_megabyte_of_output_is_cut_to_the_stated_limit_and_said(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    run = await started_run(tmp_path, chat, counter, tools_test_server())
    try:
        await run.send(chat.conversation(), 'call big {"size": 1000000}', Approver("once"))
    finally:
        await run.toolbox.aclose()
    sent = openai_server.chat_requests[1].json["messages"][-1]["content"]
    assert f"only the first {TOOL_OUTPUT_TOKENS} are passed on" in sent
    assert len(counter.encoding("gpt-4o-mini")[0].encode_ordinary(sent)) < TOOL_OUTPUT_TOKENS + 60
    assert saved(tmp_path)["messages"][1]["tool_calls"][0]["result"] == sent


@slow
async def test_a_model_that_keeps_calling_tools_is_stopped_after_the_limit(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    openai_server.enqueue(
        *[Script(tool_calls=[("echo", f'{{"text": "{n}"}}')]) for n in range(MAX_ROUNDS)]
    )
    run = await started_run(tmp_path, chat, counter, tools_test_server())
    try:
        reply = await run.send(chat.conversation(), "loop", Approver("always"))
    finally:
        await run.toolbox.aclose()
    requests = openai_server.chat_requests
    assert len(requests) == MAX_ROUNDS + 1
    assert all("tools" in r.json for r in requests[:-1])
    assert "tools" not in requests[-1].json  # the last one must be answered in words
    assert reply.content.startswith("Tools said: echo: 9")
    assert ToolRoundsLimitReached(MAX_ROUNDS) in run.events


@slow
async def test_esc_while_a_tool_runs_keeps_everything_and_marks_the_call(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    run = await started_run(tmp_path, chat, counter, tools_test_server())
    conversation = chat.conversation()
    conversation.add(Message(role="user", content="call hang {}"))
    flow = run.flow(conversation, Approver("once"))
    task = asyncio.create_task(flow.run())
    try:
        while not any(c.status == "running" for m in conversation.messages for c in m.tool_calls):
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await run.toolbox.aclose()
    messages = saved(tmp_path)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["tool_calls"][0]["status"] == "interrupted"
    assert messages[1]["tool_calls"][0]["result"] == INTERRUPTED


@slow
async def test_hang_up_while_waiting_for_approval_saves_the_call_marked(
    tmp_path: Path, chat: ChatHarness, openai_server: FakeOpenAIServer, counter: TokenCounter
) -> None:
    run = await started_run(tmp_path, chat, counter, tools_test_server())
    asked = asyncio.Event()

    async def never_answers(call: ToolCall, spec: ToolSpec) -> Approval:
        asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    conversation = chat.conversation()
    conversation.add(Message(role="user", content='call echo {"text": "x"}'))
    flow = run.flow(conversation, never_answers)
    task = asyncio.create_task(flow.run())
    try:
        await asyncio.wait_for(asked.wait(), 30)
        report = flow.save_interrupted()  # what the app does on SIGHUP, before it exits
        assert report.error is None
        messages = saved(tmp_path)["messages"]
        assert messages[0]["content"] == 'call echo {"text": "x"}'
        assert messages[1]["tool_calls"][0]["status"] == "interrupted"
        assert messages[1]["tool_calls"][0]["result"] == INTERRUPTED
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await run.toolbox.aclose()


# --- files ----------------------------------------------------------------------------------


def test_tool_calls_round_trip_as_readable_toml_keeping_unknown_keys(tmp_path: Path) -> None:
    store = ConversationStore(paths(tmp_path))
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    conversation.add(Message(role="user", content="time?"))
    reply = conversation.add(Message(role="assistant", content="", finish_reason="tool_calls"))
    reply.tool_calls.append(
        ToolCall(
            id="call_1",
            name="get_current_time",
            arguments='{"timezone": "UTC"}',
            status="done",
            seconds=0.25,
            result='{\n  "timezone": "UTC"\n}',
            extra={"from_a_newer_version": "kept"},
        )
    )
    store.save(conversation)
    text = next(paths(tmp_path).conversations_dir.glob("*.toml")).read_text()
    assert "[[messages.tool_calls]]" in text
    assert """arguments = '{"timezone": "UTC"}'""" in text
    # The result in its call's table, one line per line, as the tool wrote it.
    assert "seconds = 0.25\nresult = '''\n{\n  \"timezone\": \"UTC\"\n}'''" in text
    assert 'role = "tool"' not in text
    loaded = ConversationStore(paths(tmp_path)).load(conversation.id)
    assert loaded.messages[1].tool_calls == reply.tool_calls
    assert len(loaded.messages) == 2


def test_a_call_left_waiting_by_a_killed_app_opens_interrupted() -> None:
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    reply = conversation.add(Message(role="assistant", content="", finish_reason="tool_calls"))
    reply.tool_calls.append(ToolCall(id="c", name="echo", arguments="{}", status="pending"))
    mark_unfinished_replies(conversation)
    assert reply.tool_calls[0].status == "interrupted"


def conversation_with_a_tool_call() -> Conversation:
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    conversation.add(Message(role="user", content="time?"))
    reply = conversation.add(Message(role="assistant", content="", finish_reason="tool_calls"))
    reply.tool_calls.append(
        ToolCall(
            "call_1",
            "get_current_time",
            '{"timezone": "UTC"}',
            "done",
            seconds=0.5,
            result="# not a heading",
        )
    )
    conversation.add(Message(role="assistant", content="It is noon.", finish_reason="stop"))
    return conversation


def test_markdown_export_shows_each_call_and_fences_its_result() -> None:
    text = to_markdown(conversation_with_a_tool_call())
    call = '- Called `get_current_time` with ` {"timezone": "UTC"} ` (done, 0.50 s)'
    # The result folded under its call, fenced so the tool's Markdown stays inert.
    result = "<details>\n<summary>Result</summary>\n\n```\n# not a heading\n```\n\n</details>"
    assert f"{call}\n\n{result}" in text
    assert "Tool result" not in text


def test_json_export_carries_the_calls_and_what_answers_them() -> None:
    messages = json.loads(to_json(conversation_with_a_tool_call()))["messages"]
    assert messages[1]["tool_calls"] == [
        {
            "id": "call_1",
            "name": "get_current_time",
            "arguments": '{"timezone": "UTC"}',
            "status": "done",
            "seconds": 0.5,
            "result": "# not a heading",
        }
    ]
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]


@given(arguments=st.text(), name=st.text(min_size=1))
@settings(max_examples=150, deadline=None)
def test_any_arguments_a_model_sends_round_trip_exactly(arguments: str, name: str) -> None:
    conversation = Conversation(id="20261202-000000-abcd")
    reply = conversation.add(Message(role="assistant", content="", finish_reason="tool_calls"))
    reply.tool_calls.append(ToolCall("c", name, arguments, "done"))
    text = conversation_to_toml(conversation)
    loaded = conversation_from_toml(text, Path("20261202-000000-abcd.toml"))
    clean = re.compile("[\ud800-\udfff]")
    assert loaded.messages[0].tool_calls[0].arguments == clean.sub("\ufffd", arguments)
    assert loaded.messages[0].tool_calls[0].name == clean.sub("\ufffd", name)


def test_the_prompt_count_includes_the_tool_definitions_and_calls(counter: TokenCounter) -> None:
    conversation = conversation_with_a_tool_call()
    definitions = [
        ToolSpec(
            "time", "get_current_time", "Get the time", {"type": "object"}, "get_current_time"
        ).definition()
    ]
    bare = counter.count_messages("gpt-4o-mini", "", conversation.messages).tokens
    with_tools = counter.count_messages("gpt-4o-mini", "", conversation.messages, definitions)
    encoding, _ = counter.encoding("gpt-4o-mini")
    assert encoding is not None
    assert with_tools.tokens - bare == len(encoding.encode_ordinary(json.dumps(definitions)))
    # The call's name and arguments are counted with the message that carries them.
    without_call = conversation_with_a_tool_call()
    without_call.messages[1].tool_calls[0].arguments = ""
    fewer = counter.count_messages("gpt-4o-mini", "", without_call.messages).tokens
    assert bare - fewer == len(encoding.encode_ordinary('{"timezone": "UTC"}'))
    # So is its result, sent as the `tool` message after it.
    without_result = conversation_with_a_tool_call()
    without_result.messages[1].tool_calls[0].result = ""
    fewer = counter.count_messages("gpt-4o-mini", "", without_result.messages).tokens
    assert bare - fewer == len(encoding.encode_ordinary("# not a heading"))


def test_edit_and_resend_forks_with_the_calls_and_their_results_and_sends_them() -> None:
    conversation = conversation_with_a_tool_call()
    conversation.add(Message(role="user", content="and in Tokyo?"))
    fork = conversation.fork_before(3)  # the question edited: what came before it is kept
    (call,) = fork.messages[1].tool_calls
    assert call == conversation.messages[1].tool_calls[0] and call.result == "# not a heading"
    call.result = "changed in the fork"
    assert conversation.messages[1].tool_calls[0].result == "# not a heading"
    sent = build_chat_messages("", fork.messages)
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "changed in the fork"}

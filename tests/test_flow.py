"""The reply flow without any UI: a real ChatClient talks to the real test server, a real store
writes real files, and each test checks what ends up in the saved file."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from app_harness import FAKE_API_KEY
from disk_faults import read_only
from engine_harness import ChatHarness, wait_until
from fresh_python import fresh_python_output
from openai_server import FakeOpenAIServer, Script

from tui_chat.config import ModelPrice
from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.client import ChatClient
from tui_chat.engine.errors import ChatError
from tui_chat.engine.events import ReasoningDelta, TextDelta
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.tokens import TokenCounter
from tui_chat.flow import (
    IN_PROGRESS,
    FlowEvent,
    ReplyEnded,
    ReplyFlow,
    ReplyStarted,
    ReplyUpdated,
    Saved,
    SaveFailed,
    mark_unfinished_replies,
    plan_shorter_fork,
)
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore

PROMPT = "please answer"
REPLY = "alpha beta gamma delta epsilon zeta eta theta"
FIRST_THREE_CHUNKS = REPLY[:12]  # the server sends 4 characters per chunk


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    counter = TokenCounter()
    counter.load()
    return counter


def data_paths(tmp_path: Path) -> AppPaths:
    return AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")


def saved_files(tmp_path: Path) -> dict[str, dict[str, Any]]:
    folder = data_paths(tmp_path).conversations_dir
    return {
        p.stem: tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))
    }


def saved_file(tmp_path: Path) -> dict[str, Any]:
    (only,) = saved_files(tmp_path).values()
    return only


@dataclass
class FlowRun:
    """One flow over a store in tmp_path, with every event it reported."""

    tmp_path: Path
    client: ChatClient
    counter: TokenCounter
    prices: PriceBook = field(default_factory=lambda: PriceBook(autoload=False))
    events: list[FlowEvent] = field(default_factory=list)
    store: ConversationStore | None = None
    periodic_save_seconds: float = 3.0
    on_event: Callable[[FlowEvent], None] | None = None

    def flow(self, conversation: Conversation) -> ReplyFlow:
        if self.store is None:
            self.store = ConversationStore(data_paths(self.tmp_path))

        def listen(event: FlowEvent) -> None:
            self.events.append(event)
            if self.on_event is not None:
                self.on_event(event)

        return ReplyFlow(
            conversation,
            self.client,
            store=self.store,
            counter=self.counter,
            prices=self.prices,
            listener=listen,
            periodic_save_seconds=self.periodic_save_seconds,
        )

    async def send(self, conversation: Conversation, text: str = PROMPT) -> Message:
        conversation.add(Message(role="user", content=text))
        return await self.flow(conversation).run()

    def ended(self) -> ReplyEnded:
        (ended,) = [e for e in self.events if isinstance(e, ReplyEnded)]
        return ended


@pytest.fixture
def run(tmp_path: Path, chat: ChatHarness, counter: TokenCounter) -> FlowRun:
    return FlowRun(tmp_path, chat.client(request_timeout=10.0), counter)


def test_the_flow_runs_without_textual() -> None:
    code = "import sys, tui_chat.flow; print('textual' in sys.modules)"
    assert fresh_python_output(code).strip() == "False"


async def test_the_prompt_is_on_disk_before_the_request_and_the_reply_after(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=REPLY))
    on_disk_at_start: list[list[str]] = []

    def at_start(event: FlowEvent) -> None:
        if isinstance(event, ReplyStarted):
            on_disk_at_start.append([m["content"] for m in saved_file(tmp_path)["messages"]])
            assert openai_server.chat_requests == []  # the request has not left yet

    run.on_event = at_start
    conversation = ChatHarness.conversation()
    reply = await run.send(conversation)

    assert on_disk_at_start == [[PROMPT]]
    assert reply.content == REPLY and reply.finish_reason == "stop", reply.error
    kinds = [type(e).__name__ for e in run.events]
    assert kinds[:2] == ["Saved", "ReplyStarted"]
    assert kinds[-2:] == ["Saved", "ReplyEnded"]
    assert (
        "".join(
            e.event.text
            for e in run.events
            if isinstance(e, ReplyUpdated) and hasattr(e.event, "text")
        )
        == REPLY
    )
    saved = saved_file(tmp_path)["messages"]
    assert [m["content"] for m in saved] == [PROMPT, REPLY]
    assert saved[1]["finish_reason"] == "stop"
    assert saved[1]["usage"]["prompt_tokens"] == run.ended().reply.usage.prompt_tokens  # type: ignore[union-attr]
    assert run.ended().failure is None and run.ended().completion_tokens > 0


@dataclass
class Fault:
    """One way for the server to fail, and what the saved file must hold then."""

    name: str
    script: Script
    says: list[str]
    kind: str
    partial: str = ""
    finish: str = "error"
    timeout: float | None = None


FAULTS = [
    Fault(
        "401",
        Script(status=401, error_message="Invalid key", error_code="invalid_api_key"),
        ["401", "key"],
        "auth",
    ),
    Fault(
        "429",
        Script(status=429, error_message="Rate limit reached", retry_after="7"),
        ["429", "send again in 7 s"],
        "rate_limit",
    ),
    Fault("500", Script(status=500, error_message="The server had an error"), ["500"], "server"),
    Fault(
        "drop mid-stream",
        Script(text=REPLY, cut_after_chunks=3),
        ["dropped mid-reply"],
        "stream_cut",
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
    ),
    Fault(
        "stall mid-stream",
        Script(text=REPLY, stall_after_chunks=3),
        ["stopped sending mid-reply"],
        "timeout",
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
        timeout=0.4,
    ),
    Fault(
        "malformed line",
        Script(text=REPLY, malformed_after_chunks=3),
        ["malformed"],
        "bad_response",
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
    ),
    Fault(
        "error event mid-stream",
        Script(text=REPLY, error_after_chunks=3, error_message="overloaded"),
        ["overloaded"],
        "server",
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
    ),
    Fault(
        "200 with an HTML page",
        Script(
            raw_body="<html><head><title>Hotel WiFi: sign in</title></head></html>",
            content_type="text/html; charset=utf-8",
        ),
        ["web page", "captive portal"],
        "bad_response",
    ),
    Fault(
        "context length",
        Script(
            status=400,
            error_code="context_length_exceeded",
            error_message="This model's maximum context length is 200 tokens. However, your "
            "messages resulted in 290 tokens.",
        ),
        ["90 tokens over", "200-token"],
        "context_length",
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_a_server_fault_is_recorded_and_saved_with_its_sentence(
    tmp_path: Path,
    chat: ChatHarness,
    counter: TokenCounter,
    openai_server: FakeOpenAIServer,
    fault: Fault,
) -> None:
    openai_server.enqueue(fault.script)
    options = {"request_timeout": fault.timeout} if fault.timeout else {}
    run = FlowRun(tmp_path, chat.client(**options), counter)
    reply = await run.send(ChatHarness.conversation())

    ended = run.ended()
    assert isinstance(ended.failure, ChatError) and ended.failure.kind == fault.kind
    assert reply.finish_reason == fault.finish and reply.content == fault.partial
    saved = saved_file(tmp_path)["messages"]
    assert [m["content"] for m in saved] == [PROMPT, fault.partial]
    assert saved[1]["finish_reason"] == fault.finish
    for fragment in fault.says:
        assert fragment in saved[1]["error"], saved[1]["error"]
    assert FAKE_API_KEY not in str(saved)


async def test_a_stream_that_ends_without_finishing_is_saved_as_cut(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=REPLY, end_without_finish=True))
    await run.send(ChatHarness.conversation())
    reply = saved_file(tmp_path)["messages"][1]
    assert reply["content"] == REPLY and reply["finish_reason"] == "cut"
    assert "without saying it was finished" in reply["error"]
    assert run.ended().failure is None  # not an error: the text is all there, maybe not all


async def test_cancelling_mid_stream_saves_the_partial_reply_marked_interrupted(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    endless = " ".join(f"w{i}" for i in range(3000))
    openai_server.enqueue(Script(text=endless, chunk_chars=5, delay_per_chunk=0.01))
    conversation = ChatHarness.conversation()
    conversation.add(Message(role="user", content=PROMPT))
    task = asyncio.create_task(run.flow(conversation).run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(conversation.messages) < 2 or len(conversation.messages[1].content) < 40:
        assert loop.time() < deadline, "no reply text arrived"
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(openai_server.wait_for_disconnect, 5)
    shown = conversation.messages[1].content
    reply = saved_file(tmp_path)["messages"][1]
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"] == shown and endless.startswith(shown)
    assert reply["usage"]["estimated"] is True
    assert run.ended().interrupted


async def test_a_periodic_save_marks_the_reply_in_progress_and_only_that_opens_interrupted(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    text = " ".join(f"w{i}" for i in range(300))
    openai_server.enqueue(Script(text=text, chunk_chars=5, delay_per_chunk=0.01))
    run.periodic_save_seconds = 0.1
    mid_stream: list[tuple[str | None, dict[str, Any]]] = []

    def periodic(event: FlowEvent) -> None:
        started = any(isinstance(e, ReplyStarted) for e in run.events[:-1])
        if isinstance(event, Saved) and started and not mid_stream:
            files = saved_files(tmp_path)
            (only,) = files.values()
            mid_stream.append((conversation.messages[1].finish_reason, only))

    run.on_event = periodic
    conversation = ChatHarness.conversation()
    await run.send(conversation)

    ((live_reason, on_disk),) = mid_stream
    assert live_reason is None  # the shown reply is not marked, only the file
    assert on_disk["messages"][1]["finish_reason"] == IN_PROGRESS
    assert saved_file(tmp_path)["messages"][1]["finish_reason"] == "stop"

    # Killed after such a save, the file opens with the reply marked interrupted...
    store = ConversationStore(data_paths(tmp_path))
    left = Conversation.new(profile="test", model="gpt-4o-mini")
    left.add(Message(role="user", content="q"))
    left.add(Message(role="assistant", content="half", finish_reason=IN_PROGRESS))
    store.save(left)
    reopened = store.load(left.id)
    mark_unfinished_replies(reopened)
    assert reopened.messages[1].finish_reason == "interrupted"


class ArrivedSoFar:
    """What the stream has delivered so far, kept apart from the reply it was recorded into, and
    every mismatch between the two seen at each delta and in each periodic save's file."""

    def __init__(self, run: FlowRun, conversation: Conversation) -> None:
        self.run = run
        self.conversation = conversation
        self.answer: list[str] = []
        self.thought: list[str] = []
        self.saves_checked = 0
        self.mismatches: list[str] = []

    def __call__(self, event: FlowEvent) -> None:
        if len(self.conversation.messages) < 2:
            return
        reply = self.conversation.messages[1]
        if isinstance(event, ReplyUpdated):
            if isinstance(event.event, TextDelta):
                self.answer.append(event.event.text)
            elif isinstance(event.event, ReasoningDelta):
                self.thought.append(event.event.text)
            if reply.finish_reason is None and (
                reply.content != "".join(self.answer) or reply.thinking != "".join(self.thought)
            ):
                self.mismatches.append(f"shown after delta {len(self.answer)}")
        elif isinstance(event, Saved) and reply.finish_reason is None:
            on_disk = saved_file(self.run.tmp_path)["messages"][1]
            self.saves_checked += 1
            if on_disk["content"] != "".join(self.answer):
                self.mismatches.append(f"saved after delta {len(self.answer)}")
            if on_disk.get("thinking", "") != "".join(self.thought):
                self.mismatches.append(f"thinking saved after delta {len(self.thought)}")


async def test_a_reply_of_thousands_of_deltas_is_shown_and_saved_exactly_as_it_arrives(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    thought = "".join(f"step {i}, " for i in range(2000))
    answer = "".join(f"word{i} " for i in range(4000))  # 8,000 answer deltas of 4 characters
    openai_server.enqueue(Script(text=answer, reasoning=thought, delay_per_chunk=0.0002))
    run.periodic_save_seconds = 0.05
    conversation = ChatHarness.conversation()
    arrived = ArrivedSoFar(run, conversation)
    run.on_event = arrived

    reply = await run.send(conversation)

    assert arrived.mismatches == []
    assert arrived.saves_checked > 0, "no periodic save ran while the reply arrived"
    assert len(arrived.answer) > 5000
    assert reply.content == answer and "".join(arrived.answer) == answer
    assert reply.thinking == thought.strip()
    saved = saved_file(tmp_path)["messages"][1]
    assert (saved["content"], saved["thinking"]) == (answer, thought.strip())


async def test_cancelled_after_thousands_of_deltas_the_file_holds_exactly_what_arrived(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    endless = "".join(f"w{i} " for i in range(100_000))
    openai_server.enqueue(Script(text=endless, chunk_chars=3, delay_per_chunk=0.0002))
    conversation = ChatHarness.conversation()
    conversation.add(Message(role="user", content=PROMPT))
    arrived = ArrivedSoFar(run, conversation)
    run.on_event = arrived
    task = asyncio.create_task(run.flow(conversation).run())
    await wait_until(lambda: len(arrived.answer) >= 3000, "3,000 deltas arrived")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    so_far = "".join(arrived.answer)
    assert arrived.mismatches == []
    assert len(so_far) < len(endless)  # cut short, not finished
    reply = saved_file(tmp_path)["messages"][1]
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"] == so_far == conversation.messages[1].content


def test_a_hand_written_reply_without_finish_reason_is_not_marked_interrupted(
    tmp_path: Path,
) -> None:
    paths = data_paths(tmp_path)
    paths.conversations_dir.mkdir(parents=True)
    (paths.conversations_dir / "20250101-120000-abcd.toml").write_text(
        'schema = 1\nid = "20250101-120000-abcd"\ntitle = "Notes"\n'
        "created = 2025-01-01T12:00:00Z\nupdated = 2025-01-01T12:00:00Z\n"
        'profile = "test"\nmodel = "gpt-4o-mini"\n\n'
        '[[messages]]\nrole = "user"\ncontent = "What is 2+2?"\n'
        "created = 2025-01-01T12:00:00Z\n\n"
        '[[messages]]\nrole = "assistant"\ncontent = "4"\ncreated = 2025-01-01T12:00:01Z\n',
        encoding="utf-8",
    )
    conversation = ConversationStore(paths).load("20250101-120000-abcd")
    mark_unfinished_replies(conversation)
    assert conversation.messages[1].finish_reason is None


async def test_a_refused_disk_is_reported_and_the_next_save_writes_everything(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    conversation = ChatHarness.conversation()
    await run.send(conversation, "first")
    path = data_paths(tmp_path).conversations_dir / f"{conversation.id}.toml"
    before = path.read_bytes()
    run.events.clear()
    with read_only(path.parent):
        reply = await run.send(conversation, "written while the disk refuses")
        failures = [e for e in run.events if isinstance(e, SaveFailed)]
        assert len(failures) == 2  # the prompt's save and the reply's
        assert "Could not save" in str(failures[0].error)
        assert path.read_bytes() == before
    assert reply.content == "You said: written while the disk refuses"
    await run.send(conversation, "writable again")
    assert [m["content"] for m in saved_file(tmp_path)["messages"]] == [
        "first",
        "You said: first",
        "written while the disk refuses",
        "You said: written while the disk refuses",
        "writable again",
        "You said: writable again",
    ]


async def test_a_change_made_elsewhere_mid_stream_is_merged_on_the_flows_thread(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    text = " ".join(f"w{i}" for i in range(200))
    openai_server.enqueue(Script(text=text, chunk_chars=5, delay_per_chunk=0.01))
    run.periodic_save_seconds = 0.1
    conversation = ChatHarness.conversation()
    other = ConversationStore(data_paths(tmp_path))  # another tui-chat on the same folder

    def elsewhere(event: FlowEvent) -> None:
        if isinstance(event, ReplyStarted):
            theirs = other.load(conversation.id)
            theirs.add(Message(role="user", content="added in another window"))
            other.save(theirs)

    run.on_event = elsewhere
    reply = await run.send(conversation)

    merges = [e for e in run.events if isinstance(e, Saved) and e.outcome.kind == "merged"]
    assert merges and "merged 1 message" in merges[0].outcome.message
    contents = [m.content for m in conversation.messages]
    # Merged by time: the reply started before the other window's message was written.
    assert contents == [PROMPT, text, "added in another window"]
    assert conversation.messages[1] is reply  # the live reply object was kept
    assert [m["content"] for m in saved_file(tmp_path)["messages"]] == contents


async def test_a_401_with_a_short_key_names_no_bare_ellipsis(
    tmp_path: Path, openai_server: FakeOpenAIServer, chat: ChatHarness, counter: TokenCounter
) -> None:
    openai_server.required_key = "long-enough-key-1234"
    client = ChatClient(chat.profile(), api_key="short", max_retries=0)
    chat.clients.append(client)
    run = FlowRun(tmp_path, client, counter)
    await run.send(ChatHarness.conversation())
    error = saved_file(tmp_path)["messages"][1]["error"]
    assert "rejected the API key (401)" in error
    assert "…" not in error


# ----------------------------------------------------------------- too long for the model


def long_conversation(turns: int = 4) -> Conversation:
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    for turn in range(turns):
        conversation.add(Message(role="user", content=f"question {turn} " + "words " * 40))
        conversation.add(
            Message(
                role="assistant", content=f"answer {turn} " + "more " * 40, finish_reason="stop"
            )
        )
    return conversation


@pytest.mark.parametrize("figures", [True, False], ids=["server figure", "no figure"])
async def test_a_conversation_too_long_is_retried_in_one_fork_that_fits(
    tmp_path: Path,
    chat: ChatHarness,
    counter: TokenCounter,
    openai_server: FakeOpenAIServer,
    figures: bool,
) -> None:
    window = 300
    openai_server.context_window = window
    openai_server.context_error_figures = figures
    # Without the server's figure, the window comes from the price book (here: config).
    prices = PriceBook(
        {}
        if figures
        else {"gpt-4o-mini": ModelPrice(input=0.15, output=0.6, context_window=window)},
        autoload=False,
    )
    run = FlowRun(tmp_path, chat.client(), counter, prices=prices)
    conversation = long_conversation()
    await run.send(conversation, "one more")
    failure = run.ended().failure
    assert failure is not None and failure.kind == "context_length"

    plan = plan_shorter_fork(
        conversation,
        failure,
        counter=counter,
        prices=prices,
        base_url=run.client.base_url,
        reply_tokens=None,
    )
    assert plan is not None
    assert "1 tokens" not in plan.question
    if figures:
        assert f"{failure.over_by_tokens:,} tokens over the 300-token window" in plan.question
    else:
        assert "about" in plan.question and "tokens over the 300-token window" in plan.question
    fork = plan.fork(conversation)
    assert fork.messages[-1].content == "one more" and fork.title.endswith("(shortened)")
    assert plan.kept_tokens <= window * 3 // 4  # room for a reply

    run.events.clear()
    reply = await run.flow(fork).run()
    assert reply.finish_reason == "stop", reply.error  # the server took the fork's request
    files = saved_files(tmp_path)
    assert len(files) == 2  # the original, kept whole, and one fork
    assert len(files[conversation.id]["messages"]) == 10


def test_without_any_window_known_the_fork_keeps_the_newest_half_and_says_no_figure(
    counter: TokenCounter,
) -> None:
    conversation = long_conversation()
    conversation.add(Message(role="user", content="one more"))
    conversation.add(Message(role="assistant", content="", finish_reason="error"))
    failure = ChatError("context_length", "too long")
    plan = plan_shorter_fork(
        conversation,
        failure,
        counter=counter,
        prices=PriceBook(autoload=False),
        base_url="http://127.0.0.1:1/v1",
        reply_tokens=None,
    )
    assert plan is not None and "tokens over" not in plan.question
    whole = counter.count_messages(conversation.model, "", conversation.messages[:-1]).tokens
    assert plan.kept_tokens <= whole // 2 < plan.kept_tokens + 60


async def test_a_change_made_elsewhere_before_the_prompt_is_saved_is_merged_first(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    conversation = ChatHarness.conversation()
    await run.send(conversation, "first")
    other = ConversationStore(data_paths(tmp_path))  # another tui-chat on the same folder
    theirs = other.load(conversation.id)
    theirs.add(Message(role="user", content="from the other window"))
    other.save(theirs)
    openai_server.enqueue(Script(text="second reply"))

    await run.send(conversation, "second")

    contents = [m.content for m in conversation.messages]
    # Both sides added a message since the last save: merged by time (a tie puts ours first).
    assert contents[:2] == ["first", "You said: first"] and contents[-1] == "second reply"
    assert sorted(contents[2:4]) == ["from the other window", "second"]
    assert [m["content"] for m in saved_file(tmp_path)["messages"]] == contents


async def test_a_bug_in_whoever_listens_costs_neither_the_prompt_nor_the_text_so_far(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=REPLY))

    def broken(event: FlowEvent) -> None:
        if isinstance(event, ReplyUpdated):
            raise RuntimeError("a repaint went wrong")

    run.on_event = broken
    reply = await run.send(ChatHarness.conversation())
    saved = saved_file(tmp_path)["messages"]
    assert [m["content"] for m in saved] == [PROMPT, reply.content]
    # Said once, without a key to press: the screen adds its own "ctrl+r to retry".
    assert saved[1]["error"] == "Unexpected error: RuntimeError."


THOUGHT = "First, what do they want?\nThen: answer in Greek letters."


@pytest.mark.parametrize("form", ["reasoning_content", "reasoning", "think"])
async def test_the_thinking_is_saved_beside_the_reply_with_its_tokens_and_never_sent_again(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer, form: str
) -> None:
    openai_server.enqueue(Script(text=REPLY, reasoning=THOUGHT, reasoning_as=form), Script())
    conversation = ChatHarness.conversation()

    reply = await run.send(conversation)
    await run.send(conversation, "and then?")

    saved = saved_file(tmp_path)["messages"][1]
    assert saved["content"] == REPLY
    assert saved["thinking"] == THOUGHT
    thought_tokens = run.counter.count_text("gpt-4o-mini", THOUGHT).tokens
    # The server's reasoning_tokens where it reports them; for a <think> block, our count.
    assert saved["thinking_tokens"] == pytest.approx(thought_tokens, abs=2)
    assert saved["thinking_seconds"] >= 0
    assert reply.usage is not None and reply.usage.completion_tokens > thought_tokens
    second_request = openai_server.chat_requests[1].json["messages"]
    assert second_request[1] == {"role": "assistant", "content": REPLY}


async def test_without_usage_from_the_server_the_estimate_counts_the_thinking(
    tmp_path: Path, run: FlowRun, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(Script(text=REPLY, reasoning=THOUGHT, include_usage=False))

    reply = await run.send(ChatHarness.conversation())

    usage = reply.usage
    assert usage is not None and usage.estimated
    assert usage.reasoning_tokens == reply.thinking_tokens and usage.reasoning_tokens > 5
    assert usage.completion_tokens == run.counter.count_text("gpt-4o-mini", REPLY).tokens + (
        usage.reasoning_tokens
    )

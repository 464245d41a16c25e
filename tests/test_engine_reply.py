"""Recording a reply into its message: finished, estimated, interrupted, cut or failed."""

from __future__ import annotations

import asyncio
import threading

import pytest
from openai_server import Script

from tui_chat.config import ModelPrice
from tui_chat.domain.conversation import Message, Usage
from tui_chat.engine.errors import ChatError
from tui_chat.engine.events import (
    Finished,
    ReasoningDelta,
    StreamFailed,
    TextDelta,
    UsageReport,
)
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.tokens import TokenCounter

# The test server is a local URL, so nothing is priced unless configured.
PRICES = PriceBook({"gpt-4o-mini": ModelPrice(input=0.15, output=0.6, cached_input=0.075)})


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    counter = TokenCounter()
    counter.load()
    return counter


async def record(chat, counter, conversation=None, *, prices=PRICES, client=None):
    conversation = conversation or chat.conversation("hello there")
    reply = Message(role="assistant", content="", model=conversation.model)
    estimate = counter.count_messages(
        conversation.model, conversation.system, conversation.messages
    ).tokens
    recorder = ReplyRecorder(
        reply,
        counter=counter,
        prices=prices,
        base_url=chat.server.base_url,
        prompt_estimate=estimate,
    )
    async for event in (client or chat.client()).stream_reply(conversation):
        recorder.apply(event)
    return reply, recorder


async def test_finished_reply_has_servers_usage_and_its_cost(chat, counter):
    reply, recorder = await record(chat, counter)

    assert reply.content == "You said: hello there"
    assert reply.finish_reason == "stop"
    assert reply.usage is not None and not reply.usage.estimated
    expected = (reply.usage.prompt_tokens * 0.15 + reply.usage.completion_tokens * 0.6) / 1e6
    assert reply.cost_usd == pytest.approx(expected)
    assert reply.error is None
    assert recorder.done
    assert recorder.completion_tokens == reply.usage.completion_tokens


async def test_cached_tokens_make_the_reply_cheaper(chat, openai_server, counter):
    openai_server.enqueue(Script(text="Same answer.", cached_tokens=0))
    openai_server.enqueue(Script(text="Same answer.", cached_tokens=8))

    full, _ = await record(chat, counter)
    cached, _ = await record(chat, counter)

    assert cached.usage.cached_tokens == 8
    assert cached.cost_usd == pytest.approx(full.cost_usd - 8 * (0.15 - 0.075) / 1e6)


async def test_unknown_price_leaves_cost_unknown_not_zero(chat, counter):
    reply, _ = await record(chat, counter, prices=PriceBook())

    assert reply.usage is not None
    assert reply.cost_usd is None


async def test_without_usage_from_the_server_the_estimate_matches_what_it_would_say(
    chat, openai_server, counter
):
    reply_text = "A reply of some length, with `code` and a list:\n- one\n- two\n"
    openai_server.enqueue(Script(text=reply_text, include_usage=True))
    openai_server.enqueue(Script(text=reply_text, include_usage=False))

    reported, _ = await record(chat, counter)
    estimated, _ = await record(chat, counter)

    assert estimated.usage.estimated
    assert estimated.usage.prompt_tokens == reported.usage.prompt_tokens
    assert estimated.usage.completion_tokens == reported.usage.completion_tokens
    assert estimated.cost_usd == pytest.approx(reported.cost_usd)


async def test_interrupted_reply_keeps_its_text_and_an_estimated_usage(
    chat, openai_server, counter
):
    openai_server.enqueue(Script(text="word " * 300, chunk_chars=5, delay_per_chunk=0.02))
    reply = Message(role="assistant", content="", model="gpt-4o-mini")
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PRICES, base_url=openai_server.base_url, prompt_estimate=20
    )
    client = chat.client()
    some_text = asyncio.Event()

    async def read() -> None:
        async for event in client.stream_reply(chat.conversation("talk")):
            recorder.apply(event)
            if recorder.completion_tokens >= 5:
                some_text.set()

    task = asyncio.create_task(read())
    await asyncio.wait_for(some_text.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    recorder.interrupt()

    assert reply.finish_reason == "interrupted"
    assert reply.content.startswith("word word word word")
    assert reply.usage.estimated
    assert reply.usage.prompt_tokens == 20
    assert reply.usage.completion_tokens == counter.count_text("gpt-4o-mini", reply.content).tokens
    assert reply.cost_usd is not None


async def test_cut_reply_keeps_its_text_marked_cut_with_the_reason(chat, openai_server, counter):
    openai_server.enqueue(Script(text="The first half and the second half", cut_after_chunks=4))

    reply, _ = await record(chat, counter)

    assert reply.content == "The first half a"
    assert reply.finish_reason == "cut"
    assert "dropped mid-reply" in reply.error
    assert reply.usage.estimated


async def test_stream_ending_without_finish_is_kept_as_cut(chat, openai_server, counter):
    openai_server.enqueue(Script(text="Ends abruptly", end_without_finish=True))

    reply, _ = await record(chat, counter)

    assert reply.content == "Ends abruptly"
    assert reply.finish_reason == "cut"
    assert "without saying it was finished" in reply.error


async def test_failed_request_records_the_error_and_no_usage(chat, openai_server, counter):
    openai_server.enqueue(Script(status=500, error_message="Boom"))

    reply, _ = await record(chat, counter)

    assert reply.content == ""
    assert reply.finish_reason == "error"
    assert reply.error.endswith("send again in a moment.")
    assert reply.usage is None
    assert reply.cost_usd is None


async def test_served_model_fills_in_a_message_without_model(chat, openai_server, counter):
    openai_server.enqueue(Script(text="hi", model="gpt-4o-mini-2024-07-18"))
    reply = Message(role="assistant", content="")
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PriceBook(), base_url=None, prompt_estimate=0
    )

    async for event in chat.client().stream_reply(chat.conversation("x")):
        recorder.apply(event)

    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert recorder.served_model == "gpt-4o-mini-2024-07-18"
    assert reply.cost_usd is not None  # priced from the snapshot (base_url None: OpenAI)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_figures_for_the_status_bar(counter):
    clock = FakeClock()
    reply = Message(role="assistant", content="", model="gpt-4o")
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PriceBook(), base_url=None, prompt_estimate=10, clock=clock
    )

    assert recorder.tokens_per_second is None
    clock.now = 101.5
    recorder.apply(TextDelta("hello"))  # first token after 1.5 s
    clock.now = 101.51
    recorder.apply(TextDelta(" world"))  # in the same burst: no speed yet, not 200 tok/s
    assert recorder.tokens_per_second is None
    clock.now = 103.5
    recorder.apply(TextDelta(" hello world"))

    assert recorder.elapsed == pytest.approx(3.5)
    assert recorder.completion_tokens == 4
    assert recorder.tokens_per_second == pytest.approx(4 / 2.0)  # from the first token, 1.5 s in

    recorder.apply(UsageReport(Usage(10, 40, reasoning_tokens=36), "gpt-4o"))
    recorder.apply(Finished("stop", "gpt-4o"))
    clock.now = 200.0

    assert recorder.elapsed == pytest.approx(3.5)  # frozen at the end
    assert recorder.completion_tokens == 40  # the server's figure, reasoning included


def test_reasoning_counts_as_the_first_sign_of_life(counter):
    clock = FakeClock()
    recorder = ReplyRecorder(
        Message(role="assistant", content="", model="o3"),
        counter=counter,
        prices=PriceBook(),
        base_url=None,
        prompt_estimate=0,
        clock=clock,
    )
    clock.now = 102.0
    recorder.apply(ReasoningDelta("thinking"))

    assert recorder.reasoning_chars == len("thinking")
    assert recorder.message.content == ""
    clock.now = 104.0
    recorder.apply(TextDelta("hello world"))
    # The speed counts from the thinking (2 s in), not from the text (4 s in).
    assert recorder.tokens_per_second == pytest.approx(recorder.completion_tokens / 2.0)


def test_events_after_the_end_change_nothing(counter):
    reply = Message(role="assistant", content="", model="gpt-4o")
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PriceBook(), base_url=None, prompt_estimate=0
    )
    recorder.apply(TextDelta("done"))
    recorder.apply(Finished("stop", None))

    recorder.apply(TextDelta(" more"))
    recorder.apply(StreamFailed(ChatError("server", "Late failure.")))
    recorder.interrupt()

    assert reply.content == "done"
    assert reply.finish_reason == "stop"
    assert reply.error is None


def test_before_the_encodings_load_the_live_count_is_marked_approximate():
    recorder = ReplyRecorder(
        Message(role="assistant", content="", model="gpt-4o"),
        counter=TokenCounter(),
        prices=PriceBook(),
        base_url=None,
        prompt_estimate=0,
    )

    recorder.apply(TextDelta("x" * 40))

    assert recorder.completion_tokens == 10  # ~4 characters a token, until they load


def test_a_reply_read_by_another_thread_while_it_streams_loses_no_word(counter):
    # A worker counting the conversation's tokens reads the reply while the loop appends to it
    # and reads it too (a repaint): every read is the text so far, never missing a piece.
    reply = Message(role="assistant", content="", model="gpt-4o-mini")
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PriceBook(), base_url=None, prompt_estimate=0
    )
    pieces = [f"w{i} " for i in range(20_000)]
    text = "".join(pieces)
    worker_lengths: list[int] = []
    loop_lengths: list[int] = []
    streaming = True

    def read(lengths: list[int]) -> None:
        seen = reply.content
        lengths.append(len(seen) if text.startswith(seen) else -1)

    def read_while_streaming() -> None:
        while streaming:
            read(worker_lengths)

    worker = threading.Thread(target=read_while_streaming)
    worker.start()
    try:
        for number, piece in enumerate(pieces):
            recorder.apply(TextDelta(piece))
            if number % 50 == 0:
                read(loop_lengths)
    finally:
        streaming = False
        worker.join()
    recorder.apply(Finished("stop", None))

    assert reply.content == text
    assert len(worker_lengths) > 1
    for lengths in (worker_lengths, loop_lengths):
        assert -1 not in lengths  # each read was the start of the reply
        assert lengths == sorted(lengths)  # and none went back to an older one

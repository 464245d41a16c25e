"""Streaming replies through the real openai SDK from the test server: every stream shape."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from openai_server import Script

from tui_chat.domain.conversation import Message
from tui_chat.engine.events import (
    Finished,
    ReasoningDelta,
    StreamFailed,
    TextDelta,
    UsageReport,
)


def kinds(events: list) -> list[str]:
    """The event types in order, with consecutive deltas collapsed."""
    names: list[str] = []
    for event in events:
        name = type(event).__name__
        if not names or names[-1] != name:
            names.append(name)
    return names


async def test_reply_streams_text_then_usage_then_finish(chat, openai_server):
    events = await chat.events(chat.conversation("hello there"))

    assert chat.text(events) == "You said: hello there"
    assert kinds(events) == ["TextDelta", "UsageReport", "Finished"]
    assert len([e for e in events if isinstance(e, TextDelta)]) > 1  # it really streamed
    usage = events[-2].usage
    assert usage.estimated is False
    assert usage.completion_tokens == 5
    assert events[-1] == Finished("stop", "gpt-4o-mini")
    request = openai_server.chat_requests[0].json
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}


async def test_request_sends_system_prompt_and_history_but_not_failed_or_empty_replies(
    chat, openai_server
):
    conversation = chat.conversation("first question", system="Answer in French.")
    conversation.add(Message(role="assistant", content="Une réponse.", finish_reason="stop"))
    conversation.add(Message(role="user", content="second question"))
    conversation.add(
        Message(role="assistant", content="", finish_reason="error", error="Cannot reach host.")
    )
    conversation.add(Message(role="user", content="second question again"))
    conversation.add(Message(role="assistant", content="", finish_reason="interrupted"))
    conversation.add(Message(role="assistant", content="partial", finish_reason="cut"))
    conversation.add(Message(role="user", content="third"))

    await chat.events(conversation)

    sent = openai_server.chat_requests[0].json["messages"]
    assert sent == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "Une réponse."},
        {"role": "user", "content": "second question"},
        {"role": "user", "content": "second question again"},
        {"role": "assistant", "content": "partial"},
        {"role": "user", "content": "third"},
    ]


async def test_empty_system_prompt_is_not_sent(chat, openai_server):
    await chat.events(chat.conversation("hi", system="   "))

    assert [m["role"] for m in openai_server.chat_requests[0].json["messages"]] == ["user"]


async def test_stream_without_role_chunk_still_yields_all_text(chat, openai_server):
    openai_server.enqueue(Script(text="No role chunk here.", role_chunk=False))

    events = await chat.events()

    assert chat.text(events) == "No role chunk here."
    assert events[-1].reason == "stop"


async def test_keepalive_chunks_with_empty_choices_null_content_and_comments_are_ignored(
    chat, openai_server
):
    openai_server.enqueue(
        Script(
            text="Robust to odd chunks.",
            empty_choices_chunks=True,
            null_content_chunks=True,
            comment_lines=True,
        )
    )

    events = await chat.events()

    assert chat.text(events) == "Robust to odd chunks."
    assert kinds(events) == ["TextDelta", "UsageReport", "Finished"]


async def test_server_without_usage_chunk_finishes_without_usage_report(chat, openai_server):
    openai_server.enqueue(Script(text="No usage from me.", include_usage=False))

    events = await chat.events()

    assert chat.text(events) == "No usage from me."
    assert not any(isinstance(e, UsageReport) for e in events)
    assert events[-1].reason == "stop"


async def test_reply_model_name_differing_from_request_is_reported(chat, openai_server):
    openai_server.enqueue(Script(text="Dated model.", model="gpt-4o-mini-2024-07-18"))

    events = await chat.events()

    assert events[-1] == Finished("stop", "gpt-4o-mini-2024-07-18")
    assert events[-2].model == "gpt-4o-mini-2024-07-18"


async def test_stream_ending_without_finish_chunk_is_reported_as_cut(chat, openai_server):
    openai_server.enqueue(Script(text="I was going to say", end_without_finish=True))

    events = await chat.events()

    assert chat.text(events) == "I was going to say"
    assert events[-1].reason == "cut"


async def test_reasoning_content_is_reported_apart_from_the_reply(chat, openai_server):
    openai_server.enqueue(Script(text="42.", reasoning="Let me think about it."))

    events = await chat.events()

    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning == "Let me think about it."
    assert chat.text(events) == "42."


async def test_server_that_ignores_stream_and_sends_one_json_completion(chat, openai_server):
    openai_server.enqueue(Script(text="All at once.", json_reply=True))

    events = await chat.events()

    assert chat.text(events) == "All at once."
    assert kinds(events) == ["TextDelta", "UsageReport", "Finished"]
    assert events[-1].reason == "stop"


async def test_max_tokens_limit_ends_with_length(chat, openai_server):
    openai_server.enqueue(Script(text="one two three four five six seven eight nine ten"))
    client = chat.client(max_tokens=3)

    events = await chat.events(client=client)

    assert openai_server.chat_requests[0].json["max_tokens"] == 3
    assert chat.text(events) == "one two three"
    assert events[-1].reason == "length"


async def test_cached_and_reasoning_tokens_come_from_usage_details(chat, openai_server):
    openai_server.enqueue(Script(text="Short answer.", cached_tokens=12, reasoning_tokens=64))

    events = await chat.events(chat.conversation("think hard"))

    usage = next(e for e in events if isinstance(e, UsageReport)).usage
    assert usage.cached_tokens == 12
    assert usage.reasoning_tokens == 64
    assert usage.completion_tokens == 64 + 3  # reasoning is part of completion tokens


async def test_model_argument_overrides_the_conversation_model(chat, openai_server):
    await chat.events(chat.conversation("hi"), model="gpt-4o")

    assert openai_server.chat_requests[0].json["model"] == "gpt-4o"


async def test_sdk_retries_a_5xx_before_the_first_byte_without_duplicating_text(
    chat, openai_server
):
    openai_server.enqueue(
        Script(status=503, error_message="Overloaded", headers={"retry-after-ms": "10"}),
        Script(text="Second time lucky."),
    )

    events = await chat.events(client=chat.client(max_retries=1))

    assert chat.text(events) == "Second time lucky."
    assert len(openai_server.chat_requests) == 2


async def test_a_stream_cut_after_text_is_not_retried(chat, openai_server):
    openai_server.enqueue(Script(text="Half a reply and then", cut_after_chunks=3))

    events = await chat.events(client=chat.client(max_retries=2))

    assert chat.text(events) == "Half a reply"
    assert isinstance(events[-1], StreamFailed)
    assert events[-1].error.kind == "stream_cut"
    assert len(openai_server.chat_requests) == 1


async def test_cancelling_the_reader_closes_the_connection_at_once(chat, openai_server):
    openai_server.enqueue(Script(text="word " * 400, chunk_chars=5, delay_per_chunk=0.02))
    client = chat.client()
    received: list = []
    three_deltas = asyncio.Event()

    async def read() -> None:
        async for event in client.stream_reply(chat.conversation("talk a lot")):
            received.append(event)
            if len(received) == 3:
                three_deltas.set()

    task = asyncio.create_task(read())
    await asyncio.wait_for(three_deltas.wait(), 5)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        cancelled = True
    else:
        cancelled = False

    assert cancelled, "CancelledError must reach the reader"
    assert await asyncio.to_thread(openai_server.wait_for_disconnect, 5)
    assert openai_server.chat_requests[0].disconnected
    assert len(received) < 100


async def test_leaving_the_loop_early_with_aclosing_closes_the_connection(chat, openai_server):
    openai_server.enqueue(Script(text="word " * 400, chunk_chars=5, delay_per_chunk=0.02))
    client = chat.client()

    async with aclosing(client.stream_reply(chat.conversation("talk"))) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break

    assert await asyncio.to_thread(openai_server.wait_for_disconnect, 5)


async def test_client_reuses_its_connection_for_the_next_reply(chat, openai_server):
    client = chat.client()

    first = await chat.events(chat.conversation("one"), client)
    second = await chat.events(chat.conversation("two"), client)

    assert chat.text(first) == "You said: one"
    assert chat.text(second) == "You said: two"


async def test_groq_style_usage_under_x_groq_is_read(chat, openai_server):
    openai_server.enqueue(Script(text="Fast inference.", usage_in_x_groq=True))

    events = await chat.events()

    usage = next(e for e in events if isinstance(e, UsageReport)).usage
    assert usage.completion_tokens == 3
    assert not usage.estimated


async def test_server_rejecting_stream_options_is_asked_again_without_them(chat, openai_server):
    openai_server.reject_stream_options = True
    openai_server.enqueue(Script(text="First."), Script(text="Second."))
    client = chat.client()

    first = await chat.events(client=client)
    second = await chat.events(client=client)

    assert chat.text(first) == "First."
    assert chat.text(second) == "Second."
    bodies = [r.json for r in openai_server.chat_requests]
    assert ["stream_options" in body for body in bodies] == [True, False, False]
    assert not any(isinstance(e, UsageReport) for e in first)  # usage will be estimated

"""A model's thinking, as each kind of server sends it, told apart from the answer by the engine
(real openai SDK, real test server)."""

from __future__ import annotations

import pytest
from openai_server import REASONING_FORMS, Script

from tui_chat.domain.conversation import Message
from tui_chat.engine.events import ReasoningDelta, StreamEvent, StreamFailed, TextDelta
from tui_chat.engine.think_tags import ThinkTagSplitter

THOUGHT = "The user greets me.\nA short, friendly answer will do; no need for <b>tags</b>."
ANSWER = "Hello! How can I help?"


def thought_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


@pytest.mark.parametrize("form", REASONING_FORMS)
@pytest.mark.parametrize("chunk_chars", [None, 1, 3, 5])
async def test_each_form_of_thinking_arrives_apart_from_the_answer(
    chat, openai_server, form: str, chunk_chars: int | None
):
    # chunk_chars 1, 3 and 5 cut `<think>` and `</think>` at every place a server might.
    openai_server.enqueue(
        Script(text=ANSWER, reasoning=THOUGHT, reasoning_as=form, chunk_chars=chunk_chars)
    )

    events = await chat.events()

    assert chat.text(events) == ANSWER  # no tag, no blank line left over from the block
    assert thought_of(events).strip() == THOUGHT
    first_answer = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert not any(isinstance(e, ReasoningDelta) for e in events[first_answer:])


@pytest.mark.parametrize("form", REASONING_FORMS)
async def test_a_whole_json_completion_keeps_its_thinking_apart(chat, openai_server, form: str):
    openai_server.enqueue(
        Script(text=ANSWER, reasoning=THOUGHT, reasoning_as=form, json_reply=True)
    )

    events = await chat.events()

    assert chat.text(events) == ANSWER
    assert thought_of(events).strip() == THOUGHT


async def test_think_tags_inside_an_answer_are_the_answer(chat, openai_server):
    text = "Some models wrap thoughts in <think>…</think>; I do not."
    openai_server.enqueue(Script(text=text, chunk_chars=2))

    events = await chat.events()

    assert chat.text(events) == text
    assert thought_of(events) == ""


async def test_an_answer_that_starts_like_a_tag_but_is_not_one_is_kept_whole(chat, openai_server):
    openai_server.enqueue(Script(text="<thin ice> is a band.", chunk_chars=3))

    events = await chat.events()

    assert chat.text(events) == "<thin ice> is a band."


async def test_what_was_held_back_as_a_possible_tag_is_kept_when_the_stream_is_cut(
    chat, openai_server
):
    openai_server.enqueue(Script(text="<thin ice> is a band.", chunk_chars=2, cut_after_chunks=2))

    events = await chat.events()

    assert chat.text(events) == "<thi"  # held back for a tag that never came, then given
    assert isinstance(events[-1], StreamFailed)


async def test_a_thought_cut_off_before_its_closing_tag_stays_thinking(chat, openai_server):
    # The server dies while the model is still thinking: what came is thinking, not answer.
    openai_server.enqueue(
        Script(
            text=ANSWER, reasoning=THOUGHT, reasoning_as="think", chunk_chars=3, cut_after_chunks=8
        )
    )

    events = await chat.events()

    assert chat.text(events) == ""
    assert THOUGHT.startswith(thought_of(events).lstrip()) and thought_of(events).strip()


async def test_thinking_is_never_sent_back_to_the_model(chat, openai_server):
    conversation = chat.conversation("hello")
    conversation.add(
        Message(
            role="assistant",
            content=ANSWER,
            finish_reason="stop",
            thinking=THOUGHT,
            thinking_seconds=1.5,
            thinking_tokens=20,
        )
    )
    conversation.add(Message(role="user", content="and now?"))

    await chat.events(conversation)

    sent = openai_server.chat_requests[0].json["messages"]
    assert sent[1] == {"role": "assistant", "content": ANSWER}
    assert "greets" not in str(openai_server.chat_requests[0].json)


def test_the_splitter_finds_the_block_however_the_deltas_cut_it():
    content = f"\n<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"
    for size in range(1, len("</think>") + 2):
        splitter = ThinkTagSplitter()
        events: list[TextDelta | ReasoningDelta] = []
        for start in range(0, len(content), size):
            events += splitter.feed(content[start : start + size])
        events += splitter.finish()
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == ANSWER, size
        assert thought_of(list(events)).strip() == THOUGHT, size

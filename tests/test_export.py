"""Exports: Markdown to read, JSON for programs; only conversation data goes in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tui_chat.domain.conversation import Conversation, Message, Usage
from tui_chat.export import to_json, to_markdown

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def sample() -> Conversation:
    conv = Conversation(
        id="20261124-013000-a1b2",
        title="Fibonacci in Python",
        created=T0,
        updated=T0 + timedelta(minutes=1),
        system="Answer with ```code``` only.",
        tags=["python"],
    )
    conv.messages.append(Message("user", "Write fib.", created=T0))
    conv.messages.append(
        Message(
            "assistant",
            "```python\ndef fib(n): ...\n```",
            created=T0 + timedelta(seconds=4),
            model="gpt-4o-mini",
            finish_reason="length",
            cost_usd=0.0000277,
            usage=Usage(25, 40),
        )
    )
    conv.messages.append(
        Message(
            "assistant",
            "",
            created=T0 + timedelta(seconds=9),
            finish_reason="error",
            error="Rate limited:\ntry later",
        )
    )
    conv.extra = {"api_key": "sk-should-not-leak"}
    return conv


def test_markdown_reads_as_a_document() -> None:
    text = to_markdown(sample())
    assert text.startswith("# Fibonacci in Python\n\n- Model: gpt-4o-mini (profile openai)\n")
    assert "## User · 2026-11-24 01:30\n\nWrite fib.\n" in text
    assert (
        "## Assistant (gpt-4o-mini) · 2026-11-24 01:30\n\n```python\ndef fib(n): ...\n```" in text
    )
    assert "*finished: length*" in text
    assert "*finished: error; error: Rate limited: try later*" in text
    # The system prompt's own backticks cannot close its fence.
    assert "````\nAnswer with ```code``` only.\n````" in text
    assert "- Tags: python" in text
    # The failed reply has no known price: the cost says so rather than pass for the whole.
    assert "- Cost: $0.000028 + 1 reply of unknown price\n" in text
    assert "sk-should-not-leak" not in text


def test_json_has_every_known_field_and_nothing_else() -> None:
    data = json.loads(to_json(sample()))
    assert data["id"] == "20261124-013000-a1b2"
    assert data["created"] == "2026-11-24T01:30:00+00:00"
    assert data["tags"] == ["python"]
    first, reply, failed = data["messages"]
    assert first == {
        "role": "user",
        "content": "Write fib.",
        "created": "2026-11-24T01:30:00+00:00",
    }
    assert reply["usage"]["completion_tokens"] == 40
    assert reply["cost_usd"] == 0.0000277
    assert failed["error"] == "Rate limited:\ntry later"
    assert "sk-should-not-leak" not in json.dumps(data)


def test_any_text_survives_json_export() -> None:
    conv = Conversation(id="x")
    text = 'quote " back \\ crlf \r\n esc \x1b[2J 🦀 日本'
    conv.messages.append(Message("user", text))
    assert json.loads(to_json(conv))["messages"][0]["content"] == text


def test_lone_surrogates_do_not_break_an_export() -> None:
    """A lone surrogate (possible in memory, never in UTF-8) becomes U+FFFD, and only it: the
    rest of the text is exported as it is, and both exports can be written as UTF-8."""
    conv = Conversation(id="x", title="half \ud800 title")
    conv.messages.append(Message("user", "before \udc00 after"))
    markdown = to_markdown(conv)
    assert markdown.startswith("# half \ufffd title\n")
    assert "\nbefore \ufffd after\n" in markdown
    assert markdown.encode("utf-8").decode("utf-8") == markdown
    data = json.loads(to_json(conv).encode("utf-8"))
    assert data["title"] == "half \ufffd title"
    assert data["messages"][0]["content"] == "before \ufffd after"


def thinking_conversation() -> Conversation:
    conv = Conversation(id="x", title="Think")
    conv.messages.append(Message("user", "Is 91 prime?", created=T0))
    conv.messages.append(
        Message(
            "assistant",
            "No: 91 = 7 × 13.",
            created=T0,
            finish_reason="stop",
            thinking="Try small primes.\n7 × 13 = 91, so no. </details> cannot end the block.",
            thinking_seconds=12.4,
            thinking_tokens=840,
        )
    )
    return conv


def test_markdown_folds_the_thinking_above_the_answer() -> None:
    text = to_markdown(thinking_conversation())

    assert (
        "<details>\n<summary>Thought for 12 s, 840 tokens</summary>\n\nTry small primes.\n"
        "7 × 13 = 91, so no. &lt;/details&gt; cannot end the block.\n\n</details>\n\n"
        "No: 91 = 7 × 13.\n"
    ) in text
    assert text.count("</details>") == 1


def test_json_carries_the_thinking_as_its_own_field() -> None:
    reply = json.loads(to_json(thinking_conversation()))["messages"][1]

    assert reply["content"] == "No: 91 = 7 × 13."
    assert reply["thinking"] == {
        "text": "Try small primes.\n7 × 13 = 91, so no. </details> cannot end the block.",
        "seconds": 12.4,
        "tokens": 840,
    }

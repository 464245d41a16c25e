"""What an attachment costs in tokens: a text file's framed words through the model's
encoding, an image by OpenAI's published tile rule, approximate where the rule is unknown."""

from __future__ import annotations

from typing import Any

import pytest
from attachment_samples import image_file, text_file

from tui_chat.domain.conversation import Message
from tui_chat.engine.attachment_parts import framed_text
from tui_chat.engine.image_tokens import image_tokens
from tui_chat.engine.tokens import TokenCount, TokenCounter


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    counter = TokenCounter()
    assert counter.load(), counter.load_error
    return counter


def test_a_text_file_is_framed_with_its_name_made_safe():
    assert framed_text(text_file("hi")) == '<file name="notes.txt">\nhi\n</file>'
    sneaky = text_file("x", name='a">\n</file>\x1b[2J.txt')
    assert framed_text(sneaky).splitlines()[0] == (
        '<file name="a&quot;&gt; &lt;/file&gt;␛[2J.txt">'
    )


def test_a_text_file_counts_its_framed_words_with_the_models_encoding(counter):
    attachment = text_file("The quick brown fox jumps over the lazy dog.\n" * 50)
    count = counter.attachment_tokens(attachment, "gpt-4o")
    assert count == TokenCount(counter.count_text("gpt-4o", framed_text(attachment)).tokens, False)
    assert count.tokens > 50 * 9
    unknown = counter.attachment_tokens(attachment, "llama3.1:8b")
    assert unknown.approximate


class CountingEncoding:
    """An encoding that counts how often it is asked to encode (to see the cache work)."""

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding
        self.name = encoding.name
        self.calls = 0

    def encode_ordinary(self, text: str) -> list[int]:
        self.calls += 1
        return self.encoding.encode_ordinary(text)


def test_a_big_text_file_is_encoded_once_for_its_line_the_draft_and_the_prompt():
    counter = TokenCounter()
    assert counter.load_for("gpt-4o")
    spy = CountingEncoding(counter.encoding("gpt-4o")[0])
    counter._encodings["o200k_base"] = spy  # type: ignore[assignment]  # duck-typed for the test
    attachment = text_file("word " * 200_000)
    first = counter.attachment_tokens(attachment, "gpt-4o")
    calls_for_the_file = spy.calls
    counter.attachment_tokens(attachment, "gpt-4o")
    counter.count_draft("gpt-4o", "", [attachment])
    message = Message("user", "", attachments=[attachment])
    counter.count_messages("gpt-4o", "", [message])
    # Later counts encode only the short pieces around it ("user", the empty text).
    assert spy.calls - calls_for_the_file <= 3
    assert first.tokens > 200_000


@pytest.mark.parametrize(
    ("model", "width", "height", "tokens"),
    [
        # OpenAI's own examples: 1024x1024 -> 768x768, 4 tiles; 2048x4096 -> 768x1536, 6 tiles.
        ("gpt-4o", 1024, 1024, 85 + 170 * 4),
        ("gpt-4o", 2048, 4096, 85 + 170 * 6),
        ("gpt-4.1", 4096, 8192, 85 + 170 * 6),
        ("o3", 500, 300, 85 + 170 * 1),
        ("gpt-4o-2024-08-06", 800, 600, 85 + 170 * 4),
        ("openai/gpt-4o", 512, 512, 85 + 170 * 1),
        ("gpt-4o-mini", 1024, 1024, 2833 + 5667 * 4),
    ],
)
def test_images_follow_openais_tile_rule(model, width, height, tokens):
    assert image_tokens(width, height, model) == (tokens, False)


def test_low_detail_is_the_base_cost_alone():
    assert image_tokens(4000, 3000, "gpt-4o", "low") == (85, False)
    assert image_tokens(4000, 3000, "gpt-4o-mini", "low") == (2833, False)


@pytest.mark.parametrize("model", ["llava:13b", "gpt-4.1-mini", "o4-mini", "qwen2.5-vl"])
def test_models_without_a_published_tile_rule_are_marked_approximate(counter, model):
    count = counter.attachment_tokens(image_file(1024, 1024), model)
    assert count == TokenCount(765, True)


def test_a_draft_counts_its_attachments_and_the_prompt_counts_them_once_sent(counter):
    notes = text_file("Remember the milk.\n")
    shot = image_file(1024, 1024)
    draft = counter.count_draft("gpt-4o", "Look:", [notes, shot])
    alone = counter.count_draft("gpt-4o", "Look:")
    files = counter.attachment_tokens(notes, "gpt-4o").tokens + 765
    assert draft.tokens == alone.tokens + files
    assert draft.text_tokens == alone.text_tokens
    history = [Message("user", "hi"), Message("assistant", "hello")]
    before = counter.count_messages("gpt-4o", "", history).tokens
    sent = Message("user", "Look:", attachments=[notes, shot])
    after = counter.count_messages("gpt-4o", "", [*history, sent])
    assert after.tokens - before == draft.tokens
    assert not after.approximate
    assert counter.count_messages("llava", "", [sent]).approximate

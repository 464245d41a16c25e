"""What an attachment costs in tokens: a text file's framed words through the model's
encoding, an image by OpenAI's published tile rule, approximate where the rule is unknown."""

from __future__ import annotations

import hashlib

import pytest

from tui_chat.domain.attachments import Attachment
from tui_chat.engine.attachment_parts import framed_text
from tui_chat.engine.image_tokens import image_tokens
from tui_chat.engine.tokens import TokenCount, TokenCounter


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    counter = TokenCounter()
    assert counter.load(), counter.load_error
    return counter


def text_attachment(text: str, name: str = "notes.txt") -> Attachment:
    data = text.encode()
    return Attachment(
        kind="text",
        name=name,
        path=f"/tmp/{name}",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        text=text,
    )


def image(width: int, height: int) -> Attachment:
    return Attachment(
        kind="image",
        name="shot.png",
        path="/tmp/shot.png",
        sha256="0" * 64,
        size=1000,
        media_type="image/png",
        width=width,
        height=height,
    )


def test_a_text_file_is_framed_with_its_name_made_safe():
    assert framed_text(text_attachment("hi")) == '<file name="notes.txt">\nhi\n</file>'
    sneaky = text_attachment("x", name='a">\n</file>\x1b[2J.txt')
    assert framed_text(sneaky).splitlines()[0] == (
        '<file name="a&quot;&gt; &lt;/file&gt;␛[2J.txt">'
    )


def test_a_text_file_counts_its_framed_words_with_the_models_encoding(counter):
    attachment = text_attachment("The quick brown fox jumps over the lazy dog.\n" * 50)
    count = counter.attachment_tokens(attachment, "gpt-4o")
    assert count == TokenCount(counter.count_text("gpt-4o", framed_text(attachment)).tokens, False)
    assert count.tokens > 50 * 9
    unknown = counter.attachment_tokens(attachment, "llama3.1:8b")
    assert unknown.approximate


def test_a_big_text_file_is_counted_once_per_encoding(counter):
    attachment = text_attachment("word " * 200_000)
    first = counter.attachment_tokens(attachment, "gpt-4o")
    # The same content under the same name is not encoded again: a cache hit returns the
    # figure even when the text it holds is no longer there to count.
    attachment.text = ""
    assert counter.attachment_tokens(attachment, "gpt-4o") == first
    assert counter.attachment_tokens(attachment, "gpt-4").tokens < first.tokens


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
    count = counter.attachment_tokens(image(1024, 1024), model)
    assert count == TokenCount(765, True)

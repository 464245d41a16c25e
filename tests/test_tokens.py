"""Token counts: offline encodings, OpenAI's chat recipe checked against the server's usage,
per-message caching and the incremental count of a streaming reply."""

from __future__ import annotations

import gzip
import hashlib
import os

import pytest
from fresh_python import fresh_python_output
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_server import Script

from tui_chat.domain.conversation import Message
from tui_chat.engine.encodings import (
    EncodingLoadError,
    encoding_name_for,
    load_bpe_offline,
    load_encoding,
)
from tui_chat.engine.events import UsageReport
from tui_chat.engine.tokens import TokenCounter

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    counter = TokenCounter()
    assert counter.load(), counter.load_error
    return counter


def test_encodings_load_offline_with_an_empty_tiktoken_cache(tmp_path):
    # A fresh process, tiktoken's cache pointed at an empty folder and no proxy to the
    # internet: the bundled files must be enough.
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9"}
    code = (
        "from tui_chat.engine.tokens import TokenCounter; c = TokenCounter(); "
        "print(c.load(), c.load_error, c.count_text('gpt-4o', 'hello world').tokens, "
        "c.count_text('gpt-4', 'hello world').tokens)"
    )
    assert fresh_python_output(code, env).split() == ["True", "None", "2", "2"]
    assert list(tmp_path.iterdir()) == []  # nothing was written to (or downloaded into) it


def test_loaded_encodings_give_tiktokens_published_token_ids():
    assert load_encoding("o200k_base").encode_ordinary("hello world") == [24912, 2375]
    assert load_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]


def test_a_valid_tiktoken_cache_file_is_used(tmp_path, monkeypatch):
    # A cache file that is valid but for a different URL's name never matches; here we put the
    # real file under the right name and check it is read (by making the bundled copy moot).
    from tui_chat.engine.encodings import _bundled_bpe_path

    data = gzip.decompress(_bundled_bpe_path("o200k_base.tiktoken").read_bytes())
    (tmp_path / hashlib.sha1(O200K_URL.encode()).hexdigest()).write_bytes(data)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    ranks = load_bpe_offline(O200K_URL, O200K_SHA256)

    assert len(ranks) == 199998


def test_a_corrupt_tiktoken_cache_file_is_ignored_for_the_bundled_copy(tmp_path, monkeypatch):
    (tmp_path / hashlib.sha1(O200K_URL.encode()).hexdigest()).write_bytes(b"garbage 1\n")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    ranks = load_bpe_offline(O200K_URL, O200K_SHA256)

    assert len(ranks) == 199998


def test_a_checksum_mismatch_is_refused():
    with pytest.raises(EncodingLoadError, match="checksum"):
        load_bpe_offline(O200K_URL, "0" * 64)


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o1", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("openai/gpt-4", "cl100k_base"),
        ("llama3.1:8b", "o200k_base"),
    ],
)
def test_each_model_family_is_counted_with_its_encoding(model, encoding):
    assert encoding_name_for(model) == encoding


def test_unknown_models_are_counted_but_marked_approximate(counter):
    assert counter.count_text("llama3.1:8b", "hello world").approximate
    assert not counter.count_text("gpt-4o-mini", "hello world").approximate


def test_before_loading_counts_are_rough_estimates():
    fresh = TokenCounter()

    count = fresh.count_text("gpt-4o", "x" * 40)

    assert not fresh.ready
    assert count.approximate
    assert count.tokens == 10


def test_special_token_text_is_counted_as_ordinary_text(counter):
    count = counter.count_text("gpt-4o", "a <|endoftext|> b")

    assert count.tokens > 3  # tiktoken's encode() would raise; the marker is plain text here


def conversation_messages() -> list[Message]:
    return [
        Message(role="user", content="What is the capital of France?"),
        Message(role="assistant", content="Paris.", finish_reason="stop"),
        Message(role="user", content="And of Italy? Answer with a **table**:\n| a | b |"),
        Message(role="assistant", content="", finish_reason="error", error="Cannot reach."),
        Message(role="user", content="Unicode: café, 日本語, emoji 🎉, <|endoftext|>"),
    ]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4", "gpt-3.5-turbo", "llama3.1:8b"])
async def test_prompt_estimate_equals_the_usage_the_server_reports(chat, counter, model):
    conversation = chat.conversation(system="You are terse.", model=model)
    conversation.messages = conversation_messages()

    estimate = counter.count_messages(model, conversation.system, conversation.messages)
    events = await chat.events(conversation)

    usage = next(e for e in events if isinstance(e, UsageReport)).usage
    assert estimate.tokens == usage.prompt_tokens
    assert estimate.approximate is (model == "llama3.1:8b")


async def test_reply_count_equals_the_completion_tokens_the_server_reports(
    chat, openai_server, counter
):
    reply = "Here is a list:\n\n- one\n- two\n\n```python\nprint('hi')\n```\n" * 5
    openai_server.enqueue(Script(text=reply, chunk_chars=3))

    events = await chat.events()

    usage = next(e for e in events if isinstance(e, UsageReport)).usage
    streaming = counter.streaming("gpt-4o-mini")
    for piece in (reply[i : i + 3] for i in range(0, len(reply), 3)):
        streaming.feed(piece)
    assert streaming.tokens == usage.completion_tokens
    assert counter.count_text("gpt-4o-mini", reply).tokens == usage.completion_tokens


def test_recounting_a_long_conversation_reuses_each_messages_count(counter):
    messages = [Message(role="user", content=f"message number {i} " * 20) for i in range(2000)]
    first = counter.count_messages("gpt-4o", "", messages)
    cached_entries = len(counter._cache)

    # A role the 2,000 messages already have: whether "assistant" was encoded before depends
    # on which tests ran earlier in this process.
    messages.append(Message(role="user", content="one more"))
    second = counter.count_messages("gpt-4o", "", messages)

    assert second.tokens == first.tokens + 3 + 1 + counter.count_text("gpt-4o", "one more").tokens
    # Only the new message's text was encoded (its role is already known).
    assert len(counter._cache) == cached_entries + 1


def test_dropping_the_oldest_messages_frees_the_tokens_asked_for(counter):
    messages = [Message(role="user", content=f"question {i} " * 50) for i in range(10)]
    full = counter.count_messages("gpt-4o", "", messages).tokens

    drop = counter.oldest_messages_to_drop("gpt-4o", messages, 250)

    assert counter.count_messages("gpt-4o", "", messages[drop:]).tokens <= full - 250
    assert counter.count_messages("gpt-4o", "", messages[drop - 1 :]).tokens > full - 250
    assert counter.oldest_messages_to_drop("gpt-4o", messages, 10**9) == 9  # keeps the last


def test_a_draft_adds_exactly_what_sending_it_adds(counter):
    history = [Message(role="user", content="hi"), Message(role="assistant", content="Hello!")]
    draft = "What about **tomorrow**?"

    before = counter.count_messages("gpt-4o", "sys", history).tokens
    after = counter.count_messages(
        "gpt-4o", "sys", [*history, Message(role="user", content=draft)]
    ).tokens

    assert counter.count_draft("gpt-4o", draft).tokens == after - before


def test_system_prompt_is_counted_as_a_message(counter):
    messages = [Message(role="user", content="hi")]
    without = counter.count_messages("gpt-4o", "", messages)
    with_system = counter.count_messages("gpt-4o", "Be brief.", messages)

    assert with_system.tokens - without.tokens == 3 + 1 + 3  # overhead, "system", "Be brief."


# Fragments whose runs stress tiktoken's piece splitting: whitespace runs before words,
# punctuation runs, contractions, CRLF, non-breaking and zero-width spaces, multi-byte text.
FRAGMENTS = [
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "a",
    "B",
    "word",
    "Word",
    "1",
    "123456",
    ".",
    "...",
    "!?",
    "'s",
    "'",
    "é",
    "日本",
    "🎉",
    "\r\n",
    "-",
    "|",
    "`",
    "```",
    " \n",
    "/",
    "\u00a0",
    "\u200b",
]
runs = st.tuples(st.sampled_from(FRAGMENTS), st.integers(min_value=1, max_value=60)).map(
    lambda pair: pair[0] * pair[1]
)
texts = st.lists(
    st.sampled_from(FRAGMENTS) | runs | st.text(max_size=5), min_size=50, max_size=250
).map("".join)


@settings(max_examples=120, deadline=None)
@given(
    text=texts,
    model=st.sampled_from(["gpt-4o", "gpt-4"]),
    cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=60),
)
def test_streaming_count_matches_a_full_count_at_every_step(counter, text, model, cuts):
    encoding, _ = counter.encoding(model)
    streaming = counter.streaming(model)
    position = 0
    index = 0
    while position < len(text):
        size = cuts[index % len(cuts)]
        index += 1
        streaming.feed(text[position : position + size])
        position += size
        assert streaming.tokens == len(encoding.encode_ordinary(text[:position]))
    assert streaming.finish() == len(encoding.encode_ordinary(text))


def test_streaming_count_of_a_long_markdown_reply_is_exact_at_every_delta(counter):
    from openai_server import long_markdown_reply

    encoding = counter._encodings["cl100k_base"]
    text = long_markdown_reply(3000, encoding)
    streaming = counter.streaming("gpt-4")
    for start in range(0, len(text), 7):
        streaming.feed(text[start : start + 7])
        if start % 700 == 0:
            assert streaming.tokens == len(encoding.encode_ordinary(text[: start + 7]))
    assert streaming.tokens == len(encoding.encode_ordinary(text))
    assert streaming.finish() == counter.count_text("gpt-4", text).tokens


def test_before_the_encodings_load_a_streamed_count_is_the_estimate_of_the_text_so_far():
    unloaded = TokenCounter()  # tiktoken not ready yet (or its files could not be fetched)
    streaming = unloaded.streaming("gpt-4o-mini")
    pieces = [f"w{i} " for i in range(5000)]
    for number, piece in enumerate(pieces, 1):
        streaming.feed(piece)
        if number % 500 == 0:
            so_far = "".join(pieces[:number])
            assert streaming.tokens == unloaded.count_text("gpt-4o-mini", so_far).tokens
    text = "".join(pieces)
    assert streaming.approximate
    assert streaming.text == text
    assert streaming.finish() == unloaded.count_text("gpt-4o-mini", text).tokens


def test_one_model_s_encoding_can_load_before_the_rest():
    counter = TokenCounter()
    assert counter.load_for("gpt-4o-mini")  # o200k_base
    assert not counter.ready  # cl100k_base not yet
    exact = counter.count_text("gpt-4o-mini", "hello world")
    assert (exact.tokens, exact.approximate) == (2, False)
    assert counter.count_text("gpt-4", "hello world").approximate  # its encoding is not loaded
    assert counter.load() and counter.ready
    assert not counter.count_text("gpt-4", "hello world").approximate


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])  # o200k_base and cl100k_base
def test_a_long_text_counted_in_parts_gives_tiktokens_whole_count(counter, model):
    """Long texts (an attached log) are encoded in parts so typing goes on meanwhile: the parts
    are cut where tiktoken's own split ends a piece, so the total is the same to the token."""
    import random

    encoding, _ = counter.encoding(model)
    rng = random.Random(7)
    words = ["héllo", "Über", "  ", "\n", "\n\n", " \n", "123", "x=1;", "'s", "日本語", "тест"]
    words += ["\t", "é", "a", "½", "_id", "\r\n", "-->", "é"]
    mixed = "".join(rng.choice(words) for _ in range(60_000))
    code = "\n".join(f"def f{i}(x):\n    return x * {i}  # ñ" for i in range(8_000))
    for text in (mixed, code):
        assert len(text) > 100_000
        assert counter.count_text(model, text).tokens == len(encoding.encode_ordinary(text))

"""Conversation files round-trip any text exactly and read well in a diff."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from older_version import resave_with_older_version

from tui_chat.domain.attachments import IMAGE_MEDIA_TYPES, Attachment
from tui_chat.domain.conversation import Conversation, Message, Usage
from tui_chat.storage.errors import ConversationFileError
from tui_chat.storage.toml_format import (
    ATTACHMENT_KEYS,
    CONVERSATION_KEYS,
    MESSAGE_KEYS,
    USAGE_KEYS,
)
from tui_chat.storage.toml_read import conversation_from_toml
from tui_chat.storage.toml_write import conversation_to_toml

PATH = Path("/data/conversations/20261124-013000-a1b2.toml")

# Text people and models actually produce, plus the characters that break naive writers.
nasty = st.sampled_from(
    [
        '"""',
        "'''",
        '"',
        "'",
        "\\",
        "\\n",
        "\r\n",
        "\r",
        "\n",
        "\t",
        "\x00",
        "\x7f",
        "\x1b[31m",
        "\u2028",
        "🦀",
        "日本語",
        "\ufeff",
        " ",
        "]]",
        "[[messages]]",
        "content = ",
    ]
)
any_text = st.lists(st.one_of(st.text(), nasty), max_size=8).map("".join)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
plain_keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
extra_values = st.one_of(
    any_text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(any_text, max_size=3),
    st.dictionaries(plain_keys, any_text, max_size=3),
)


@st.composite
def attachments_drawn(draw: st.DrawFn) -> Attachment:
    kind = draw(st.sampled_from(["text", "image"]))
    image = kind == "image"
    return Attachment(
        kind=kind,
        name=draw(any_text),
        path=draw(any_text),
        sha256=draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
        size=draw(st.integers(0, 2**40)),
        text="" if image else draw(any_text),
        encoding=None if image else draw(st.none() | st.sampled_from(["cp1252", "utf-16"])),
        media_type=draw(st.sampled_from(list(IMAGE_MEDIA_TYPES.values()))) if image else None,
        width=draw(st.integers(1, 10**5)) if image else None,
        height=draw(st.integers(1, 10**5)) if image else None,
        extra=draw(
            st.dictionaries(
                plain_keys.filter(lambda k: k not in ATTACHMENT_KEYS), extra_values, max_size=2
            )
        ),
    )


@st.composite
def messages(draw: st.DrawFn) -> Message:
    role = draw(st.sampled_from(["user", "assistant", "system"]))
    usage = draw(
        st.none()
        | st.builds(
            Usage,
            prompt_tokens=st.integers(0, 10**7),
            completion_tokens=st.integers(0, 10**7),
            cached_tokens=st.integers(0, 10**6),
            reasoning_tokens=st.integers(0, 10**6),
            estimated=st.booleans(),
            extra=st.dictionaries(
                plain_keys.filter(lambda k: k not in USAGE_KEYS), extra_values, max_size=2
            ),
        )
    )
    thinking = draw(st.just("") | any_text.filter(bool))
    attachments = draw(st.lists(attachments_drawn(), max_size=2))
    return Message(
        role=role,
        content=draw(any_text),
        thinking=thinking,
        thinking_seconds=draw(st.none() | st.floats(0, 1e5)) if thinking else None,
        thinking_tokens=draw(st.none() | st.integers(0, 10**6)) if thinking else None,
        created=draw(moments),
        model=draw(st.none() | any_text),
        finish_reason=draw(st.none() | st.sampled_from(["stop", "length", "interrupted"])),
        cost_usd=draw(st.none() | st.floats(min_value=0, max_value=1e6)),
        usage=usage,
        error=draw(st.none() | any_text),
        attachments=attachments,
        extra=draw(
            st.dictionaries(
                plain_keys.filter(lambda k: k not in MESSAGE_KEYS),
                extra_values,
                max_size=2,
            )
        ),
    )


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    return Conversation(
        id=PATH.stem,
        title=draw(any_text),
        created=draw(moments),
        updated=draw(moments),
        profile=draw(any_text),
        model=draw(any_text),
        system=draw(any_text),
        pinned=draw(st.booleans()),
        tags=draw(st.lists(any_text, max_size=3)),
        messages=draw(st.lists(messages(), max_size=4)),
        extra=draw(
            st.dictionaries(
                plain_keys.filter(lambda k: k not in CONVERSATION_KEYS),
                extra_values,
                max_size=3,
            )
        ),
    )


@settings(max_examples=200, deadline=None)
@given(conversations())
def test_any_conversation_round_trips_exactly(conv: Conversation) -> None:
    text = conversation_to_toml(conv)
    assert conversation_from_toml(text, PATH) == conv
    # The file is valid UTF-8 TOML on its own, as any other tool would read it.
    tomllib.loads(text.encode("utf-8").decode("utf-8"))


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_any_message_text_round_trips(text: str) -> None:
    conv = Conversation(id=PATH.stem, system=text, title=text)
    conv.messages.append(Message("user", text))
    back = conversation_from_toml(conversation_to_toml(conv), PATH)
    assert back.messages[0].content == text
    assert back.system == text
    assert back.title == text


def test_lone_surrogates_are_saved_as_replacement_character() -> None:
    conv = Conversation(id=PATH.stem, title="bad \ud800 title")
    conv.messages.append(Message("user", "half a pair: \udc00!"))
    text = conversation_to_toml(conv)
    text.encode("utf-8")  # would raise on a surrogate
    back = conversation_from_toml(text, PATH)
    assert back.title == "bad \ufffd title"
    assert back.messages[0].content == "half a pair: \ufffd!"


def test_file_reads_like_the_documented_example() -> None:
    moment = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    conv = Conversation(
        id="20261124-013000-a1b2",
        title="Fibonacci in Python",
        created=moment,
        updated=moment + timedelta(seconds=65),
        system="You are a helpful assistant.",
        tags=["python"],
    )
    conv.messages.append(Message("user", "Write fib in Python.", created=moment))
    conv.messages.append(
        Message(
            "assistant",
            'def fib(n):\n    """Fibonacci."""\n'
            "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
            created=moment + timedelta(seconds=4),
            model="gpt-4o-mini",
            finish_reason="stop",
            cost_usd=0.0000277,
            usage=Usage(prompt_tokens=25, completion_tokens=40),
        )
    )
    text = conversation_to_toml(conv)
    assert text.startswith(
        'schema = 1\nid = "20261124-013000-a1b2"\ntitle = "Fibonacci in Python"\n'
        "created = 2026-11-24 01:30:00+00:00\nupdated = 2026-11-24 01:31:05+00:00\n"
        'profile = "openai"\nmodel = "gpt-4o-mini"\n'
    )
    # Code stays as written: each line of the reply is a line of the file, quotes unescaped.
    assert "\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n" in text
    assert '    """Fibonacci."""\n' in text
    assert "cost_usd = 0.0000277\n" in text
    assert "\n[messages.usage]\nprompt_tokens = 25\ncompletion_tokens = 40\n" in text
    keys = [line.split(" =")[0] for line in text.splitlines() if " = " in line]
    assert keys[:10] == [
        "schema",
        "id",
        "title",
        "created",
        "updated",
        "profile",
        "model",
        "system",
        "pinned",
        "tags",
    ]


def test_one_changed_line_changes_one_line_of_the_file() -> None:
    conv = Conversation(id=PATH.stem)
    conv.messages.append(Message("assistant", "\n".join(f"line {n}" for n in range(50))))
    before = conversation_to_toml(conv).splitlines()
    conv.messages[0].content = conv.messages[0].content.replace("line 25", "line twenty-five")
    after = conversation_to_toml(conv).splitlines()
    assert len(before) == len(after)
    assert [a for a, b in zip(before, after, strict=True) if a != b] == ["line 25"]


def test_crlf_text_round_trips_although_tomllib_normalises_newlines() -> None:
    conv = Conversation(id=PATH.stem)
    conv.messages.append(Message("user", "windows\r\nline\r\nend\r\n"))
    back = conversation_from_toml(conversation_to_toml(conv), PATH)
    assert back.messages[0].content == "windows\r\nline\r\nend\r\n"


def test_unknown_keys_survive_a_save() -> None:
    text = (
        'schema = 1\nid = "x"\ntitle = "t"\ncreated = 2026-01-01 00:00:00+00:00\n'
        'updated = 2026-01-01 00:00:00+00:00\nfolder = "work"\n\n[sync]\ndevice = "laptop"\n\n'
        '[[messages]]\nrole = "user"\ncontent = "hi"\ncreated = 2026-01-01 00:00:00+00:00\n'
        "rating = 5\n\n[messages.usage]\nprompt_tokens = 3\ncompletion_tokens = 0\n"
        "audio_tokens = 7\n\n[messages.usage.details]\nimages = 1\n\n"
        '[[messages.reactions]]\nemoji = "+1"\n'
    )
    conv = conversation_from_toml(text, PATH)
    assert conv.extra == {"folder": "work", "sync": {"device": "laptop"}}
    assert conv.messages[0].extra == {"rating": 5, "reactions": [{"emoji": "+1"}]}
    again = tomllib.loads(conversation_to_toml(conv))
    assert again["folder"] == "work"
    assert again["sync"] == {"device": "laptop"}
    assert again["messages"][0]["rating"] == 5
    assert again["messages"][0]["reactions"] == [{"emoji": "+1"}]
    assert again["messages"][0]["usage"] == {
        "prompt_tokens": 3,
        "completion_tokens": 0,
        "audio_tokens": 7,
        "details": {"images": 1},
    }


def test_other_offsets_and_local_times_are_read() -> None:
    text = (
        "schema = 1\ncreated = 2026-01-01 09:00:00+09:00\nupdated = 2026-01-01 00:00:00\n"
        '[[messages]]\nrole = "user"\ncontent = "hi"\n'
    )
    conv = conversation_from_toml(text, PATH)
    assert conv.created == datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    assert conv.updated == datetime(2026, 1, 1, tzinfo=UTC)
    assert conv.messages[0].created == conv.created  # missing: the conversation's start
    assert conv.id == PATH.stem  # the file name decides the id


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('schema = 1\ntitle = "unclosed\n', 2, "not valid TOML"),
        ("schema = 2\n", 1, "schema 2"),
        ('title = "no schema"\n', None, "schema = 1"),
        ('schema = 1\npinned = "yes"\n', 2, "'pinned' should be true or false"),
        ('schema = 1\ncreated = "yesterday"\n', 2, "'created' should be a date"),
        (
            'schema = 1\n\n[[messages]]\nrole = "user"\ncontent = "a"\n\n'
            '[[messages]]\nrole = "robot"\ncontent = "b"\n',
            8,
            "message 2 has role 'robot'",
        ),
        ('schema = 1\n[[messages]]\nrole = "user"\ncontent = 5\n', 4, "'content' should be"),
        ('schema = 1\n[[messages]]\nrole = "user"\n', 2, "message 1 has no content"),
        (
            'schema = 1\n[[messages]]\nrole = "user"\ncontent = ""\n[messages.usage]\n'
            'prompt_tokens = "many"\n',
            6,
            "'prompt_tokens' should be a whole number",
        ),
    ],
)
def test_broken_files_are_reported_with_file_and_line(
    text: str, line: int | None, words: str
) -> None:
    with pytest.raises(ConversationFileError) as caught:
        conversation_from_toml(text, PATH)
    assert caught.value.line == line
    assert words in caught.value.reason
    message = str(caught.value)
    assert message.startswith(str(PATH) + (f", line {line}" if line else ""))
    assert message.endswith(".")


THOUGHT = "The user wants fib.\nRecursion is the clearest; mention the cost.\n  - n < 2 ends it"


def thinking_reply() -> Conversation:
    conv = Conversation(id=PATH.stem)
    conv.messages.append(Message("user", "Write fib."))
    conv.messages.append(
        Message(
            "assistant",
            "Here it is.",
            finish_reason="stop",
            thinking=THOUGHT,
            thinking_seconds=12.4,
            thinking_tokens=840,
            usage=Usage(prompt_tokens=20, completion_tokens=860, reasoning_tokens=840),
        )
    )
    return conv


def test_thinking_is_saved_as_its_own_readable_key_with_its_figures() -> None:
    text = conversation_to_toml(thinking_reply())

    # One line of thought per line of the file, after the answer, as a person would read it.
    assert "thinking = '''\n" + THOUGHT + "'''\nthinking_seconds = 12.4\n" in text
    assert "thinking_tokens = 840\n" in text
    assert text.index("content = ") < text.index("thinking = ")
    back = conversation_from_toml(text, PATH).messages[1]
    assert (back.thinking, back.thinking_seconds, back.thinking_tokens) == (THOUGHT, 12.4, 840)


def test_a_file_from_before_thinking_loads_and_saves_unchanged() -> None:
    conv = thinking_reply()
    for message in conv.messages:
        message.thinking, message.thinking_seconds, message.thinking_tokens = "", None, None
    old_file = conversation_to_toml(conv)
    assert "thinking" not in old_file

    loaded = conversation_from_toml(old_file, PATH)

    assert loaded.messages[1].thinking == ""
    assert conversation_to_toml(loaded) == old_file


# The last tui-chat before thinking was saved (its reader does not know the keys).
BEFORE_THINKING = "6515d06d82529dcf18a80d63080f3edc17765bcd"


def test_a_tui_chat_from_before_thinking_keeps_the_thinking_when_it_saves(tmp_path: Path) -> None:
    file = tmp_path / f"{PATH.stem}.toml"
    file.write_text(conversation_to_toml(thinking_reply()), encoding="utf-8")
    resave_with_older_version(BEFORE_THINKING, file, tmp_path, "thinking")

    back = conversation_from_toml(file.read_text(encoding="utf-8"), file)
    assert back.title == "renamed by the older version"
    reply = back.messages[1]
    assert (reply.thinking, reply.thinking_seconds, reply.thinking_tokens) == (THOUGHT, 12.4, 840)
    assert "thinking = '''\n" + THOUGHT in file.read_text(encoding="utf-8")  # still readable

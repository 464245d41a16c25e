"""Generated data for the benchmarks: data folders of many small conversations, one big
conversation, and a config file pointing at a test server.

Files are written with the store's own TOML writer, so they are exactly what the app saves.
Their modification times are set into the past, as a real history's are: the index cache
re-reads any file changed within the last two seconds (it cannot trust a fresh mtime), so files
written a moment ago would make every "warm" start pay a full re-parse.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from openai_server import long_markdown_reply  # noqa: E402  (tests/ is not a package)

from tui_chat.domain.conversation import Conversation, Message, Usage  # noqa: E402
from tui_chat.storage.toml_write import conversation_to_toml  # noqa: E402

MODEL = "gpt-4o-mini"
KEY_ENV = "TUI_CHAT_BENCH_KEY"
KEY = "sk-bench-not-a-real-key"
END_MARK = "That is the end of this conversation."
BIG_ID = "20250101-000000-b1g0"
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def write_config(folder: Path, base_url: str) -> dict[str, str]:
    """A config.toml with one profile at `base_url`; returns the environment the app needs."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(
        'default_profile = "bench"\n'
        'theme = "tui-chat-dark"\n\n'
        "[profiles.bench]\n"
        f'base_url = "{base_url}"\n'
        f'api_key_env = "{KEY_ENV}"\n'
        f'default_model = "{MODEL}"\n',
        encoding="utf-8",
    )
    return {"TUI_CHAT_CONFIG": str(config), KEY_ENV: KEY}


def _write(folder: Path, conversation: Conversation, age_seconds: float) -> Path:
    path = folder / f"{conversation.id}.toml"
    path.write_text(conversation_to_toml(conversation), encoding="utf-8")
    moment = datetime.now(UTC).timestamp() - age_seconds
    os.utime(path, (moment, moment))
    return path


def small_conversations(
    data_dir: Path, count: int, seed: int = 7, start: datetime = _EPOCH
) -> None:
    """`count` short conversations (2-6 messages each) in `data_dir`/conversations, updated
    7 minutes apart from `start`."""
    folder = data_dir / "conversations"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(count):
        moment = start + timedelta(minutes=7 * i)
        conversation = Conversation(
            id=f"{moment:%Y%m%d-%H%M%S}-{i % 65536:04x}",
            title=f"Question {i} about {rng.choice(['rust', 'sql', 'textual', 'ssh', 'git'])}",
            created=moment,
            updated=moment,
            profile="bench",
            model=MODEL,
        )
        for turn in range(rng.randint(1, 3)):
            conversation.messages.append(
                Message("user", f"How do I do thing {i}.{turn}?", created=moment)
            )
            conversation.messages.append(
                Message(
                    "assistant",
                    f"Like this, for case {i}.{turn}:\n\n```python\nprint({i})\n```\n",
                    created=moment,
                    model=MODEL,
                    finish_reason="stop",
                    usage=Usage(prompt_tokens=20, completion_tokens=18),
                    cost_usd=0.00001,
                )
            )
        _write(folder, conversation, age_seconds=3600 + (count - i) * 60)


def big_conversation(data_dir: Path, messages: int, encoding: object) -> int:
    """One conversation of `messages` messages (questions and Markdown answers of ~250 tokens,
    about 300,000 tokens for 2,000 messages), the newest in `data_dir`. Returns its tokens."""
    folder = data_dir / "conversations"
    folder.mkdir(parents=True, exist_ok=True)
    conversation = Conversation(
        id=BIG_ID,
        title="A very long conversation",
        created=_EPOCH,
        updated=_EPOCH + timedelta(days=300),
        profile="bench",
        model=MODEL,
        system="You are a helpful assistant.",
    )
    # A few distinct answer lengths; each answer starts with its own number so none repeats.
    bodies = [long_markdown_reply(215 + 20 * k, encoding) for k in range(6)]
    tokens = 0
    for i in range(messages - 1):
        moment = _EPOCH + timedelta(minutes=i)
        if i % 2 == 0:
            text = f"Question {i}: how would you explain part {i} of this, with an example?"
            conversation.messages.append(Message("user", text, created=moment))
        else:
            text = f"Answer {i}.\n\n" + bodies[i % len(bodies)]
            conversation.messages.append(
                Message(
                    "assistant",
                    text,
                    created=moment,
                    model=MODEL,
                    finish_reason="stop",
                    usage=Usage(prompt_tokens=tokens, completion_tokens=250),
                    cost_usd=0.0001,
                )
            )
        tokens += len(encoding.encode_ordinary(text))  # type: ignore[attr-defined]
    conversation.messages.append(
        Message("assistant", END_MARK, created=_EPOCH, model=MODEL, finish_reason="stop")
    )
    _write(folder, conversation, age_seconds=60)
    # A newer, small conversation: the app opens it at start, and the big one when asked.
    small_conversations(data_dir, 1, start=_EPOCH + timedelta(days=400))
    return tokens

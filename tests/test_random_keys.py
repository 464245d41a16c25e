"""Random keys through the real app: a short seeded run in the suite (the long one is
`python benchmarks/random_keys.py --events 20000`). The promises checked after every event are
listed in tests/random_keys.py. Replay a failure with the environment variables it prints.

Searches are played too (Enter in the filter box): before issue 12's defect 1 was fixed, this
seed ended at event 193 with the search's DuplicateID crash.
"""

from __future__ import annotations

import json
import os
import random
import urllib.request
from pathlib import Path

import pytest
from app_harness import FAKE_API_KEY, data_paths
from openai_server import FakeOpenAIServer
from random_keys import (
    ALL_KEYS,
    EVENTS_ENV,
    SEED_ENV,
    PromiseBroken,
    Promises,
    plant_conversations,
    run_random_keys,
)

SEED = 12
EVENTS = 400
SEARCHES = True


@pytest.mark.slow
async def test_random_keys_keep_every_promise(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed = int(os.environ.get(SEED_ENV, SEED))
    count = int(os.environ.get(EVENTS_ENV, EVENTS))
    run = await run_random_keys(
        tmp_path, openai_server, seed=seed, events_wanted=count, keys=ALL_KEYS, searches=SEARCHES
    )
    assert len(run.events) >= count
    # Each promise was put to the test: messages were sent, the highlight was checked.
    assert run.sent > 0 and run.highlights > 0


def ask(server: FakeOpenAIServer, messages: list[dict[str, str]]) -> None:
    """One chat request to the test server, as if the app had sent `messages`."""
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps({"model": "gpt-4o-mini", "messages": messages}).encode(),
        headers={"Authorization": f"Bearer {FAKE_API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def test_the_promises_catch_a_lost_message_and_a_broken_file(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """The checks themselves can fail: a request that no file holds, a file that does not parse."""
    plant_conversations(tmp_path, 2, random.Random(1))
    promises = Promises(tmp_path, openai_server)
    files = promises.files()
    (first, *_) = [messages for messages in files.values() if len(messages) >= 2]
    kept = [{"role": role, "content": content} for role, content in first[:1]]
    ask(openai_server, kept)
    assert promises.check_requests(files) == 1  # the start of a file: kept
    ask(openai_server, [*kept, {"role": "user", "content": "never saved"}])
    with pytest.raises(PromiseBroken, match="never saved"):
        promises.check_requests(files)
    (data_paths(tmp_path).conversations_dir / "torn.toml").write_text("title = ", encoding="utf-8")
    with pytest.raises(PromiseBroken, match=r"torn\.toml does not parse"):
        promises.files()

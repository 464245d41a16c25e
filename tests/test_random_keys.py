"""Random keys through the real app: a short seeded run in the suite (the long one is
`python benchmarks/random_keys.py --events 20000`). The promises checked after every event are
listed in tests/random_keys.py. Replay a failure with the environment variables it prints."""

from __future__ import annotations

import os
from pathlib import Path

from openai_server import FakeOpenAIServer
from random_keys import ALL_KEYS, EVENTS_ENV, SEED_ENV, run_random_keys

SEED = 12
EVENTS = 1500


async def test_random_keys_keep_every_promise(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed = int(os.environ.get(SEED_ENV, SEED))
    count = int(os.environ.get(EVENTS_ENV, EVENTS))
    run = await run_random_keys(
        tmp_path, openai_server, seed=seed, events_wanted=count, keys=ALL_KEYS, searches=False
    )
    assert len(run.events) >= count
    assert run.sent > 0  # the run sent messages, so the file promise was tested

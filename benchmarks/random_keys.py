"""The long random-keys run: thousands of seeded key events, text and pastes through the real
app (Pilot, headless) against the test server, every promise checked after every event (see
tests/random_keys.py; the suite runs a short version).

Usage: python benchmarks/random_keys.py [--events N] [--seed S] [--no-searches]
A failure prints the seed, the last events and the environment variables that replay it in
tests/test_random_keys.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from openai_server import FakeOpenAIServer  # noqa: E402  (tests/ is not a package)
from random_keys import ALL_KEYS, SEARCH, PromiseBroken, Run, run_random_keys  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument(
        "--no-searches", action="store_true", help="Enter in the list's filter box becomes Esc"
    )
    args = parser.parse_args()
    began = time.monotonic()

    def progress(events: int, run: Run) -> None:
        elapsed = time.monotonic() - began
        print(f"  {events:,} events, {run.sent} messages sent, {elapsed:.0f} s", flush=True)

    print(f"seed {args.seed}, {args.events:,} events", flush=True)
    server = FakeOpenAIServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="tui-chat-random-keys-") as folder:
            run = asyncio.run(
                run_random_keys(
                    Path(folder),
                    server,
                    seed=args.seed,
                    events_wanted=args.events,
                    keys=ALL_KEYS,
                    searches=not args.no_searches,
                    progress=progress,
                )
            )
    except PromiseBroken as broken:
        print(f"FAILED: {broken}", file=sys.stderr)
        return 1
    except Exception as error:  # the app's own crash, re-raised by run_test after the report
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    searches = run.events.count(SEARCH)
    print(
        f"passed: {len(run.events):,} events, {run.sent} messages sent, {searches} searches,"
        f" the highlight checked after {run.highlights:,}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

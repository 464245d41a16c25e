"""Attaching files in the real app, headless: how long a 1 MB text file takes to be read, counted
and shown, whether typing stays responsive meanwhile, and `@` completion in a folder of 10,000
files.

  python benchmarks/attach_typing.py [--runs N] [--keys N] [--files N]

(--keys: keys typed idle first, the floor the other figures compare with.)

Prints medians (and the keystroke p95) as JSON lines; asserts nothing. Each run attaches a file
of new content (the counter caches counts by content, which would hide the work).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app_driver import FrameMeter  # a sibling script: this folder is sys.path[0]
from textual import events

SIZE = (80, 24)
MEGABYTE = 1_000_000


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def build_app(data: Path) -> Any:
    from tui_chat.config import Config, Profile
    from tui_chat.paths import AppPaths
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.services import Services

    # A key, so the app does not look for local servers; nothing is sent.
    profile = Profile(name="bench", base_url="http://127.0.0.1:9/v1", api_key="sk-bench")
    config = Config(default_profile="bench", theme="tui-chat-dark", profiles={"bench": profile})
    paths = AppPaths(config_file=data / "config.toml", data_dir=data / "data")
    return TuiChatApp(Services.create(paths, config, []))


def log_text(seed: int) -> str:
    """About a megabyte of log lines, different for every seed."""
    rng = random.Random(seed)
    lines = []
    size = 0
    while size < MEGABYTE:
        line = f"2026-12-02T08:{rng.randint(0, 59):02d} worker-{rng.randint(1, 64)} " + " ".join(
            rng.choice(("retry", "timeout", "ok", "GET", "/api/v1/items", "500", "cache miss"))
            for _ in range(8)
        )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)[:MEGABYTE]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.002)


class Typist:
    """Sends keys as the terminal driver would and times each to the frame that shows it."""

    def __init__(self, app: Any, meter: FrameMeter) -> None:
        self.app = app
        self.latencies: list[float] = []
        self._pending: dict[str, Any] = {}
        meter.listeners.append(self._frame)

    def _frame(self, app: Any) -> None:
        pending = self._pending
        if pending and len(pending["area"].text) >= pending["length"]:
            self.latencies.append(time.perf_counter() - pending["t0"])
            pending["done"].set()
            pending.clear()

    async def key(self, area: Any, char: str, *, timed: bool = True) -> None:
        done = asyncio.Event()
        if timed:
            self._pending.update(area=area, length=len(area.text) + 1, done=done)
            self._pending["t0"] = time.perf_counter()
        name = {" ": "space", "@": "at", "/": "slash"}.get(char, char)
        event = events.Key(name, char)
        event.set_sender(self.app)
        self.app._driver.send_message(event)
        if timed:
            await asyncio.wait_for(done.wait(), 10)
        else:
            await asyncio.sleep(0.01)

    async def press(self, name: str) -> None:
        event = events.Key(name, None)
        event.set_sender(self.app)
        self.app._driver.send_message(event)


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tui-chat-attach-bench-") as temp:
        root = Path(temp)
        work = root / "work"
        (work / "many").mkdir(parents=True)
        for run in range(args.runs):
            text = log_text(run)[: args.bytes]
            (work / f"log{run:02d}.txt").write_text(text, encoding="utf-8")
        for index in range(args.files):
            (work / "many" / f"file{index:05d}.txt").write_bytes(b"")
        os.chdir(work)
        meter = FrameMeter().install()
        app = build_app(root)
        async with app.run_test(size=SIZE):
            from tui_chat.ui.screens.chat import ChatScreen

            await until(lambda: isinstance(app.screen, ChatScreen), 30, "the chat screen")
            screen = app.screen
            await until(lambda: app.services.counter.ready, 60, "the encodings")
            composer = screen.composer
            composer.focus()
            typist = Typist(app, meter)
            rng = random.Random(7)
            # The same typing with nothing else going on: the floor on this machine now.
            for _ in range(args.keys):
                await typist.key(composer, rng.choice("abcdefgh "))
                await asyncio.sleep(rng.uniform(0.03, 0.06))
            idle = list(typist.latencies)
            typist.latencies = []
            shown: list[float] = []
            for run in range(args.runs):
                name = f"log{run:02d}.txt"
                for char in f" @{name[:5]}":
                    await typist.key(composer, char, timed=False)
                await until(
                    lambda n=name: screen.path_menu.chosen == n,
                    10,
                    f"{name} listed ({composer.text!r}, {screen.path_menu.entries})",
                )
                before = len(screen.files.waiting)
                typist.latencies, during = [], typist.latencies
                started = time.perf_counter()
                await typist.press("tab")
                # Type on while the file is read and counted, as a user would.
                while len(screen.files.waiting) == before:
                    await typist.key(composer, rng.choice("abcdefgh "))
                    await asyncio.sleep(rng.uniform(0.03, 0.06))
                shown.append(time.perf_counter() - started)
                typist.latencies = during + typist.latencies
            while_counting = list(typist.latencies)
            # @ completion in a folder of many files: each key lists it again, in a thread.
            typist.latencies = []
            listed: list[float] = []
            for char in " @many/file0":
                await typist.key(composer, char)
                await asyncio.sleep(0.05)
            for digit in "12345":
                started = time.perf_counter()
                await typist.key(composer, digit)
                prefix = composer.mention_at_cursor().prefix
                await until(
                    lambda p=prefix: (
                        screen.path_menu.is_open
                        and all(e.startswith(p) for e in screen.path_menu.entries)
                    ),
                    10,
                    "the list",
                )
                listed.append(time.perf_counter() - started)
            while_listing = list(typist.latencies)
            app.exit()
    emit(
        {
            "figure": "keystroke to repaint, nothing else going on",
            "p50_ms": round(statistics.median(idle) * 1000, 1),
            "p95_ms": round(percentile(idle, 0.95) * 1000, 1),
            "keys": len(idle),
        }
    )
    emit(
        {
            "figure": "attach a 1 MB text file: Tab to counted on screen",
            "median_s": round(statistics.median(shown), 3),
            "max_s": round(max(shown), 3),
            "runs": len(shown),
        }
    )
    emit(
        {
            "figure": "keystroke to repaint while a 1 MB file is read and counted",
            "p50_ms": round(statistics.median(while_counting) * 1000, 1),
            "p95_ms": round(percentile(while_counting, 0.95) * 1000, 1),
            "keys": len(while_counting),
        }
    )
    emit(
        {
            "figure": f"@ list of a folder of {args.files:,} files: key to list shown",
            "median_s": round(statistics.median(listed), 3),
            "keystroke_p95_ms": round(percentile(while_listing, 0.95) * 1000, 1),
            "keys": len(while_listing),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--bytes", type=int, default=MEGABYTE)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()

"""tui-chat's performance figures in one table: start-up, streaming cost, terminal bandwidth,
keystroke latency, opening a big conversation, saving, and token counting.

Every figure drives the real app (headless, or the installed `tui-chat` under a pty for bytes on
the wire) on generated data in a temporary folder, against tests/openai_server.py running in its
own process so its CPU is not counted as the app's. Each app run is a fresh process; figures are
medians of several runs, and ratios are taken within one round of runs (the two sides measured
back to back), so a noisy machine moves both sides alike.

Usage: python benchmarks/run.py [--quick] [--only NAME ...] [--markdown FILE]
  --quick   tiny sizes (a smoke run for CI, well under a minute; no figure means anything)
  --only    startup, first, stream, bandwidth, keys, open, save, tokens, session (repeatable)
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datasets  # noqa: E402
import pty_bandwidth  # noqa: E402
from server_process import start_test_server  # noqa: E402

from tui_chat.domain.conversation import Message  # noqa: E402
from tui_chat.engine.encodings import load_encoding  # noqa: E402
from tui_chat.engine.tokens import TokenCounter  # noqa: E402
from tui_chat.paths import AppPaths  # noqa: E402
from tui_chat.storage.store import ConversationStore  # noqa: E402

FIGURES = ("startup", "first", "stream", "bandwidth", "keys", "open", "save", "tokens", "session")


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is: the full run, or the CI smoke run."""

    startup_counts: tuple[int, int, int] = (0, 1000, 10000)
    startup_rounds: int = 5
    # Cold only (a synced folder on a new machine): does the first reading grow linearly?
    startup_cold_large: tuple[int, ...] = (50_000,)
    startup_cold_large_rounds: int = 3
    typing: float = 3.0
    first_runs: int = 5
    reply_tokens: int = 8000
    window: int = 1000
    stream_runs: int = 3
    screens: tuple[tuple[int, int], ...] = ((80, 24), (200, 60))
    paced_tokens: int = 1000
    paced_rate: float = 100.0
    keys_chars: int = 200
    keys_runs: int = 2
    big_messages: int = 2000
    open_runs: int = 3
    saves: int = 20
    count_runs: int = 3
    session_replies: int = 300
    session_every: int = 50
    session_per_conversation: int = 10
    session_reply_tokens: int = 200


FULL = Sizes()
# Each figure's code path once, as few app processes as that takes (each start is ~1 s of CPU):
# one folder size beside the empty one, two windows of two replies with a ctrl+n between.
QUICK = Sizes(
    startup_counts=(0, 200),
    startup_rounds=1,
    startup_cold_large=(),
    typing=0.5,
    first_runs=1,
    reply_tokens=400,
    window=100,
    paced_tokens=100,
    screens=((80, 24),),
    stream_runs=1,
    keys_chars=10,
    keys_runs=1,
    big_messages=60,
    open_runs=1,
    saves=2,
    count_runs=1,
    session_replies=4,
    session_every=2,
    session_per_conversation=2,
    session_reply_tokens=50,
)


@dataclass
class Row:
    """One line of the table."""

    figure: str
    value: str
    target: str = ""
    met: bool | None = None


@dataclass
class Bench:
    """The state of one benchmark run: sizes, the work folder, the server, the rows so far."""

    sizes: Sizes
    work: Path
    rows: list[Row] = field(default_factory=list)
    server: subprocess.Popen[str] | None = None
    base_url: str = "http://127.0.0.1:9/v1"
    env: dict[str, str] = field(default_factory=dict)
    _big: Path | None = None

    def add(self, figure: str, value: str, target: str = "", met: bool | None = None) -> None:
        row = Row(figure, value, target, met)
        self.rows.append(row)
        print(f"  {figure}: {value}" + (f"  (target {target})" if target else ""), flush=True)

    # ------------------------------------------------------------------ infrastructure
    def start_server(self) -> None:
        """The test servers in their own processes: one as fast as it can, one paced."""
        self.server, self.base_url = self._server(self.sizes.reply_tokens, None)
        self.env = datasets.write_config(self.work / "config", self.base_url)

    def _server(self, tokens: int | None, rate: float | None) -> tuple[subprocess.Popen[str], str]:
        """A test server answering with a generated reply of `tokens` tokens (None: its short
        default reply), as fast as it can or at `rate` tokens a second."""
        options: list[str] = []
        if tokens is not None:
            options += ["--reply-tokens", str(tokens)]
        if rate is not None:
            options += ["--tokens-per-second", str(rate)]
        return start_test_server(*options)

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)

    def child(
        self, what: str, data_dir: Path, *options: str, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Run app_driver.py in a fresh process; its result, with `spawned` (wall clock).
        `env` replaces the app's configuration (which server it talks to)."""
        env = {**os.environ, **(env or self.env), "TUI_CHAT_DATA_DIR": str(data_dir)}
        env.pop("TEXTUAL", None)
        command = [sys.executable, str(HERE / "app_driver.py"), what, *options]
        spawned = time.time()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"{what} failed: {done.stderr.strip()[-2000:]}")
        return {**json.loads(done.stdout.strip().splitlines()[-1]), "spawned": spawned}

    def big_folder(self) -> Path:
        """A data folder holding only the big conversation (made once)."""
        if self._big is None:
            self._big = self.work / "big"
            tokens = datasets.big_conversation(
                self._big, self.sizes.big_messages, load_encoding("o200k_base")
            )
            print(f"  (big conversation: {self.sizes.big_messages:,} messages, {tokens:,} tokens)")
        return self._big

    # ------------------------------------------------------------------ figures
    def startup(self) -> None:
        """Process start to the first frame with the list filled, for each folder size, warm
        and cold; and to the first frame with the newest conversation drawn as well."""
        folders = {}
        for count in self.sizes.startup_counts:
            folder = self.work / f"start-{count}"
            datasets.small_conversations(folder, count)
            paths = AppPaths(config_file=self.work / "config" / "config.toml", data_dir=folder)
            ConversationStore(paths).list_entries()  # builds the index cache: a warm start
            folders[count] = folder
        for count in self.sizes.startup_cold_large:
            folders[count] = self.work / f"start-{count}"
            datasets.small_conversations(folders[count], count)
        smallest, largest = self.sizes.startup_counts[0], self.sizes.startup_counts[-1]
        runs: dict[str, list[float]] = {}
        ratio_bare: list[float] = []
        ratio_size: list[float] = []

        def timed(key: str, folder: Path, *options: str) -> float:
            result = self.child("startup", folder, *options)
            seconds = result["ready"] - result["spawned"]
            runs.setdefault(key, []).append(seconds)
            for moment in ("opened", "whole"):
                if moment in result:
                    runs.setdefault(f"{key}-{moment}", []).append(
                        result[moment] - result["spawned"]
                    )
            return seconds

        def cold(n: int) -> None:
            shutil.rmtree(folders[n] / "cache", ignore_errors=True)
            timed(f"cold-{n}", folders[n], "--whole")

        for _ in range(self.sizes.startup_rounds):
            bare = timed("bare", folders[smallest], "--bare")
            warm = {n: timed(f"warm-{n}", folders[n]) for n in self.sizes.startup_counts}
            for n in self.sizes.startup_counts[1:]:
                cold(n)
            ratio_bare.append(warm[smallest] / bare)
            ratio_size.append(warm[largest] / warm[smallest])
        for _ in range(self.sizes.startup_cold_large_rounds):
            for n in self.sizes.startup_cold_large:
                cold(n)
        median = {key: statistics.median(values) for key, values in runs.items()}
        self.add("start-up, bare Textual app (same stock widgets)", f"{median['bare']:.3f} s")
        for n in self.sizes.startup_counts:
            self.add(f"start-up, {n:,} conversations, cache warm", f"{median[f'warm-{n}']:.3f} s")
        for n in (*self.sizes.startup_counts[1:], *self.sizes.startup_cold_large):
            self.add(
                f"start-up, {n:,} conversations, cache cold, newest listed",
                f"{median[f'cold-{n}']:.3f} s",
            )
            self.add(
                f"start-up, {n:,} conversations, cache cold, whole list read",
                f"{median[f'cold-{n}-whole']:.3f} s",
            )
        for n in self.sizes.startup_cold_large:
            r = median[f"cold-{n}-whole"] / median[f"cold-{largest}-whole"]
            limit = n / largest
            self.add(
                f"start-up ratio, {n:,} / {largest:,} cold, whole list read",
                f"{r:.2f}x",
                f"≤ {limit:.0f}x",
                r <= limit,
            )
        self.add(
            f"start-up, {largest:,} conversations warm, newest conversation drawn too",
            f"{median[f'warm-{largest}-opened']:.3f} s",
        )
        r = statistics.median(ratio_bare)
        self.add(
            f"start-up ratio, {smallest} conversations / bare app", f"{r:.2f}x", "≤ 1.5x", r <= 1.5
        )
        r = statistics.median(ratio_size)
        self.add(
            f"start-up ratio, {largest:,} warm / {smallest}", f"{r:.2f}x", "≤ 1.25x", r <= 1.25
        )

    def first(self) -> None:
        """The first message after start: Enter to its first token, after a few seconds of
        typing (long enough for the encodings and openai to load in the background)."""
        # A short reply: generating the long one takes the server ~0.3 s before its first byte.
        server, base_url = self._server(None, None)
        try:
            env = datasets.write_config(self.work / "config-first", base_url)
            warm_server(base_url, env[datasets.KEY_ENV])
            runs = [
                self.child(
                    "first", self.work / f"first-{run}", "--typing", str(self.sizes.typing), env=env
                )
                for run in range(self.sizes.first_runs)
            ]
        finally:
            server.terminate()
            server.wait(timeout=10)
        seconds = statistics.median(r["first_token_s"] for r in runs)
        self.add(
            f"first message {self.sizes.typing:g} s after start: Enter to its first token",
            f"{seconds * 1000:.0f} ms",
        )

    def stream(self) -> None:
        """CPU seconds per window of tokens while the long reply streams through the app."""
        sizes = self.sizes
        results = []
        for run in range(sizes.stream_runs):
            folder = self.work / f"stream-{run}"
            results.append(self.child("stream", folder, "--window", str(sizes.window)))
        width = min(len(r["cpu_per_window"]) for r in results)
        per_window = [
            statistics.median(r["cpu_per_window"][i] for r in results) for i in range(width)
        ]
        w = f"{sizes.window:,}"
        listing = ", ".join(f"{x:.2f}" for x in per_window)
        self.add(f"streaming CPU s per {w} tokens, in order", listing)
        first, last = per_window[0], per_window[-1]
        ratio = last / first if first else float("inf")
        self.add(f"streaming, last {w} / first {w} tokens", f"{ratio:.2f}x", "≤ 1.5x", ratio <= 1.5)
        mean = statistics.median(r["cpu_total"] for r in results) / max(
            1, statistics.median(len(r["cpu_per_window"]) for r in results)
        )
        self.add(f"streaming CPU s per {w} tokens, whole reply", f"{mean:.3f} s")
        wall = statistics.median(r["wall"] for r in results)
        rate = sizes.reply_tokens / wall
        self.add(
            f"streaming {sizes.reply_tokens:,}-token reply, wall",
            f"{wall:.1f} s ({rate:.0f} tok/s)",
        )

    def bandwidth(self) -> None:
        """Bytes written to a real pty per byte of reply, at each screen size: the reply as fast
        as the server sends it, then paced as a model writes."""
        for columns, lines in self.sizes.screens:
            folder = self.work / f"pty-{columns}x{lines}"
            result = pty_bandwidth.measure(self.env, folder, columns, lines)
            small = (columns, lines) == (80, 24)
            self._bandwidth_row(f"at {columns}x{lines}", result, small)
        rate = self.sizes.paced_rate
        server, base_url = self._server(self.sizes.paced_tokens, rate)
        try:
            env = datasets.write_config(self.work / "config-paced", base_url)
            for columns, lines in self.sizes.screens:
                folder = self.work / f"pty-paced-{columns}x{lines}"
                result = pty_bandwidth.measure(env, folder, columns, lines)
                label = f"at {columns}x{lines}, reply paced at {rate:.0f} tokens/s"
                self._bandwidth_row(label, result, False)
                if result.get("cpu_share") is not None:
                    self.add(
                        f"CPU while a reply streams at {rate:.0f} tokens/s, {columns}x{lines}",
                        f"{result['cpu_share']:.0%} of one core ({result['wall']:.1f} s)",
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)

    def _bandwidth_row(self, label: str, result: dict[str, Any], with_target: bool) -> None:
        if "error" in result:
            raise RuntimeError(result["error"])
        ratio = result["per_reply_byte"]
        self.add(
            f"terminal bytes per reply byte {label}",
            f"{ratio:.2f} ({result['bytes']:,} B for {result['reply_bytes']:,} B)",
            "≤ 4" if with_target else "",
            ratio <= 4 if with_target else None,
        )

    def keys(self) -> None:
        """Key-to-frame latency typing into the composer with the big conversation open."""
        folder = self.big_folder()
        chars = str(self.sizes.keys_chars)
        for label, options in (("", ()), (" (bare TextArea, for reference)", ("--bare",))):
            latencies: list[float] = []
            for _ in range(self.sizes.keys_runs):
                latencies += self.child(
                    "keys", folder, "--chars", chars, "--id", datasets.BIG_ID, *options
                )["latencies_ms"]
            latencies.sort()
            p50 = statistics.median(latencies)
            p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
            self.add(f"keystroke to repaint p50{label}", f"{p50:.1f} ms")
            if label:
                self.add(f"keystroke to repaint p95{label}", f"{p95:.1f} ms")
            else:
                self.add(f"keystroke to repaint p95{label}", f"{p95:.1f} ms", "< 16 ms", p95 < 16)

    def open(self) -> None:
        """Open the big conversation in a fresh process: time to its end on screen, peak RSS."""
        folder = self.big_folder()
        results = [
            self.child("open", folder, "--id", datasets.BIG_ID) for _ in range(self.sizes.open_runs)
        ]
        if any(r["open_s"] is None for r in results):
            raise RuntimeError("the big conversation's end never showed")
        seconds = statistics.median(r["open_s"] for r in results)
        rss = statistics.median(r["peak_rss_mb"] for r in results)
        n = f"{self.sizes.big_messages:,}"
        self.add(
            f"open a {n}-message conversation, show its end",
            f"{seconds:.3f} s",
            "< 1 s",
            seconds < 1,
        )
        self.add("peak RSS with it open", f"{rss:.0f} MB", "< 300 MB", rss < 300)

    def save(self) -> None:
        """ConversationStore.save after one more message on the big conversation."""
        folder = self.work / "save"
        shutil.copytree(self.big_folder(), folder)
        store = ConversationStore(AppPaths(self.work / "config" / "config.toml", folder))
        conversation = store.load(datasets.BIG_ID)
        times = []
        for i in range(self.sizes.saves):
            conversation.add(Message("user", f"One more question, number {i}?"))
            start = time.perf_counter()
            store.save(conversation)
            times.append(time.perf_counter() - start)
        ms = statistics.median(times) * 1000
        n = f"{self.sizes.big_messages:,}"
        self.add(
            f"save a {n}-message conversation after one more message",
            f"{ms:.1f} ms",
            "< 50 ms",
            ms < 50,
        )

    def tokens(self) -> None:
        """tiktoken throughput through TokenCounter, and the first exact count after start."""
        firsts: dict[str, list[float]] = {"": [], "--app": []}
        for _ in range(self.sizes.count_runs):
            for option, seconds in firsts.items():
                result = self.child("count", self.big_folder(), *filter(None, [option]))
                if result.get("approximate") is not False:
                    raise RuntimeError(f"no exact count: {result}")
                seconds.append(result["exact_wall"] - result["spawned"])
        counter = TokenCounter()
        counter.load()
        draft = "Please explain how a streamed reply is rendered, with an example. " * 15
        drafts = [f"{i} {draft}" for i in range(300)]
        start = time.perf_counter()
        for text in drafts:
            counter.count_draft("gpt-4o-mini", text)
        seconds = time.perf_counter() - start
        size = sum(len(t.encode()) for t in drafts)
        self.add(
            f"token count, composer ({len(draft.encode()) / 1000:.1f} KB drafts)",
            f"{size / seconds / 1e6:.1f} MB/s",
        )
        store = ConversationStore(AppPaths(self.work / "config" / "config.toml", self.big_folder()))
        conversation = store.load(datasets.BIG_ID)
        size = sum(len(m.content.encode()) for m in conversation.messages)
        start = time.perf_counter()
        counter.count_messages(conversation.model, conversation.system, conversation.messages)
        seconds = time.perf_counter() - start
        n = f"{self.sizes.big_messages:,}"
        self.add(
            f"token count, whole {n}-message conversation ({size / 1e6:.2f} MB)",
            f"{size / seconds / 1e6:.1f} MB/s ({seconds * 1000:.0f} ms)",
        )
        conversation.messages.append(Message("user", "And one more thing?"))
        start = time.perf_counter()
        counter.count_messages(conversation.model, conversation.system, conversation.messages)
        ms = (time.perf_counter() - start) * 1000
        self.add("recount it after one more message (per-message cache)", f"{ms:.1f} ms")
        first = statistics.median(firsts[""])
        self.add("first exact count after process start (offline encodings)", f"{first:.2f} s")
        first = statistics.median(firsts["--app"])
        self.add("first exact count on the app's status bar after process start", f"{first:.2f} s")

    def session(self) -> None:
        """A long session in one running app: the time per reply and the RSS, every
        `session_every` replies; both must stay flat (a leak or a cost that grows with the
        session shows here, not in a fresh process)."""
        sizes = self.sizes
        server, base_url = self._server(sizes.session_reply_tokens, None)
        try:
            env = datasets.write_config(self.work / "config-session", base_url)
            warm_server(base_url, env[datasets.KEY_ENV])
            options = ["--replies", str(sizes.session_replies), "--every", str(sizes.session_every)]
            options += ["--per-conversation", str(sizes.session_per_conversation)]
            result = self.child("session", self.work / "session", *options, env=env)
        finally:
            server.terminate()
            server.wait(timeout=10)
        windows = result["windows"]
        self.add("long session, RSS before the first reply", f"{result['rss_start_mb']:.0f} MB")
        for window in windows:
            self.add(
                f"long session, replies {window['first']}-{window['last']}",
                f"{window['mean_s'] * 1000:.0f} ms per reply ({window['cpu_s'] * 1000:.0f} ms CPU,"
                f" {window['list_cpu_s'] * 1000:.0f} ms listing {window['listed']}),"
                f" RSS {window['rss_mb']:.0f} MB",
            )
        first, last = windows[0], windows[-1]
        # CPU time: the wall clock of a shared machine moves with its other work.
        ratio = last["cpu_s"] / first["cpu_s"]
        self.add(
            "long session, CPU time per reply, last / first window",
            f"{ratio:.2f}x",
            "≤ 1.2x",
            ratio <= 1.2,
        )
        # From the end of the first window: the first replies load openai and the encodings.
        growth = last["rss_mb"] - first["rss_mb"]
        self.add(
            f"long session, RSS growth over replies {first['last'] + 1}-{last['last']}",
            f"{growth:+.0f} MB",
            "< 50 MB",
            growth < 50,
        )


def machine() -> list[str]:
    """What the figures were measured on."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, Textual {version('textual')}, commit {commit or '?'}",
    ]


def table(rows: list[Row]) -> list[str]:
    """The rows as a Markdown table (readable as plain text too)."""
    lines = ["| figure | value | target | met? |", "| --- | --- | --- | --- |"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.figure} | {row.value} | {row.target} | {met} |")
    return lines


def warm_server(base_url: str, key: str) -> None:
    """One request, so the server has loaded its tokeniser (~0.4 s, its own first-request cost)
    before the app is timed against it."""
    body = {"model": datasets.MODEL, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=json.dumps({**body, "stream": True}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def use_bytecode_as_installed() -> None:
    """Start the app from compiled bytecode, as an installed tui-chat does (pip compiles a
    package when it installs it). With PYTHONDONTWRITEBYTECODE set, as in some shells and
    containers, an editable checkout would compile its sources at every start (~70 ms), while
    Textual, installed by pip, would not: that would be measuring the checkout, not the app."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(HERE.parent / "tui_chat", quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run for CI")
    parser.add_argument("--only", action="append", choices=FIGURES, help="run only this figure")
    parser.add_argument("--markdown", type=Path, help="also write the table and machine here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = parser.parse_args()
    chosen = args.only or list(FIGURES)
    use_bytecode_as_installed()
    work = Path(tempfile.mkdtemp(prefix="tui-chat-bench-"))
    bench = Bench(QUICK if args.quick else FULL, work)
    failures = []
    try:
        bench.start_server()
        for name in FIGURES:
            if name in chosen:
                print(f"{name}...", flush=True)
                began = time.monotonic()
                try:
                    getattr(bench, name)()
                    print(f"  ({time.monotonic() - began:.0f} s)", flush=True)
                except RuntimeError as error:  # one broken figure must not hide the others
                    failures.append(f"{name}: {error}")
                    bench.add(name, "failed (see below)", "", False)
    finally:
        bench.stop_server()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    about = machine()
    output = ["", *about, "", *table(bench.rows)]
    print("\n".join(output))
    for failure in failures:
        print(f"\nFAILED {failure}", file=sys.stderr)
    if args.markdown is not None:
        args.markdown.write_text("\n".join(output[1:]) + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

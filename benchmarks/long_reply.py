"""What a long streamed reply costs to record: CPU seconds of `ReplyRecorder.apply` for replies
of 10k to 200k deltas (answer, then thinking), and of `tui-chat ask` streaming a long reply from
the local test server.

Appending each delta must cost the same however long the reply already is: a recorder that
copies the reply so far on every delta costs the square of the reply's length. Each figure is
the median over the rounds of the CPU time (`time.process_time` in this process for the
recorder; the child's rusage for `tui-chat ask`), steadier than wall time on a busy machine.
Every recorded reply is checked to be exactly the text sent.

Usage: python benchmarks/long_reply.py [--rounds N] [--deltas 10000,50000,...] [--ask 0,...]
                                       [--estimate-counts]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server_process import start_test_server

from tui_chat.domain.conversation import Message
from tui_chat.engine.events import Finished, ReasoningDelta, StreamEvent, TextDelta
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.tokens import TokenCounter

DELTA = " word"  # about a token, as servers send them


def record(counter: TokenCounter, events: list[StreamEvent]) -> tuple[float, Message]:
    """CPU seconds to apply `events` to a fresh reply, and the reply."""
    reply = Message(role="assistant", content="", model="gpt-4o-mini")
    recorder = ReplyRecorder(
        reply, counter=counter, prices=PriceBook(autoload=False), base_url=None, prompt_estimate=0
    )
    started = time.process_time()
    for event in events:
        recorder.apply(event)
    return time.process_time() - started, reply


def recorder_row(counter: TokenCounter, deltas: int, rounds: int) -> str:
    answer: list[StreamEvent] = [TextDelta(DELTA) for _ in range(deltas)]
    thought: list[StreamEvent] = [ReasoningDelta(DELTA) for _ in range(deltas)]
    end = Finished("stop", None)
    figures = []
    for events, check in ((answer, "content"), (thought, "thinking")):
        times = []
        for _ in range(rounds):
            seconds, reply = record(counter, [*events, end])
            expected = DELTA * deltas
            if getattr(reply, check) != (expected if check == "content" else expected.strip()):
                raise RuntimeError(f"the recorded {check} is not the text sent")
            times.append(seconds)
        figures.append(statistics.median(times))
    return f"{deltas:>9,}  {figures[0]:11.3f}s  {figures[1]:11.3f}s"


def ask_cpu(tui_chat: str, env: dict[str, str]) -> float:
    """CPU seconds of one `tui-chat ask` process (the reply saved, as by default)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [tui_chat, "ask", "hi"], env=env, stdin=subprocess.DEVNULL, capture_output=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"tui-chat ask failed: {done.returncode} {done.stderr!r}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def ask_row(tokens: int, rounds: int) -> str:
    """`tui-chat ask` against a test server whose reply is `tokens` tokens long."""
    server, base_url = start_test_server("--reply-tokens", str(tokens))
    try:
        with tempfile.TemporaryDirectory(prefix="tui-chat-long-reply-") as folder:
            work = Path(folder)
            config = work / "config.toml"
            config.write_text(
                'default_profile = "bench"\n[profiles.bench]\n'
                f'base_url = "{base_url}"\ndefault_model = "gpt-4o-mini"\n',
                encoding="utf-8",
            )
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))
            }
            env |= {"TUI_CHAT_CONFIG": str(config), "TUI_CHAT_DATA_DIR": str(work / "data")}
            tui_chat = str(Path(sys.executable).parent / "tui-chat")
            times = [ask_cpu(tui_chat, env) for _ in range(rounds)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    return f"{tokens:>9,}  {statistics.median(times):11.3f}s  {min(times):8.3f}s"


def sizes(text: str) -> list[int]:
    return [int(size) for size in text.split(",") if size.strip() and int(size) > 0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deltas", default="10000,50000,100000,200000", help="recorder sizes")
    parser.add_argument("--ask", default="10000,50000,100000,200000", help="tui-chat ask sizes")
    parser.add_argument(
        "--estimate-counts",
        action="store_true",
        help="leave tiktoken unloaded: what is left of the recorder's cost is the appending",
    )
    args = parser.parse_args()
    counter = TokenCounter()
    if args.estimate_counts:
        counting = "counts estimated (tiktoken not loaded), so the figures are the appending"
    else:
        counter.load()  # as the app does: the reply is counted by tiktoken as it arrives
        counting = "counted by tiktoken"
    print(f"ReplyRecorder.apply, CPU seconds, median of {args.rounds} rounds, {counting}")
    print(f"{'deltas':>9}  {'answer':>12}  {'thinking':>12}")
    for deltas in sizes(args.deltas):
        print(recorder_row(counter, deltas, args.rounds), flush=True)
    if sizes(args.ask):
        print(f"tui-chat ask, the test server's long reply, CPU seconds, {args.rounds} rounds")
        print(f"{'tokens':>9}  {'median':>12}  {'min':>9}")
        for tokens in sizes(args.ask):
            print(ask_row(tokens, args.rounds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How the message pane keeps up with a long streamed reply: figures anyone can reproduce.

Drives the app's MessagePane headless at 100x30 in a tiny App, with a 200-message conversation
already open, and streams a synthetic ~6,500-token Markdown reply (paragraphs, a list, fenced
code, a table) into it, one ~5-character token at a time, calling `message_changed` per token:

  (a) as fast as possible: CPU seconds (time.process_time) per 1,000 tokens, in order, and the
      ratio last/first (target <= 1.5); also the median time of one throttled repaint per 1,000;
  (b) at 200 tokens/s: wall time to finish against the time the tokens take (target <= 1.1x);
  (c) time and peak RSS to open a 2,000-message conversation and show its end (target < 1 s);
  (t) a reply that thinks ~4,000 tokens, then answers ~2,000: every delta goes through the
      engine's ReplyRecorder (thinking counted as it streams) into the pane, which repaints every
      10 tokens; CPU seconds per 1,000 tokens, first and last of the thinking and of the answer
      (target: last/first <= 1.5, as for the answer alone); (t2) the same with the thought
      unfolded by the user as it began, so all of it is on screen while it grows.

`--baseline` runs the same harness against a stock pane (a VerticalScroll holding a header and a
Textual `Markdown` widget per message, the reply streamed through `MarkdownStream`), cut short by
`--cap` seconds, to give the "before" figures. `--quick` uses tiny sizes for a CI smoke run.
Each part runs in its own process so peak RSS and caches do not leak between them.

Usage: python benchmarks/stream_render.py [--baseline] [--quick] [--repeat N] [--part a|b|c|t|t2]
       python benchmarks/stream_render.py --thinking   (only parts (t) and (t2))

Figures on the 2-core dev machine (Textual 8.2.8), 6,481-token reply, 200 messages open:

  part                         stock Markdown (--baseline --cap 90)      MessagePane
  (a) CPU s per 1,000 tokens   1.74 3.93 5.98 9.97 7.06 6.90 (3.97x)     0.0177 0.0033 ... 0.0037
  (a2) repaint every 10 tokens 733 tokens in 90 s (cut at the cap)       0.87 0.85 ... 0.85 (0.97x)
  (b) 200 tokens/s             38.2 s for 32.4 s = 1.18x, CPU 37.9 s    32.46 s = 1.002x, CPU 6.4 s
  (c) open 2,000 messages      81.4 s, peak RSS 1,860 MB                 0.12 s, peak RSS 44 MB

  (t) think 4,019 then answer 3,889, repaint every 10 tokens (median of 3, CPU s per 1,000):
      thinking 0.383 0.355 0.336 0.355 (0.93x), answer 0.851 0.749 (0.88x)
  (t2) the same, unfolded: thinking 0.403 0.435 0.414 0.409 (1.01x), answer 0.796 0.765 (0.96x)

(a) for the new pane is the per-token cost only (message_changed just marks the message dirty;
the first window holds the one throttled repaint that fell into it); (a2) shows the repaint
cost itself stays flat. The stock pane's cost is layout: cProfile puts ~75% of its time in
Screen._refresh_layout -> Compositor._arrange_root/add_widget, visiting ~3,300 widgets per pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from tui_chat.domain.conversation import Conversation, Message
from tui_chat.engine.events import Finished, ReasoningDelta, TextDelta
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.reply import ReplyRecorder
from tui_chat.engine.tokens import TokenCounter
from tui_chat.ui.theme_colors import derive_app_variables
from tui_chat.ui.widgets.message_pane import MessagePane

SIZE = (100, 30)
TOKENS_PER_SECOND = 200
PAINT_EVERY = 10  # tokens between forced repaints in part (a2)
WINDOW = 1000  # tokens per measured window (100 with --quick)
END_MARK = "That is the end of this conversation."

PARAGRAPHS = [
    "Here is a **careful** answer with `inline code` and a list:\n\n",
    "- first point about the question\n- second point, with *emphasis*\n- third point\n\n",
    "```python\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
    "        a, b = b, a + b\n    return a\n```\n\n",
    "A closing paragraph that explains the code above in a few plain words, "
    "so the reader can follow.\n\n",
    "| col | value |\n|-----|-------|\n| a   | 1     |\n| b   | 2     |\n\n",
]


THOUGHTS = [
    "The user asks how this works. Let me check what they mean before answering. ",
    "Wait, the second step depends on the first, so I should recompute it. ",
    "Option two looks simpler, but it fails when the input is empty; keep the first.\n\n",
    "So far three cases considered; the answer should be short and state the trade-off. ",
]


def thought_text(tokens: int) -> str:
    """A chain of thought of about `tokens` ~5-character tokens, as reasoning models write."""
    parts: list[str] = []
    count = 0
    while count < tokens:
        parts.append(THOUGHTS[len(parts) % len(THOUGHTS)])
        count += len(tokens_of(parts[-1]))
    return "".join(tokens_of("".join(parts))[:tokens])


def reply_text(paragraphs: int) -> str:
    """The synthetic reply: the five kinds of block, repeated."""
    return "".join(PARAGRAPHS[i % len(PARAGRAPHS)] for i in range(paragraphs))


def tokens_of(text: str) -> list[str]:
    """~5-character tokens (a word with its leading space), as a model streams them."""
    return re.findall(r"\s*\S+|\s+", text)


def conversation_of(messages: int) -> Conversation:
    """A conversation of alternating questions and Markdown answers."""
    conversation = Conversation.new(profile="bench", model="bench-model", system="Be helpful.")
    for i in range(messages):
        if i % 2 == 0:
            conversation.add(Message("user", f"Question {i}: how does this work, in detail?"))
        else:
            text = f"Answer {i}.\n\n" + reply_text(5)
            conversation.add(Message("assistant", text, model="bench-model", finish_reason="stop"))
    conversation.add(Message("assistant", END_MARK, model="bench-model", finish_reason="stop"))
    return conversation


class BaselinePane(VerticalScroll):
    """The "before": a stock Markdown widget per message, streamed through MarkdownStream."""

    def __init__(self) -> None:
        super().__init__()
        self.conversation: Conversation | None = None

    async def show(self, conversation: Conversation) -> None:
        self.conversation = conversation
        await self.remove_children()
        widgets = []
        for message in conversation.messages:
            widgets.append(Static(message.role))
            widgets.append(Markdown(message.content))
        await self.mount_all(widgets)
        self.scroll_end(animate=False)


class BenchApp(App[None]):
    """Just the pane under test, full screen (it carries its own stylesheet)."""

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # The pane's TCSS uses tui-chat's own variables, as the real app provides them.
        return derive_app_variables(self.current_theme)

    def __init__(self, baseline: bool) -> None:
        super().__init__()
        self.baseline = baseline

    def compose(self) -> ComposeResult:
        yield BaselinePane() if self.baseline else MessagePane()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class FlushMeter:
    """Times each throttled repaint of the new pane (what a growing cost would show up in)."""

    def __init__(self) -> None:
        self.durations: list[tuple[int, float]] = []  # (tokens so far, seconds)
        self.tokens = 0
        original = MessagePane._flush

        def timed(pane: MessagePane) -> None:
            start = time.process_time()
            original(pane)
            self.durations.append((self.tokens, time.process_time() - start))

        MessagePane._flush = timed  # type: ignore[method-assign]

    def per_thousand(self, total: int) -> list[float]:
        medians = []
        for start in range(0, total - WINDOW + 1, WINDOW):
            window = [d for t, d in self.durations if start <= t < start + WINDOW]
            medians.append(round(statistics.median(window) * 1000, 2) if window else 0.0)
        return medians


async def stream(
    pilot: Pilot[None], tokens: list[str], rate: float | None, cap: float, paint_every: int | None
) -> dict:
    """Stream `tokens` into a new assistant message; rate None means as fast as possible.

    paint_every: also force a repaint of the reply and wait for the screen to be drawn after
    every so many tokens (the worst case: no throttling at all).
    """
    app = pilot.app
    assert isinstance(app, BenchApp)
    meter = FlushMeter() if not app.baseline else None
    if app.baseline:
        pane = app.query_one(BaselinePane)
        markdown = Markdown("")
        await pane.mount(Static("assistant"), markdown)
        writer = Markdown.get_stream(markdown)
    else:
        new_pane = app.query_one(MessagePane)
        assert new_pane.conversation is not None
        message = new_pane.conversation.add(Message("assistant", "", model="bench-model"))
        new_pane.message_added()
        index = len(new_pane.conversation.messages) - 1
    marks = [time.process_time()]
    wall0 = time.perf_counter()
    done = 0
    for i, token in enumerate(tokens):
        if rate is not None:
            delay = wall0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        if app.baseline:
            await writer.write(token)
            pane.scroll_end(animate=False)
        else:
            message.content += token
            assert meter is not None
            meter.tokens = i
            new_pane.message_changed(index)
        await asyncio.sleep(0)
        done = i + 1
        if paint_every and done % paint_every == 0:
            if not app.baseline:
                new_pane._flush()
            await pilot.pause()
        if done % WINDOW == 0:
            marks.append(time.process_time())
        if time.perf_counter() - wall0 > cap:
            break
    if app.baseline:
        await writer.stop()
    else:
        message.finish_reason = "stop"
        new_pane.message_changed(index)
    await app.workers.wait_for_complete()
    await asyncio.sleep(0.05)
    wall = time.perf_counter() - wall0
    per_thousand = [round(b - a, 4) for a, b in itertools.pairwise(marks)]
    result: dict[str, Any] = {
        "tokens": done,
        "of_tokens": len(tokens),
        "finished": done == len(tokens),
        "wall_s": round(wall, 2),
        "cpu_s": round(time.process_time() - marks[0], 2),
        "cpu_per_1k": per_thousand,
    }
    if meter is not None:
        result["repaint_ms_median_per_1k"] = meter.per_thousand(done)
        result["repaints"] = len(meter.durations)
    if not app.baseline:
        text = "\n".join(new_pane.visible_text())
        result["end_visible"] = "return a" in text or "closing paragraph" in text
    return result


async def part_stream(
    args: argparse.Namespace, rate: float | None, paint_every: int | None = None
) -> dict:
    app = BenchApp(args.baseline)
    conversation = conversation_of(args.messages)
    tokens = tokens_of(reply_text(args.paragraphs))
    async with app.run_test(size=SIZE) as pilot:
        if args.baseline:
            await app.query_one(BaselinePane).show(conversation)
        else:
            app.query_one(MessagePane).show_conversation(conversation)
        await pilot.pause()
        result = await stream(pilot, tokens, rate, args.cap, paint_every)
        if rate is not None:
            result["tokens_take_s"] = round(len(tokens) / rate, 2)
            result["ratio"] = round(result["wall_s"] / result["tokens_take_s"], 3)
    return result


async def part_open(args: argparse.Namespace) -> dict:
    app = BenchApp(args.baseline)
    conversation = conversation_of(args.open_messages)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        if args.baseline:
            await app.query_one(BaselinePane).show(conversation)
        else:
            app.query_one(MessagePane).show_conversation(conversation)
        await pilot.pause()
        elapsed = time.perf_counter() - start
        visible = None
        if not args.baseline:
            visible = any(END_MARK in line for line in app.query_one(MessagePane).visible_text())
    return {"open_s": round(elapsed, 3), "peak_rss_mb": round(rss_mb(), 1), "end_visible": visible}


async def part_thinking(args: argparse.Namespace, unfolded: bool) -> dict:
    """(t): thinking then answer, through the ReplyRecorder into the pane, repainted every
    PAINT_EVERY tokens; CPU per window of tokens. `unfolded`: the user unfolded the thought as
    it began (t2), so the pane shows all of it while it grows."""
    app = BenchApp(False)
    conversation = conversation_of(args.messages)
    thought = tokens_of(thought_text(args.thinking_tokens))
    answer = tokens_of(reply_text(args.answer_paragraphs))
    counter = TokenCounter()
    counter.load()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(MessagePane)
        pane.show_conversation(conversation)
        await pilot.pause()
        message = conversation.add(Message("assistant", "", model="gpt-4o-mini"))
        pane.message_added()
        index = len(conversation.messages) - 1
        recorder = ReplyRecorder(
            message,
            counter=counter,
            prices=PriceBook(autoload=False),
            base_url=None,
            prompt_estimate=0,
        )
        events = [ReasoningDelta(t) for t in thought] + [TextDelta(t) for t in answer]
        marks = [time.process_time()]
        for done, event in enumerate(events, start=1):
            recorder.apply(event)
            pane.message_changed(index)
            if unfolded and done == 1:  # `t` as soon as there is a thought to unfold
                pane.selected_index = index
                pane.action_toggle_thinking()
            await asyncio.sleep(0)
            if done % PAINT_EVERY == 0:
                pane._flush()
                await pilot.pause()
            if done % WINDOW == 0:
                marks.append(time.process_time())
        recorder.apply(Finished("stop", None))
        pane.message_changed(index)
        await pilot.pause()
        assert pane._blocks[index].thinking.unfolded is unfolded
    return {
        "cpu_per_1k": [round(b - a, 4) for a, b in itertools.pairwise(marks)],
        "thinking_tokens": len(thought),
        "answer_tokens": len(answer),
        "thinking_tokens_counted": message.thinking_tokens,
    }


def report_thinking(args: argparse.Namespace, part: str) -> None:
    """Run (t) or (t2) `repeat` times; print the median CPU per window, thinking and answer
    apart."""
    good, per_1k = repeated(args, part, f"({part})")
    if not good:
        return
    first = good[0]
    # Windows wholly of thinking, and wholly of answer (the one holding the switch is neither).
    thinking_windows = first["thinking_tokens"] // WINDOW
    answer_from = -(-first["thinking_tokens"] // WINDOW)
    thinking, answer = per_1k[:thinking_windows], per_1k[answer_from:]
    how = ", unfolded as it streams" if part == "t2" else ""
    print(
        f"({part}) thinks {first['thinking_tokens']:,} tokens{how}, then answers "
        f"{first['answer_tokens']:,}; repaint every {PAINT_EVERY} tokens; CPU s per "
        f"{WINDOW:,} tokens (median of {len(good)}): {per_1k}"
    )
    for name, windows in (("thinking", thinking), ("answer", answer)):
        if windows and windows[0] > 0:
            print(
                f"    {name}: first {windows[0]}, last {windows[-1]}, "
                f"last/first = {windows[-1] / windows[0]:.2f} (target <= 1.5)"
            )
    print(f"    the thinking counted by the recorder: {first['thinking_tokens_counted']} tokens")


def run_part(args: argparse.Namespace) -> dict:
    if args.part in ("t", "t2"):
        return asyncio.run(part_thinking(args, unfolded=args.part == "t2"))
    if args.part == "a":
        return asyncio.run(part_stream(args, None))
    if args.part == "a2":
        return asyncio.run(part_stream(args, None, PAINT_EVERY))
    if args.part == "b":
        return asyncio.run(part_stream(args, TOKENS_PER_SECOND))
    return asyncio.run(part_open(args))


def child(args: argparse.Namespace, part: str) -> dict:
    command = [sys.executable, __file__, "--part", part, "--json"]
    for flag in ("baseline", "quick"):
        if getattr(args, flag):
            command.append(f"--{flag}")
    command += ["--cap", str(args.cap)]
    limit = args.cap + 60  # a stream stops itself at the cap; opening has no cap of its own
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {limit:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def repeated(args: argparse.Namespace, part: str, title: str) -> tuple[list[dict], list[float]]:
    """Run a streaming part `repeat` times: the runs that worked and their median CPU per
    window of tokens (nothing, after saying so, when none worked)."""
    runs = [child(args, part) for _ in range(args.repeat)]
    good = [r for r in runs if "error" not in r]
    if not good:
        print(f"{title} failed: {runs[0]}")
        return [], []
    width = min(len(r["cpu_per_1k"]) for r in good)
    per_1k = [round(statistics.median(r["cpu_per_1k"][i] for r in good), 4) for i in range(width)]
    return good, per_1k


def report_stream(args: argparse.Namespace, part: str, title: str) -> None:
    """Run a streaming part `repeat` times and print the median CPU per window of tokens."""
    good, per_1k = repeated(args, part, title)
    if not good:
        return
    print(f"{title}: CPU s per {WINDOW:,} tokens (median of {len(good)}): {per_1k}")
    if per_1k and per_1k[0] > 0:
        print(f"    last/first = {per_1k[-1] / per_1k[0]:.2f} (target <= 1.5)")
    first = good[0]
    if not per_1k and first["tokens"]:
        overall = first["cpu_s"] / first["tokens"] * WINDOW
        print(f"    (no full window: {overall:.2f} s CPU per {WINDOW:,} tokens overall)")
    cut = "" if first["finished"] else f", cut at the {args.cap:.0f} s cap"
    print(
        f"    tokens {first['tokens']}/{first['of_tokens']}, wall {first['wall_s']} s, "
        f"cpu {first['cpu_s']} s{cut}"
    )
    if "repaint_ms_median_per_1k" in first:
        print(
            f"    one repaint, median ms per {WINDOW:,} tokens: "
            f"{first['repaint_ms_median_per_1k']} ({first['repaints']} repaints)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true", help="measure the stock Markdown pane")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CI smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (c); medians")
    parser.add_argument("--cap", type=float, default=120.0, help="stop a stream after seconds")
    parser.add_argument(
        "--part", choices=["a", "a2", "b", "c", "t", "t2"], help="run one part in this process"
    )
    parser.add_argument("--thinking", action="store_true", help="run only (t), with medians")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.messages = 20 if args.quick else 200
    args.open_messages = 100 if args.quick else 2000
    args.paragraphs = 40 if args.quick else 400
    args.thinking_tokens = 430 if args.quick else 4300  # ~4,000 once re-split
    args.answer_paragraphs = 10 if args.quick else 240
    if args.quick:
        args.repeat = 1
        global WINDOW
        WINDOW = 100

    if args.part:
        result = run_part(args)
        print(json.dumps(result) if args.json else result)
        return

    if args.thinking:
        report_thinking(args, "t")
        report_thinking(args, "t2")
        return

    label = "baseline (stock Markdown per message)" if args.baseline else "MessagePane"
    tokens = len(tokens_of(reply_text(args.paragraphs)))
    print(f"{label}: {args.messages} messages open, reply of {tokens} tokens, {SIZE[0]}x{SIZE[1]}")

    for part, title in (
        ("a", "(a) as fast as possible"),
        ("a2", f"(a2) forced repaint every {PAINT_EVERY} tokens"),
    ):
        report_stream(args, part, title)

    result = child(args, "b")
    if "error" in result:
        print(f"(b) failed: {result}")
    else:
        print(
            f"(b) at {TOKENS_PER_SECOND} tokens/s: {result['tokens']}/{result['of_tokens']} tokens "
            f"in {result['wall_s']} s for {result['tokens_take_s']} s of tokens = "
            f"{result['ratio']}x (target <= 1.1), cpu {result['cpu_s']} s"
            + ("" if result["finished"] else f" (cut at the {args.cap} s cap)")
        )

    if not args.baseline:
        report_thinking(args, "t")
        report_thinking(args, "t2")

    opens = [child(args, "c") for _ in range(args.repeat)]
    good = [r for r in opens if "error" not in r]
    if not good:
        print(f"(c) failed: {opens[0]}")
    else:
        seconds = statistics.median(r["open_s"] for r in good)
        rss = statistics.median(r["peak_rss_mb"] for r in good)
        print(
            f"(c) open {args.open_messages} messages and show the end: {seconds:.3f} s "
            f"(median of {len(good)}, target < 1 s), peak RSS {rss:.0f} MB, "
            f"end visible: {good[0]['end_visible']}"
        )


if __name__ == "__main__":
    main()

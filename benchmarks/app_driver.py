"""Child processes for benchmarks/run.py: each runs the real app (or a bare Textual app) headless,
measures one thing and prints one JSON line. Run one per process so start-up, peak RSS and
caches are those of a fresh `tui-chat`.

  python benchmarks/app_driver.py startup [--bare]          first frames with the list (wall clock)
  python benchmarks/app_driver.py first [--typing S]        Enter to first token, fresh start
  python benchmarks/app_driver.py stream --tokens N         CPU seconds per window of tokens
  python benchmarks/app_driver.py keys --chars N [--bare]   key-to-repaint latencies
  python benchmarks/app_driver.py open                      open the big conversation: time, RSS
  python benchmarks/app_driver.py count [--app]             first exact token count (wall clock)
  python benchmarks/app_driver.py session --replies N       N replies in one app: time and RSS

The app reads TUI_CHAT_CONFIG and TUI_CHAT_DATA_DIR as `tui-chat` does. Headless Textual skips
turning frames into terminal bytes; the frame meter below does that work for every frame, as a
real terminal would make the app do, and counts the bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from textual.app import App, ComposeResult
from textual.scroll_view import ScrollView

SIZE = (120, 40)
END_MARK = "That is the end of this conversation."  # datasets.END_MARK, without its imports


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class FrameMeter:
    """Renders every frame to terminal bytes (as a real driver would) and tells listeners."""

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.listeners: list[Callable[[App[Any]], None]] = []

    def install(self) -> FrameMeter:
        from textual._compositor import CompositorUpdate

        meter = self

        def _display(app: App[Any], screen: Any, renderable: Any) -> None:
            if renderable is None or app._batch_count:
                return
            if isinstance(renderable, CompositorUpdate):
                data = renderable.render_segments(app.console)
                meter.frames += 1
                meter.bytes += len(data.encode("utf-8"))
            for listener in list(meter.listeners):
                listener(app)

        App._display = _display  # type: ignore[method-assign]
        return meter


def real_app(size: tuple[int, int] | None = None) -> Any:
    """The app as `tui-chat` builds it: paths and config from the environment."""
    import tui_chat.cli  # noqa: F401  (what the command imports before the app)
    from tui_chat.config import load_config
    from tui_chat.paths import resolve_paths
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.services import Services

    paths = resolve_paths()
    config, problems = load_config(paths.config_file)
    return TuiChatApp(Services.create(paths, config, problems))


class BareApp(App[None]):
    """A bare Textual app composing the stock widgets tui-chat's main screen is made of."""

    CSS = """
    #side { width: 32; }
    TextArea { height: 5; }
    ScrollView { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal, Vertical
        from textual.widgets import Footer, Input, OptionList, Static, TextArea

        with Horizontal():
            with Vertical(id="side"):
                yield Input(placeholder="filter")
                yield OptionList()
            with Vertical():
                yield ScrollView()
                yield TextArea(soft_wrap=True, compact=True)
                yield Static("status")
        yield Footer()

    def on_mount(self) -> None:
        from textual.widgets import TextArea

        self.query_one(TextArea).focus()


# --------------------------------------------------------------------------- start-up
def startup(args: argparse.Namespace) -> None:
    """Print the wall-clock times of the first frame written with the conversation list filled
    (`ready`) and of the first with the newest conversation drawn too (`opened`; the same frame
    when there is nothing to open). The bare app is ready at its first frame. `--whole`: also
    the first frame with the whole list (`whole`; a cold start shows the head of it first)."""
    meter = FrameMeter().install()
    result: dict[str, Any] = {}
    state = {"listed": -1, "opened": False, "whole": False}

    def on_frame(app: App[Any]) -> None:
        now = time.time()
        if state["listed"] >= 0 and "ready" not in result:
            result.update(
                ready=now, cpu=time.process_time(), listed=state["listed"], frames=meter.frames
            )
        if "ready" in result and (state["opened"] or state["listed"] == 0):
            result.setdefault("opened", now)
        if state["whole"]:
            result.setdefault("whole", now)
        if "opened" in result and ("whole" in result or not args.whole):
            app.exit()

    meter.listeners.append(on_frame)
    if args.bare:
        app: App[Any] = BareApp()
        app.call_later(lambda: state.update(listed=0))  # mounted: its first frame is ready
    else:
        from tui_chat.ui.screens.chat import ChatScreen
        from tui_chat.ui.widgets.sidebar import Sidebar

        show_entries, show_conversation = Sidebar.show_entries, ChatScreen._show_conversation

        def listed(self: Sidebar, entries: Any, **options: Any) -> None:
            show_entries(self, entries, **options)
            if state["listed"] < 0:
                state["listed"] = self.option_list.option_count
            if options.get("count") is None:  # the whole list, not just its head
                state["whole"] = True

        def opened(self: ChatScreen, conversation: Any, *options: Any) -> None:
            show_conversation(self, conversation, *options)
            state["opened"] = bool(conversation.messages)

        Sidebar.show_entries = listed  # type: ignore[method-assign]
        ChatScreen._show_conversation = opened  # type: ignore[method-assign]
        app = real_app()
    app.run(headless=True, size=SIZE)
    emit(result)


# --------------------------------------------------------------------------- helpers
async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def chat_screen(app: App[Any]) -> Any:
    from tui_chat.ui.screens.chat import ChatScreen

    screen = app.screen
    return screen if isinstance(screen, ChatScreen) else None


async def settled(app: Any) -> Any:
    """The chat screen once its list is shown, encodings and prices loaded, workers done."""
    await until(lambda: chat_screen(app) is not None, 20, "the chat screen")
    screen = chat_screen(app)
    await until(lambda: screen.sidebar.border_title != "Conversations", 60, "the list")
    await until(lambda: app.services.counter.ready, 30, "the encodings")
    await asyncio.sleep(0.3)
    await until(lambda: not [w for w in app.workers if w.is_running], 30, "the workers")
    return screen


# --------------------------------------------------------------------------- first message
def first(args: argparse.Namespace) -> None:
    asyncio.run(_first(args))


async def _first(args: argparse.Namespace) -> None:
    """A user starts tui-chat, types for `--typing` seconds and sends: the seconds from Enter
    to the first token of the reply reaching the pane (openai is imported by then or not)."""
    app = real_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: chat_screen(app) is not None, 20, "the chat screen")
        screen = chat_screen(app)
        await asyncio.sleep(args.typing)
        pane = screen.pane
        original = pane.message_changed
        arrived: list[float] = []

        def message_changed(index: int) -> None:
            original(index)
            if not arrived and screen.conversation.messages[index].content:
                arrived.append(time.perf_counter())

        pane.message_changed = message_changed
        await pilot.press(*"hi")
        sent = time.perf_counter()
        await pilot.press("enter")
        await until(lambda: bool(arrived), 60, "the first token")
        emit({"first_token_s": round(arrived[0] - sent, 4)})


# --------------------------------------------------------------------------- streaming
def stream(args: argparse.Namespace) -> None:
    asyncio.run(_stream(args))


async def _stream(args: argparse.Namespace) -> None:
    """Send a prompt; the server answers with a long Markdown reply as fast as it can.
    Mark the process time at every `window` tokens of the reply as the app receives them."""
    meter = FrameMeter().install()
    app = real_app()
    window = args.window
    marks: list[float] = []
    async with app.run_test(size=(args.width, args.height)) as pilot:
        screen = await settled(app)
        pane = screen.pane
        original = pane.message_changed

        def message_changed(index: int) -> None:
            original(index)
            recorder = screen.live_figures.recorder
            if recorder is None:
                return
            tokens = recorder.completion_tokens
            if not marks and tokens > 0:
                marks.append(time.process_time())
            while marks and tokens >= window * len(marks):
                marks.append(time.process_time())

        pane.message_changed = message_changed
        frames0, bytes0 = meter.frames, meter.bytes
        wall0 = time.perf_counter()
        await pilot.press(*"go", "enter")

        def finished() -> bool:
            messages = screen.conversation.messages
            return (
                len(messages) >= 2
                and messages[-1].finish_reason is not None
                and not screen.streaming
            )

        await until(finished, args.timeout, "the reply to finish")
        await pilot.pause()
        end = time.process_time()
        wall = time.perf_counter() - wall0
        reply = screen.conversation.messages[-1]
    windows = [round(b - a, 4) for a, b in itertools.pairwise(marks)]
    emit(
        {
            "cpu_per_window": windows,
            "window": window,
            "cpu_total": round(end - marks[0], 3) if marks else None,
            "wall": round(wall, 3),
            "reply_chars": len(reply.content),
            "reply_bytes": len(reply.content.encode("utf-8")),
            "finish": reply.finish_reason,
            "frames": meter.frames - frames0,
            "frame_bytes": meter.bytes - bytes0,
        }
    )


# --------------------------------------------------------------------------- keystrokes
def keys(args: argparse.Namespace) -> None:
    asyncio.run(_keys(args))


async def _keys(args: argparse.Namespace) -> None:
    """Type `chars` characters with human-like gaps; time each key to the frame showing it."""
    from textual import events
    from textual.widgets import TextArea

    meter = FrameMeter().install()
    app: Any = BareApp() if args.bare else real_app()
    latencies: list[float] = []
    pending: dict[str, Any] = {}

    def on_frame(app_: App[Any]) -> None:
        if pending and len(pending["area"].text) >= pending["length"]:
            latencies.append(time.perf_counter() - pending["t0"])
            pending["done"].set()
            pending.clear()

    async with app.run_test(size=SIZE):
        if args.bare:
            await asyncio.sleep(0.3)
            area = app.query_one(TextArea)
        else:
            screen = await settled(app)
            screen.open_conversation(args.id)
            await until(lambda: END_MARK in "\n".join(screen.pane.visible_text()), 30, "the end")
            area = screen.composer
        area.focus()
        await asyncio.sleep(0.2)
        meter.listeners.append(on_frame)
        rng = random.Random(3)
        words = [
            "the",
            "quick",
            "brown",
            "fox",
            "jumps",
            "over",
            "a",
            "lazy",
            "dog",
            "while",
            "typing",
            "into",
            "tui",
            "chat",
        ]
        text = ""
        while len(text) < args.chars:
            text += rng.choice(words) + " "
        text = text[: args.chars]
        driver = app._driver
        for char in text:
            done = asyncio.Event()
            pending.update(area=area, length=len(area.text) + 1, done=done)
            pending["t0"] = time.perf_counter()
            key = "space" if char == " " else char
            event = events.Key(key, char)
            event.set_sender(app)
            driver.send_message(event)
            await asyncio.wait_for(done.wait(), 5)
            # A fast typist: 40-160 ms between keys (the count runs in the longer pauses).
            await asyncio.sleep(rng.uniform(0.04, 0.16))
    emit({"latencies_ms": [round(x * 1000, 3) for x in latencies]})


# --------------------------------------------------------------------------- open
def open_big(args: argparse.Namespace) -> None:
    asyncio.run(_open_big(args))


async def _open_big(args: argparse.Namespace) -> None:
    """In a fresh app (settled on a newer, small conversation), open the big one as choosing
    it in the list does; time from that request to a frame showing its end; peak RSS then."""
    meter = FrameMeter().install()
    app: Any = real_app()
    marks: dict[str, float] = {}

    def on_frame(app_: App[Any]) -> None:
        screen = chat_screen(app_)
        if "start" not in marks or "shown" in marks or screen is None:
            return
        if screen.conversation.id != args.id:
            return
        if END_MARK in "\n".join(screen.pane.visible_text()):
            marks["shown"] = time.perf_counter()
            marks["rss"] = peak_rss_mb()

    async with app.run_test(size=SIZE):
        screen = await settled(app)
        before = peak_rss_mb()
        meter.listeners.append(on_frame)
        marks["start"] = time.perf_counter()
        screen.open_conversation(args.id)
        await until(lambda: "shown" in marks, 60, "the end of the big conversation")
    emit(
        {
            "open_s": round(marks["shown"] - marks["start"], 4),
            "peak_rss_mb": round(marks["rss"], 1),
            "rss_before_mb": round(before, 1),
        }
    )


# --------------------------------------------------------------------------- long session
def current_rss_mb() -> float:
    """The resident set size now (not the peak): what a long session holds on to."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def session(args: argparse.Namespace) -> None:
    asyncio.run(_session(args))


async def _session(args: argparse.Namespace) -> None:
    """A day's use in one running app: `replies` messages, a new conversation (ctrl+n) every
    `per_conversation` of them, each sent from the composer and timed from Enter until its reply
    is saved and drawn. Every `every` replies, a line with the mean time (wall and CPU) per
    reply over those replies and the RSS then."""
    from textual import events

    from tui_chat.ui.widgets.sidebar import Sidebar

    # The list is redrawn after each reply, and it grows by a conversation every
    # `per_conversation` replies: its share of each reply is measured apart.
    listing: list[float] = []
    show_entries = Sidebar.show_entries

    def timed_show_entries(self: Sidebar, entries: Any, **options: Any) -> None:
        began = time.process_time()
        show_entries(self, entries, **options)
        listing.append(time.process_time() - began)

    Sidebar.show_entries = timed_show_entries  # type: ignore[method-assign]
    app = real_app()
    windows: list[dict[str, float]] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await settled(app)
        rss_start = current_rss_mb()
        print(f"start: RSS {rss_start:.1f} MB", flush=True)
        times: list[float] = []
        cpu: list[float] = []
        list_cpu: list[float] = []
        for number in range(1, args.replies + 1):
            if number > 1 and (number - 1) % args.per_conversation == 0:
                await pilot.press("ctrl+n")
                await until(lambda: not screen.conversation.messages, 30, "a new conversation")
            sent = len(screen.conversation.messages)
            screen.composer.focus()
            screen.composer.set_text(f"Question {number}: how is a streamed reply drawn?")
            # As the terminal driver delivers a key: Pilot.press would also wait for the app to
            # go idle, which is the reply itself.
            enter = events.Key("enter", "\r")
            enter.set_sender(app)
            listing.clear()
            began, began_cpu = time.perf_counter(), time.process_time()
            app._driver.send_message(enter)

            def done(count: int = sent + 2) -> bool:
                messages = screen.conversation.messages
                return (
                    len(messages) == count
                    and messages[-1].finish_reason is not None
                    and not screen.streaming
                    and not screen.pane.repaint_pending
                )

            await until(done, 120, f"reply {number}")
            times.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            list_cpu.append(sum(listing))
            if number % args.every == 0:
                window = {
                    "first": number - args.every + 1,
                    "last": number,
                    "mean_s": round(statistics.mean(times[-args.every :]), 4),
                    "cpu_s": round(statistics.mean(cpu[-args.every :]), 4),
                    "list_cpu_s": round(statistics.mean(list_cpu[-args.every :]), 4),
                    "listed": screen.sidebar.option_list.option_count,
                    "rss_mb": round(current_rss_mb(), 1),
                }
                windows.append(window)
                print(
                    f"replies {window['first']}-{window['last']}: "
                    f"{window['mean_s'] * 1000:.0f} ms per reply ({window['cpu_s'] * 1000:.0f} ms"
                    f" CPU, {window['list_cpu_s'] * 1000:.0f} ms of it redrawing the list of"
                    f" {window['listed']}), RSS {window['rss_mb']:.1f} MB",
                    flush=True,
                )
    emit({"rss_start_mb": round(rss_start, 1), "windows": windows})


# --------------------------------------------------------------------------- tokens
def count(args: argparse.Namespace) -> None:
    """The wall-clock time of the first exact count in a fresh process (encodings offline):
    with --app, the first frame of the real app whose status bar shows an exact count."""
    if args.app:
        meter = FrameMeter().install()
        result: dict[str, Any] = {}

        def on_frame(app_: App[Any]) -> None:
            screen = chat_screen(app_)
            if (
                screen is not None
                and not result
                and not screen.live_figures.figures.counts_approximate
            ):
                result.update(exact_wall=time.time(), approximate=False)
                app_.exit()

        meter.listeners.append(on_frame)
        real_app().run(headless=True, size=SIZE)
        emit(result)
        return
    from tui_chat.engine.tokens import TokenCounter

    counter = TokenCounter()
    counter.load()
    counted = counter.count_text("gpt-4o-mini", "How many tokens is this?")
    emit({"exact_wall": time.time(), "approximate": counted.approximate})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=["startup", "first", "stream", "keys", "open", "count", "session"]
    )
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--app", action="store_true")
    parser.add_argument("--whole", action="store_true")
    parser.add_argument("--tokens", type=int, default=8000)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--width", type=int, default=SIZE[0])
    parser.add_argument("--height", type=int, default=SIZE[1])
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--id", default="")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--typing", type=float, default=3.0)
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--per-conversation", type=int, default=10)
    args = parser.parse_args()
    commands = {"startup": startup, "first": first, "stream": stream, "keys": keys}
    commands.update({"open": open_big, "count": count, "session": session})
    commands[args.what](args)


if __name__ == "__main__":
    main()

"""The chat screen's helpers, each tried alone: a bare app holds only the widgets a helper is
given, so what it does is seen without the rest of the screen."""

from __future__ import annotations

import threading
from pathlib import Path

from app_harness import data_paths, make_app, plant, wait_for
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from tui_chat.domain.conversation import Conversation
from tui_chat.engine.local_servers import KNOWN_LOCAL_SERVERS, LocalServer
from tui_chat.storage.last_open import LastOpen
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.background import ThreadWork
from tui_chat.ui.screens.chat_figures import LiveFigures
from tui_chat.ui.screens.chat_first_run import FirstRun
from tui_chat.ui.screens.chat_listing import ConversationListing
from tui_chat.ui.screens.chat_search import MessageSearch
from tui_chat.ui.services import Services
from tui_chat.ui.theme_colors import derive_app_variables
from tui_chat.ui.widgets.message_pane import MessagePane
from tui_chat.ui.widgets.sidebar import Sidebar
from tui_chat.ui.widgets.status_bar import StatusBar

NO_SERVER = "http://127.0.0.1:9/v1"  # nothing is asked of it: these helpers do not send


class Holder(App[None]):
    """A bare app holding the widgets one helper is given."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self.held = widgets

    def compose(self) -> ComposeResult:
        yield from self.held

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # The widgets' own TCSS uses tui-chat's variables, as the real app provides them.
        return derive_app_variables(self.current_theme)


class Notes:
    """The toasts a helper raised, as its `notify`."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def __call__(self, message: str, **_: object) -> None:
        self.said.append(message)


def services(tmp_path: Path, base_url: str = NO_SERVER, **profile: object) -> Services:
    return make_app(tmp_path, base_url, **profile).services


async def test_thread_work_hands_results_back_on_the_event_loop() -> None:
    app = Holder()
    arrived: list[tuple[str, bool]] = []
    async with app.run_test() as pilot:
        threads = ThreadWork(app.screen)
        loop_thread = threading.get_ident()

        def job() -> None:
            on_loop = threading.get_ident() == loop_thread
            threads.to_ui(lambda: arrived.append(("done", on_loop)))

        def record(what: str) -> None:
            arrived.append((what, threading.get_ident() == loop_thread))

        threads.start(job, group="test")
        threads.start(lambda: threads.to_ui(record, "result"), group="other")
        await wait_for(pilot, lambda: len(arrived) == 2, what="both results")
    # The jobs ran off the loop; what they handed back ran on it.
    assert sorted(arrived) == [("done", False), ("result", True)]


async def test_a_job_replaced_in_its_group_hands_nothing_back() -> None:
    app = Holder()
    handed_back: list[str] = []
    async with app.run_test() as pilot:
        threads = ThreadWork(app.screen)
        second_started = threading.Event()

        def job(name: str, wait_for_the_next: bool) -> None:
            if wait_for_the_next:
                second_started.wait(timeout=10)
            if not threads.cancelled():
                threads.to_ui(handed_back.append, name)

        threads.start(lambda: job("older", True), group="list", exclusive=True)
        threads.start(lambda: job("newer", False), group="list", exclusive=True)
        second_started.set()
        await wait_for(pilot, lambda: not any(w.is_running for w in app.workers), what="jobs")
    assert handed_back == ["newer"]


async def test_live_figures_count_the_draft_off_the_loop_and_show_it(tmp_path: Path) -> None:
    bar = StatusBar()
    app = Holder(bar)
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    async with app.run_test() as pilot:
        counted_by = services(tmp_path)
        figures = LiveFigures(
            counted_by, bar, ThreadWork(app.screen), Notes(), lambda: conversation
        )
        text = "four words right here"
        expected = counted_by.counter.count_draft(conversation.model, text).text_tokens
        figures.count_composer(text)
        await wait_for(pilot, lambda: bar.figures.composer_tokens == expected, what="the count")
        assert figures.figures is bar.figures
        figures.count_composer("")  # emptied: nothing to count, at once
        assert bar.figures.composer_tokens == 0


def test_a_digit_picks_an_offered_server_only_over_an_empty_or_refused_composer(
    tmp_path: Path,
) -> None:
    conversation = Conversation.new(profile="test", model="gpt-4o-mini")
    notes = Notes()
    first_run = FirstRun(
        # OpenAI's server needs a key (a local one would not); nothing is sent to it.
        services(tmp_path, "https://api.openai.com/v1", api_key=None),
        ThreadWork(Widget()),
        notes,
        lambda: conversation,
        hints_changed=lambda: None,
        withdraw=lambda notice: None,
    )
    assert first_run.lacks_api_key()
    first_run.local_servers.found = [LocalServer(KNOWN_LOCAL_SERVERS[0], "127.0.0.1", ("llama3",))]
    assert first_run.digit_picks_a_server(1, "")
    assert not first_run.digit_picks_a_server(2, "")  # one server offered: 2 is typed
    assert not first_run.digit_picks_a_server(1, "my own words")
    assert first_run.refuse_without_api_key("my own words")
    assert "press 1 for Ollama at 127.0.0.1:11434" in notes.said[-1]
    # The composer still holds just the refused text: the digit picks rather than types.
    assert first_run.digit_picks_a_server(1, "my own words")
    assert any("press 1 to use it" in hint.text for hint in first_run.hints())


def test_the_blank_of_start_up_keeps_the_note_of_the_last_open_conversation(
    tmp_path: Path,
) -> None:
    paths = data_paths(tmp_path)
    last_open = LastOpen(paths.cache_dir)
    last_open.write("opened-last-time")
    listing = ConversationListing(
        ConversationStore(paths),
        last_open,
        Sidebar(),
        ThreadWork(Widget()),
        Notes(),
        open_id=lambda: "blank",
        open_at_start=lambda conversation_id, quiet: None,
        reopen=lambda: None,
        background_work=lambda: None,
    )
    blank = Conversation.new(profile="test", model="gpt-4o-mini")
    listing.remember_open(blank)  # quit before the start-up open landed
    assert last_open.read() == "opened-last-time"
    listing.user_chose()  # ctrl+n: the new conversation is the user's
    listing.remember_open(blank)
    assert last_open.read() == blank.id


async def test_search_gives_the_pane_the_open_conversations_hits(tmp_path: Path) -> None:
    found = plant(tmp_path, "hello", "a needle here", "nothing", "needle again")
    sidebar, pane = Sidebar(), MessagePane()
    app = Holder(sidebar, pane, Static())
    async with app.run_test() as pilot:
        search = MessageSearch(
            ConversationStore(data_paths(tmp_path)),
            sidebar,
            pane,
            ThreadWork(app.screen),
            Notes(),
            open_id=lambda: found.id,
        )
        search.search("needle")
        await wait_for(pilot, lambda: pane.search_hits == [1, 3], what="the hits")
        assert search.opens_at_a_hit(found.id)
        assert not search.opens_at_a_hit("another")
        search.forget()  # Esc out of the results: n / N have nothing to visit
        assert pane.search_hits == []

"""The conversation list on its own: long lists stay cheap, and the filter still finds anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from tui_chat.storage.search import Hit, SearchResult
from tui_chat.ui.widgets.sidebar import MAX_LISTED, Sidebar, search_result_prompt


@dataclass
class Entry:
    id: str
    title: str
    updated: datetime | None
    model: str = "gpt-4o-mini"
    message_count: int = 2
    pinned: bool = False
    error: str | None = None


class SidebarApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.searches_left = 0

    def compose(self) -> ComposeResult:
        yield Sidebar()

    def on_sidebar_search_left(self) -> None:
        self.searches_left += 1


def found(conversation_id: str, title: str, *message_indexes: int) -> SearchResult:
    hits = tuple(Hit(i, f"the word in message {i}", 4, 8) for i in message_indexes)
    return SearchResult(conversation_id, title, None, hits)


async def test_a_long_list_shows_the_newest_and_the_filter_reaches_the_rest() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    entries = [
        Entry(id=f"id{i:05d}", title=f"chat number {i}", updated=start - timedelta(minutes=i))
        for i in range(MAX_LISTED + 500)
    ]
    app = SidebarApp()
    async with app.run_test(size=(60, 30)) as pilot:
        sidebar = app.query_one(Sidebar)
        sidebar.show_entries(entries)
        await pilot.pause()
        option_list = sidebar.option_list
        assert option_list.option_count == MAX_LISTED + 1
        last = option_list.get_option_at_index(MAX_LISTED)
        assert last.disabled and "500 more" in str(last.prompt)
        sidebar.filter_input.value = "number 777"
        await pilot.pause()
        assert option_list.option_count == 1
        assert option_list.get_option_at_index(0).id == "id00777"


async def test_the_head_of_a_long_list_counts_all_and_is_not_rebuilt_when_unchanged() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    everything = [
        Entry(id=f"id{i:05d}", title=f"chat {i}", updated=start - timedelta(minutes=i))
        for i in range(10_000)
    ]
    head = everything[:MAX_LISTED]
    app = SidebarApp()
    async with app.run_test(size=(60, 30)) as pilot:
        sidebar = app.query_one(Sidebar)
        sidebar.show_entries(head, count=10_000)  # drawn from the index cache at start-up
        await pilot.pause()
        option_list = sidebar.option_list
        assert sidebar.border_title == "Conversations (10,000)"
        assert "9,700 more" in str(option_list.get_option_at_index(MAX_LISTED).prompt)
        first = option_list.get_option_at_index(0)
        sidebar.show_progress(250, 10_000)  # some files were read again...
        assert sidebar.border_title == "Reading 250/10,000"
        sidebar.show_entries(everything)  # ...and the check found nothing new
        await pilot.pause()
        assert option_list.get_option_at_index(0) is first  # options kept, not rebuilt
        assert sidebar.border_title == "Conversations (10,000)"
        sidebar.filter_input.value = "chat 9999"  # the filter reaches the whole checked list
        await pilot.pause()
        assert [option_list.get_option_at_index(0).id] == ["id09999"]
        sidebar.filter_input.value = ""
        await pilot.pause()
        sidebar.show_entries(everything[1:])  # the first file was gone
        await pilot.pause()
        assert option_list.get_option_at_index(0).id == "id00001"
        assert sidebar.border_title == "Conversations (9,999)"


async def test_search_results_outlast_a_list_reload_but_not_a_deleted_conversation() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    entries = [
        Entry(id=f"id{i}", title=f"chat {i}", updated=start - timedelta(minutes=i))
        for i in range(6)
    ]
    results = [found("id1", "chat 1", 0, 2), found("id3", "chat 3", 1), found("id4", "chat 4", 0)]
    app = SidebarApp()
    async with app.run_test(size=(60, 30)) as pilot:
        sidebar = app.query_one(Sidebar)
        option_list = sidebar.option_list
        sidebar.show_entries(entries)
        sidebar.show_search_results(results)
        await pilot.pause()

        def rows() -> list[str | None]:
            return [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]

        assert rows() == ["id1", "id3", "id4"] and sidebar.searching
        option_list.highlighted = 1
        sidebar.show_entries(entries)  # a save or a poll re-read the folder
        await pilot.pause()
        assert rows() == ["id1", "id3", "id4"] and sidebar.searching
        sidebar.show_entries([e for e in entries if e.id != "id3"])  # `d` on the second result
        await pilot.pause()
        assert rows() == ["id1", "id4"] and sidebar.highlighted_id == "id4"
        assert sidebar.border_title == "Search: 2 found"
        assert app.searches_left == 0
        sidebar.clear_filter(current_id="id5")  # Esc: the list, on the open conversation
        await pilot.pause()
        assert not sidebar.searching and app.searches_left == 1
        assert option_list.option_count == 5 and sidebar.highlighted_id == "id5"
        sidebar.show_search_results(results, more=True)  # the newest of more that matched
        assert sidebar.border_title == "Search: 3+ found"


def test_a_result_row_counts_its_hits_and_shows_no_control_characters() -> None:
    title_hit = Hit(None, "Ferris \u241b[2J", 0, 6)  # snippets come neutralised from storage
    message_hit = Hit(3, "…about ferris the crab", 7, 13)
    both = SearchResult("a", "Ferris \x1b[2J", None, (title_hit, message_hit))
    assert str(search_result_prompt(both)).splitlines() == [
        "Ferris ␛[2J",
        "2 hits: …about ferris the crab",
    ]
    only_title = SearchResult("b", "Ferris", None, (Hit(None, "Ferris", 0, 6),))
    assert str(search_result_prompt(only_title)).splitlines() == ["Ferris", "1 hit, in the title"]
    evil_title = SearchResult("c", "bad\x1b]52;c;aGk=\x07 title", None, (message_hit,))
    first_line = str(search_result_prompt(evil_title)).splitlines()[0]
    assert "\x1b" not in first_line and "\x07" not in first_line

"""The conversation list on its own: long lists stay cheap, and the filter still finds anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from tui_chat.ui.widgets.sidebar import MAX_LISTED, Sidebar


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
    def compose(self) -> ComposeResult:
        yield Sidebar()


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

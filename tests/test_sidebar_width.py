"""On a narrow terminal the sidebar steps aside for the messages; ctrl+b brings it back."""

from __future__ import annotations

from pathlib import Path

from app_harness import chat, make_app, wait_for
from openai_server import FakeOpenAIServer

from tui_chat.domain import Conversation, Message
from tui_chat.paths import AppPaths
from tui_chat.storage.store import ConversationStore
from tui_chat.ui.screens.chat_layout import SIDEBAR_MIN_COLUMNS, SidebarPlacement


def seed(tmp_path: Path, titles: list[str]) -> None:
    store = ConversationStore(
        AppPaths(config_file=tmp_path / "config" / "config.toml", data_dir=tmp_path / "data")
    )
    for n, title in enumerate(titles):
        conversation = Conversation(id=f"20261120-09000{n}-abcd", title=title)
        conversation.add(Message("user", f"question about {title}"))
        conversation.add(Message("assistant", f"answer about {title}", finish_reason="stop"))
        store.save(conversation)


async def test_at_40_columns_the_messages_get_the_width_and_ctrl_b_shows_the_list(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    seed(tmp_path, ["first", "second", "third"])
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(40, 24)) as pilot:
        screen = chat(app)
        sidebar = screen.sidebar
        await wait_for(pilot, lambda: sidebar.option_list.option_count == 3, what="the list")
        await wait_for(pilot, lambda: screen.conversation.messages != [], what="one open")
        assert not sidebar.display
        assert screen.pane.size.width >= 36  # was 13 beside a 26-column sidebar

        await pilot.press("ctrl+b")  # to choose another conversation
        await wait_for(pilot, lambda: sidebar.display and sidebar.size.width > 0, what="shown")
        assert sidebar.option_list.has_focus
        chosen = next(
            sidebar.option_list.get_option_at_index(i).id
            for i in range(3)
            if sidebar.option_list.get_option_at_index(i).id != screen.conversation.id
        )
        assert chosen is not None
        sidebar.select_conversation(chosen)
        await pilot.press("enter")  # opened: the list steps aside again
        await wait_for(pilot, lambda: screen.conversation.id == chosen, what="opened")
        assert not sidebar.display and screen.composer.has_focus

        assert screen.has_class("-narrow")  # from the first frame on
        await pilot.resize_terminal(100, 24)  # wider: the sidebar is back
        await wait_for(pilot, lambda: sidebar.display, what="shown when wide")
        assert screen.has_class("-normal") and not screen.has_class("-narrow")
        await pilot.resize_terminal(40, 24)
        await wait_for(pilot, lambda: not sidebar.display, what="hidden when narrow")
        assert screen.has_class("-narrow") and not screen.has_class("-normal")
        assert screen.composer.has_focus


async def test_a_sidebar_hidden_with_ctrl_b_stays_hidden_when_the_terminal_widens(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = chat(app).sidebar
        await pilot.press("ctrl+b")
        assert not sidebar.display
        await pilot.resize_terminal(40, 24)
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        assert not sidebar.display  # the user's choice, not the width's
        await pilot.press("ctrl+b")
        assert sidebar.display


def test_the_sidebar_rules_by_width() -> None:
    placement = SidebarPlacement()
    assert placement.fit(80)
    assert not placement.fit(SIDEBAR_MIN_COLUMNS - 1)
    assert placement.toggle()  # ctrl+b while narrow shows it
    assert not placement.conversation_opened()  # and it steps aside once one is chosen
    assert placement.toggle()
    assert placement.fit(SIDEBAR_MIN_COLUMNS)  # widening keeps it (shown at usual widths)
    assert not placement.fit(40)  # narrowing again hides it

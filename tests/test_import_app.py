"""Imported conversations in the app: listed in the sidebar, found by search, opened as
finished conversations (never marked interrupted)."""

from __future__ import annotations

from pathlib import Path

from app_harness import chat, make_app, wait_for, wait_until_idle
from import_harness import FIXTURES, linear, run_import, write_export
from openai_server import FakeOpenAIServer


async def test_imported_conversations_are_listed_found_by_search_and_open_finished(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    export = write_export(
        tmp_path / "export.zip",
        [
            linear("c-1", "Sourdough starter", ["How do I feed it?", "Flour and water, daily."]),
            linear("c-2", None, ["Untitled question", "An answer with ZEBRAFISH in it."]),
        ],
    )
    assert run_import(tmp_path / "data", str(export)).code == 0
    assert run_import(tmp_path / "data", str(FIXTURES / "elia.sqlite")).code == 0
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        sidebar = screen.sidebar
        option_list = sidebar.option_list
        await wait_for(pilot, lambda: option_list.option_count == 4, what="the imported list")
        prompts = [str(option_list.get_option_at_index(i).prompt) for i in range(4)]
        for title in ("Sourdough starter", "Untitled question", "Line endings"):
            assert any(title in prompt for prompt in prompts), prompts
        option_list.focus()
        await pilot.press("slash", *"ZEBRAFISH", "enter")  # text only in an imported reply
        await wait_for(
            pilot,
            lambda: sidebar.searching and option_list.option_count == 1,
            what="search results",
        )
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: screen.conversation.title == "Untitled question", what="opened"
        )
        await wait_until_idle(pilot)
        shown = "\n".join(screen.pane.visible_text())
        assert "ZEBRAFISH" in shown
        assert "interrupted" not in shown
        assert all(m.finish_reason in (None, "stop") for m in screen.conversation.messages)

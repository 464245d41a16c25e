"""Every way a request can fail becomes one sentence saying what happened and what to do."""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import replace

import pytest
from openai_server import FakeOpenAIServer, Script

from tui_chat.engine.client import ChatClient
from tui_chat.engine.errors import ChatError
from tui_chat.engine.events import StreamFailed, TextDelta


def assert_one_sentence(error: ChatError) -> None:
    assert error.message == str(error)
    assert error.message.endswith(".")
    assert "\n" not in error.message
    assert "<" not in error.message  # no HTML or repr leaking through
    assert "Traceback" not in error.message


async def test_no_api_key_for_openai_says_which_variable_to_set(chat, openai_server, monkeypatch):
    monkeypatch.delenv("TUI_CHAT_TEST_API_KEY")
    client = ChatClient(chat.profile(base_url=None, api_key_env="TUI_CHAT_TEST_API_KEY"))
    chat.clients.append(client)

    events = await chat.events(client=client)

    error = events[-1].error
    assert error.kind == "no_api_key"
    assert "TUI_CHAT_TEST_API_KEY" in error.message
    assert "api.openai.com" in error.message
    assert_one_sentence(error)
    assert openai_server.requests == []


async def test_bad_key_401_shows_only_the_last_four_characters(chat, openai_server, api_key):
    # The server echoes the key it received, as some servers do.
    openai_server.required_key = "sk-the-right-key-000000000000"

    error = await chat.error()

    assert error.kind == "auth"
    assert error.status == 401
    assert api_key not in error.message
    assert "…" + api_key[-4:] in error.message
    assert_one_sentence(error)


async def test_403_says_access_is_refused(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=403,
            error_message="Project does not have access to model gpt-4o-mini",
            error_type="invalid_request_error",
            error_code="model_not_found",
        )
    )

    error = await chat.error()

    assert error.kind == "forbidden"
    assert "gpt-4o-mini" in error.message
    assert_one_sentence(error)


async def test_unknown_model_404_names_the_model(chat, openai_server):
    openai_server.strict_models = True

    error = await chat.error(chat.conversation("hi", model="gpt-17-ultra"))

    assert error.kind == "not_found"
    assert "gpt-17-ultra" in error.message
    assert_one_sentence(error)


async def test_base_url_without_v1_is_pointed_out(chat, openai_server):
    events = await chat.events(
        client=chat.client(base_url=openai_server.base_url.removesuffix("/v1"))
    )

    error = events[-1].error
    assert error.kind == "not_found"
    assert "/v1" in error.message


async def test_context_length_exceeded_says_how_many_tokens_are_over(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=400,
            error_code="context_length_exceeded",
            error_param="messages",
            error_message="This model's maximum context length is 128000 tokens. However, your "
            "messages resulted in 130532 tokens. Please reduce the length of the messages.",
        )
    )

    error = await chat.error()

    assert error.kind == "context_length"
    assert error.over_by_tokens == 2532
    assert error.context_window == 128000
    assert "2,532 tokens over" in error.message
    assert "drop the oldest messages" in error.message
    assert_one_sentence(error)


async def test_llama_cpp_context_overflow_fields_are_understood(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=400,
            error_type="exceed_context_size_error",
            error_code=400,
            error_message="the request exceeds the available context size, try increasing it",
            error_extra={"n_prompt_tokens": 5000, "n_ctx": 4096},
        )
    )

    error = await chat.error()

    assert error.kind == "context_length"
    assert error.over_by_tokens == 904


async def test_unsupported_parameter_names_the_parameter(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=400,
            error_code="unsupported_parameter",
            error_param="temperature",
            error_message="Unsupported parameter: 'temperature' is not supported.",
        )
    )

    error = await chat.error()

    assert error.kind == "unsupported_parameter"
    assert error.param == "temperature"
    assert "'temperature'" in error.message
    assert_one_sentence(error)


async def test_rate_limit_says_when_to_retry_from_retry_after(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=429,
            retry_after="7",
            error_type="requests",
            error_code="rate_limit_exceeded",
            error_message="Rate limit reached.",
        )
    )

    error = await chat.error()

    assert error.kind == "rate_limit"
    assert error.retry_after == 7.0
    assert error.retryable
    assert "in 7 s" in error.message
    assert_one_sentence(error)


async def test_rate_limit_without_header_reads_the_wait_from_the_message(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=429,
            error_code="rate_limit_exceeded",
            error_message="Rate limit reached for gpt-4o-mini. Please try again in 20ms.",
        )
    )

    error = await chat.error()

    assert error.retry_after == pytest.approx(0.02)
    assert "send again in a second" in error.message


async def test_spent_quota_is_not_retried_and_says_to_check_billing(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=429,
            error_type="insufficient_quota",
            error_code="insufficient_quota",
            error_message="You exceeded your current quota.",
            headers={"retry-after-ms": "10"},
        ),
        Script(
            status=429,
            error_type="insufficient_quota",
            error_code="insufficient_quota",
            error_message="You exceeded your current quota.",
            headers={"retry-after-ms": "10"},
        ),
    )

    error = await chat.error(max_retries=1)

    assert error.kind == "quota"
    assert not error.retryable
    assert "billing" in error.message
    assert len(openai_server.chat_requests) == 1  # the SDK's pointless retry was refused


async def test_server_error_5xx_is_retryable(chat, openai_server):
    openai_server.enqueue(
        Script(status=500, error_type="server_error", error_message="The server had an error.")
    )

    error = await chat.error()

    assert error.kind == "server"
    assert error.status == 500
    assert error.retryable
    assert_one_sentence(error)


async def test_a_profile_sets_how_often_a_failed_request_is_retried(chat, openai_server):
    failure = Script(status=503, error_message="Overloaded.", headers={"retry-after-ms": "10"})
    openai_server.enqueue(failure, failure, failure)
    patient = ChatClient(chat.profile(max_retries=2))
    chat.clients.append(patient)

    error = await chat.error(client=patient)

    assert error.kind == "server"
    assert len(openai_server.chat_requests) == 3  # the first try and two retries
    openai_server.reset()
    openai_server.enqueue(failure, failure)
    impatient = ChatClient(chat.profile(max_retries=0))
    chat.clients.append(impatient)
    await chat.error(client=impatient)
    assert len(openai_server.chat_requests) == 1


async def test_html_error_page_from_a_proxy_is_not_quoted(chat, openai_server):
    openai_server.enqueue(
        Script(
            status=502,
            raw_body="<html><head><title>502 Bad Gateway</title></head>"
            "<body><center>nginx</center></body></html>",
            content_type="text/html",
        )
    )

    error = await chat.error()

    assert error.kind == "server"
    assert error.status == 502
    assert "nginx" not in error.message
    assert_one_sentence(error)


async def test_error_body_that_is_not_json_is_shown_as_text(chat, openai_server):
    openai_server.enqueue(
        Script(status=400, raw_body="Bad things happened", content_type="text/plain")
    )

    error = await chat.error()

    assert error.kind == "bad_request"
    assert "Bad things happened" in error.message


async def test_connection_refused_names_the_base_url(chat):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"

    events = await chat.events(client=chat.client(base_url=base_url))

    error = events[-1].error
    assert error.kind == "connection"
    assert base_url in error.message
    assert "refused" in error.message
    assert_one_sentence(error)


async def test_unknown_host_is_reported_as_a_name_lookup_failure(chat):
    events = await chat.events(client=chat.client(base_url="http://no-such-host.invalid/v1"))

    error = events[-1].error
    assert error.kind == "connection"
    assert "host name was not found" in error.message


async def test_untrusted_tls_certificate_says_how_to_trust_a_proxy(chat, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FakeOpenAIServer(tls=context) as server:
        events = await chat.events(client=chat.client(base_url=server.base_url))

    error = events[-1].error
    assert error.kind == "connection"
    assert "SSL_CERT_FILE" in error.message
    assert_one_sentence(error)


async def test_no_answer_in_time_is_a_timeout(chat, openai_server):
    openai_server.enqueue(Script(delay_before_response=3))

    error = await chat.error(request_timeout=0.3)

    assert error.kind == "timeout"
    assert "request_timeout" in error.message
    assert_one_sentence(error)


async def test_stall_mid_stream_times_out_and_keeps_the_text(chat, openai_server):
    client = chat.client(request_timeout=0.3)
    # A first request imports openai and warms the SDK, which on a busy machine takes longer
    # than this short timeout: this test is about a stall, so it starts warm.
    openai_server.enqueue(
        Script(text="warm"), Script(text="Started and then", stall_after_chunks=2)
    )
    await chat.events(client=client)

    events = await chat.events(client=client)

    assert chat.text(events) == "Started "
    assert events[-1].error.kind == "timeout"


async def test_connection_dropped_mid_stream_keeps_the_text(chat, openai_server):
    openai_server.enqueue(Script(text="Half a reply and then", cut_after_chunks=3))

    events = await chat.events()

    assert chat.text(events) == "Half a reply"
    assert events[-1].error.kind == "stream_cut"
    assert_one_sentence(events[-1].error)


async def test_captive_portal_page_with_status_200(chat, openai_server):
    openai_server.enqueue(
        Script(
            raw_body="<!DOCTYPE html><html><title>Hotel Wi-Fi login</title></html>",
            content_type="text/html",
        )
    )

    error = await chat.error()

    assert error.kind == "bad_response"
    assert "captive portal" in error.message
    assert_one_sentence(error)


async def test_plain_text_page_with_status_200_is_not_taken_for_an_empty_reply(chat, openai_server):
    openai_server.enqueue(Script(raw_body="Please log in to continue.", content_type="text/plain"))

    error = await chat.error()

    assert error.kind == "bad_response"
    assert "not an OpenAI-compatible stream" in error.message


async def test_sse_with_a_wrong_content_type_is_still_read(chat, openai_server):
    body = (
        'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m",'
        '"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
        'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m",'
        '"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    )
    openai_server.enqueue(Script(raw_body=body, content_type="text/plain"))

    events = await chat.events()

    assert chat.text(events) == "Hi"
    assert events[-1].reason == "stop"


async def test_malformed_stream_line_keeps_the_text_before_it(chat, openai_server):
    openai_server.enqueue(Script(text="Good so far", malformed_after_chunks=2))

    events = await chat.events()

    assert chat.text(events) == "Good so "
    assert events[-1].error.kind == "bad_response"
    assert_one_sentence(events[-1].error)


async def test_error_event_inside_the_stream(chat, openai_server):
    openai_server.enqueue(
        Script(
            text="Some text",
            error_after_chunks=1,
            error_type="server_error",
            error_message="The model is overloaded",
        )
    )

    events = await chat.events()

    assert chat.text(events) == "Some"
    assert events[-1].error.kind == "server"
    assert "overloaded" in events[-1].error.message


async def test_json_error_body_with_status_200(chat, openai_server):
    openai_server.enqueue(
        Script(
            raw_body='{"error": {"message": "Invalid model name passed", "type": "x"}}',
            content_type="application/json",
        )
    )

    error = await chat.error()

    assert error.kind == "server"
    assert "Invalid model name passed" in error.message
    assert_one_sentence(error)


async def test_context_error_inside_the_stream_is_still_a_context_error(chat, openai_server):
    openai_server.enqueue(
        Script(
            text="x",
            error_after_chunks=0,
            error_code="context_length_exceeded",
            error_message="maximum context length is 8192 tokens. However, "
            "you requested 9000 tokens",
        )
    )

    error = await chat.error()

    assert error.kind == "context_length"
    assert error.over_by_tokens == 808


ALL_FAILURES = [
    Script(status=401, error_message="Incorrect API key provided: {key}."),
    Script(status=403, error_message="Key {key} may not use this model."),
    Script(status=404, error_message="The model does not exist for key {key}."),
    Script(
        status=400,
        error_code="context_length_exceeded",
        error_message="maximum context length is 10 tokens, you requested 20 tokens ({key})",
    ),
    Script(status=400, error_message="Invalid request from {key}."),
    Script(
        status=400,
        error_code="unsupported_parameter",
        error_param="top_p",
        error_message="top_p unsupported for {key}",
    ),
    Script(status=429, error_message="Slow down, {key}."),
    Script(status=429, error_code="insufficient_quota", error_message="{key} has no quota."),
    Script(status=500, error_message="Internal error for {key}."),
    Script(status=503, raw_body="<html><title>{key}</title></html>", content_type="text/html"),
    Script(status=418, raw_body="I am a teapot, {key}"),
    Script(raw_body="<html>{key}</html>", content_type="text/html"),
    Script(text="abcdefgh", error_after_chunks=1, error_message="Stream broke for {key}."),
    Script(text="abcdefgh", malformed_after_chunks=1),
    Script(text="abcdefgh", cut_after_chunks=1),
]


async def test_the_api_key_never_appears_in_any_error_message(chat, openai_server, api_key):
    messages = []
    for template in ALL_FAILURES:
        script = replace(
            template,
            error_message=template.error_message.format(key=api_key),
            raw_body=template.raw_body.format(key=api_key) if template.raw_body else None,
        )
        openai_server.enqueue(script)
        events = await chat.events()
        assert isinstance(events[-1], StreamFailed), script
        messages.append(events[-1].error.message)

    assert len(messages) == len(ALL_FAILURES)
    leaked = [m for m in messages if api_key in m or api_key[:-4] in m]
    assert leaked == []


async def test_text_already_shown_is_never_followed_by_an_exception(chat, openai_server):
    openai_server.enqueue(Script(text="abcdefgh", cut_after_chunks=1))

    events = await chat.events()

    assert isinstance(events[0], TextDelta)
    assert isinstance(events[-1], StreamFailed)


async def test_server_messages_cannot_smuggle_terminal_escapes(chat, openai_server):
    openai_server.enqueue(
        Script(status=400, error_message="Bad \x1b]0;pwned\x07request\x1b[2J\nsecond line")
    )

    error = await chat.error()

    assert "\x1b" not in error.message
    assert "\x07" not in error.message
    assert "\n" not in error.message

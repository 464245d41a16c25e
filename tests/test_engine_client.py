"""API keys, request parameters per model family, and the model list."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fresh_python import fresh_python_output

from tui_chat.config import Profile
from tui_chat.engine.api_keys import resolve_api_key
from tui_chat.engine.client import PLACEHOLDER_API_KEY, ChatClient
from tui_chat.engine.errors import ChatError
from tui_chat.engine.servers import is_reasoning_model

# --- keys -----------------------------------------------------------------------------------


def test_inline_key_wins_over_command_and_environment(monkeypatch):
    monkeypatch.setenv("MY_KEY", "from-env")
    profile = Profile(
        name="p", api_key="inline-key", api_key_command="echo from-command", api_key_env="MY_KEY"
    )

    assert resolve_api_key(profile) == "inline-key"


def test_key_command_output_is_used_before_the_environment(monkeypatch):
    monkeypatch.setenv("MY_KEY", "from-env")
    profile = Profile(name="p", api_key_command="printf '  from-command\\n'", api_key_env="MY_KEY")

    assert resolve_api_key(profile) == "from-command"


def test_environment_variable_is_the_last_resort(monkeypatch):
    monkeypatch.setenv("MY_KEY", "from-env")

    assert resolve_api_key(Profile(name="p", api_key_env="MY_KEY")) == "from-env"
    assert resolve_api_key(Profile(name="p", api_key_env="NOT_SET_ANYWHERE_42")) is None


def test_failing_key_command_is_a_clear_error():
    profile = Profile(name="work", api_key_command="echo 'vault is locked' >&2; exit 3")

    with pytest.raises(ChatError) as caught:
        resolve_api_key(profile)

    assert caught.value.kind == "api_key_command"
    assert "profile 'work'" in caught.value.message
    assert "exit status 3" in caught.value.message
    assert "vault is locked" in caught.value.message


def test_hanging_key_command_is_stopped_at_its_time_limit_with_its_children(tmp_path):
    pid_file = tmp_path / "pid"
    profile = Profile(
        name="work",
        api_key_command=f"sleep 30 & echo $! > {pid_file}; wait",
        api_key_command_timeout=0.3,  # config.toml: how long a password manager may take
    )

    with pytest.raises(ChatError) as caught:
        resolve_api_key(profile)

    assert "did not finish within 0.3 s" in caught.value.message
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5  # SIGKILL is delivered asynchronously
    while is_running(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not is_running(child)


def is_running(pid: int) -> bool:
    """False for a process that is gone or a zombie (killed, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_key_command_printing_nothing_is_an_error():
    with pytest.raises(ChatError) as caught:
        resolve_api_key(Profile(name="p", api_key_command="true"))

    assert "printed no key" in caught.value.message


async def test_key_command_runs_once_per_client(chat, openai_server, tmp_path):
    runs = tmp_path / "runs"
    command = f"echo run >> {runs}; echo sk-from-command-0000"
    client = chat.client(api_key_command=command)

    await chat.events(client=client)
    await chat.events(client=client)

    assert runs.read_text().count("run") == 1
    assert openai_server.chat_requests[1].headers["authorization"] == "Bearer sk-from-command-0000"


async def test_key_command_failure_is_reported_as_a_stream_failure(chat, openai_server):
    events = await chat.events(client=chat.client(api_key_command="exit 1"))

    assert events[-1].error.kind == "api_key_command"
    assert openai_server.requests == []


async def test_local_server_without_a_key_gets_a_placeholder(chat, openai_server):
    client = ChatClient(chat.profile(api_key_env="NOT_SET_ANYWHERE_42"), max_retries=0)
    chat.clients.append(client)

    events = await chat.events(client=client)

    assert chat.text(events) == "You said: hello there"
    sent = openai_server.chat_requests[0].headers["authorization"]
    assert sent == f"Bearer {PLACEHOLDER_API_KEY}"


async def test_the_configured_key_is_sent_as_bearer_token(chat, openai_server, api_key):
    await chat.events()

    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {api_key}"


# --- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("o1", True),
        ("o1-mini", True),
        ("o3", True),
        ("o3-mini", True),
        ("o4-mini", True),
        ("gpt-5", True),
        ("gpt-5-mini", True),
        ("openai/gpt-5-nano", True),
        ("gpt-5-chat-latest", False),
        ("gpt-4o", False),
        ("gpt-4.1-mini", False),
        ("llama3.1:8b", False),
        ("omni-moderation-latest", False),
    ],
)
def test_reasoning_models_are_recognised_by_name(model, reasoning):
    assert is_reasoning_model(model) is reasoning


def test_openai_reasoning_model_gets_max_completion_tokens_and_no_temperature():
    client = ChatClient(Profile(name="openai", max_tokens=500, temperature=0.2), api_key="k")

    params = client.request_params("o4-mini", [{"role": "user", "content": "hi"}])

    assert params["max_completion_tokens"] == 500
    assert "max_tokens" not in params
    assert "temperature" not in params


def test_openai_chat_model_keeps_the_users_temperature():
    client = ChatClient(Profile(name="openai", max_tokens=500, temperature=0.2), api_key="k")

    params = client.request_params("gpt-4o", [{"role": "user", "content": "hi"}])

    assert params["temperature"] == 0.2
    assert params["max_tokens"] == 500


def test_sampling_parameters_are_sent_only_when_the_user_set_them():
    client = ChatClient(Profile(name="openai"), api_key="k")

    params = client.request_params("gpt-4o", [{"role": "user", "content": "hi"}])

    assert set(params) == {"model", "messages", "stream", "stream_options"}


async def test_reasoning_model_on_a_strict_server_is_accepted(chat, openai_server):
    client = chat.client(temperature=0.3)

    events = await chat.events(chat.conversation("hi", model="o3-mini"), client)

    assert chat.text(events) == "You said: hi"
    assert "temperature" not in openai_server.chat_requests[0].json


async def test_non_openai_server_gets_max_tokens_even_for_reasoning_names(chat, openai_server):
    # Ollama ignores max_completion_tokens; the test server, strict like OpenAI, then says which
    # parameter it rejects, and the message names it.
    client = chat.client(max_tokens=50)

    events = await chat.events(chat.conversation("hi", model="o3-mini"), client)

    assert openai_server.chat_requests[0].json["max_tokens"] == 50
    assert events[-1].error.kind == "unsupported_parameter"
    assert events[-1].error.param == "max_tokens"


# --- models -----------------------------------------------------------------------------------


async def test_models_merge_configured_ones_first_with_the_servers(chat, openai_server):
    openai_server.models = ["zeta-model", "gpt-4o-mini", "alpha-model"]
    client = chat.client(default_model="my-default", models=("gpt-4o-mini", "custom"))

    models = await client.list_models()

    assert models == ["my-default", "gpt-4o-mini", "custom", "alpha-model", "zeta-model"]


async def test_models_are_asked_once_per_client(chat, openai_server):
    client = chat.client()

    await client.list_models()
    await client.list_models()

    assert [r.path for r in openai_server.requests] == ["/v1/models"]


async def test_failed_model_listing_falls_back_to_configured_models(chat, openai_server):
    openai_server.models_status = 500
    client = chat.client(models=("gpt-4o-mini", "llama3.1:8b"))

    models = await client.list_models()

    assert models == ["gpt-4o-mini", "llama3.1:8b"]
    assert client.models_error is not None
    assert client.models_error.kind == "server"


async def test_a_model_list_that_does_not_come_in_time_says_how_long_it_waited(chat, openai_server):
    openai_server.hold_models()
    client = ChatClient(chat.profile(models=("house-model",)), models_timeout=0.5)
    chat.clients.append(client)

    models = await client.list_models()

    openai_server.release_models()
    assert models == ["house-model"]
    assert client.models_error is not None
    host = openai_server.base_url.removeprefix("http://").removesuffix("/v1")
    assert client.models_error.message == f"No model list from {host}: no answer within 0.5 s."


async def test_a_missing_models_endpoint_is_not_taken_for_a_missing_model(chat, openai_server):
    openai_server.models_status = 404
    client = chat.client()

    await client.list_models()

    assert client.models_error is not None
    assert client.models_error.kind == "not_found"
    assert "has no /models endpoint (404)" in client.models_error.message
    assert "no model named" not in client.models_error.message


async def test_the_engine_does_not_import_openai_until_the_first_request():
    code = (
        "import sys, tui_chat.engine; "
        "from tui_chat.engine import ChatClient, TokenCounter, PriceBook; "
        "from tui_chat.config import Profile; ChatClient(Profile(name='x')); "
        "TokenCounter(); PriceBook(); "
        "print(sorted(m for m in ('openai', 'tiktoken', 'genai_prices', 'httpx2') "
        "if m in sys.modules))"
    )
    assert fresh_python_output(code).strip() == "[]"


def test_warm_up_imports_openai_so_the_first_request_need_not():
    code = (
        "import sys, threading; from tui_chat.engine.client import warm_up; "
        "before = 'openai' in sys.modules; "
        "workers = [threading.Thread(target=warm_up) for _ in range(3)]; "
        "[w.start() for w in workers]; [w.join() for w in workers]; "
        "import openai; print(before, 'openai' in sys.modules, hasattr(openai, 'AsyncOpenAI'))"
    )
    assert fresh_python_output(code).split() == ["False", "True", "True"]

"""MCP servers configured as a user would, for the tool tests: the real mcp-server-time from
PyPI, the small test server in mcp_test_server.py (over stdio, or over streamable HTTP on
127.0.0.1), and commands or addresses that fail in chosen ways."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui_chat.config import McpServer

TEST_SERVER = str(Path(__file__).resolve().parent / "mcp_test_server.py")


def time_server(**settings: Any) -> McpServer:
    """mcp-server-time, installed with the test extra (no network)."""
    command = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))
    assert command is not None, "mcp-server-time is in the test extra: pip install -e '.[test]'"
    return McpServer(name="time", command=command, args=("--local-timezone", "UTC"), **settings)


def tools_test_server(name: str = "t", **settings: Any) -> McpServer:
    """The test server with echo, big, escapes, die and hang."""
    return McpServer(name=name, command=sys.executable, args=(TEST_SERVER,), **settings)


def exits_at_once(name: str = "exits") -> McpServer:
    """A server command that says why on stderr and exits before answering."""
    code = "import sys; sys.stderr.write('boom: no config file\\n'); sys.exit(2)"
    return McpServer(name=name, command=sys.executable, args=("-c", code))


def hangs_at_start(name: str = "hangs", startup_timeout: float = 2) -> McpServer:
    """A server command that starts and never answers."""
    code = "import time; time.sleep(600)"
    return McpServer(
        name=name, command=sys.executable, args=("-c", code), startup_timeout=startup_timeout
    )


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (as the system chose it a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def http_tools_server(record: Path) -> Iterator[str]:
    """The test server over streamable HTTP on a free port of 127.0.0.1, recording the
    Authorization header of each request to `record`; yields its URL, stops it after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, TEST_SERVER, "--http", str(port), str(record)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert process.poll() is None, process.communicate()[1].decode()
            assert time.monotonic() < deadline, "the HTTP MCP test server did not listen"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.communicate(timeout=10)


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """A URL on 127.0.0.1 whose port takes connections and never answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"


def configure(env: dict[str, str], server: McpServer) -> None:
    """Add `server` to the config.toml of a `TerminalSession`'s `env`, as a user writes it."""
    lines = [f"[mcp_servers.{server.name}]"]
    if server.command is not None:
        lines += [f"command = {json.dumps(server.command)}", f"args = {json.dumps(server.args)}"]
    if server.url is not None:
        lines.append(f"url = {json.dumps(server.url)}")
    if server.headers:
        pairs = ", ".join(f"{name} = {json.dumps(value)}" for name, value in server.headers.items())
        lines.append(f"headers = {{ {pairs} }}")
    config = Path(env["TUI_CHAT_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8") + "\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )

"""MCP servers configured as a user would, for the tool tests: the real mcp-server-time from
PyPI, the small test server in mcp_test_server.py, and commands that fail in chosen ways."""

from __future__ import annotations

import shutil
import sys
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

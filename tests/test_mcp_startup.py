"""Start-up never pays for the MCP SDK (~1.9 s to import): it is imported when a server is
first needed (the first message sent, or the palette's Tools), never while the app starts, with
or without servers configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from fresh_python import fresh_python_output

# Run in a new interpreter: other tests in this process may have imported mcp already.
STARTED_APP = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, "tests")
from app_harness import make_app, wait_until_idle
from tool_harness import time_server

async def main():
    servers = [time_server()] if {configured} else []
    app = make_app(Path({tmp!r}), "http://127.0.0.1:9/v1", mcp_servers=servers)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        print("mcp" in sys.modules)

asyncio.run(main())
"""


@pytest.mark.parametrize("configured", [False, True], ids=["no servers", "servers configured"])
def test_the_app_starts_without_importing_the_mcp_sdk(tmp_path: Path, configured: bool) -> None:
    code = STARTED_APP.format(tmp=str(tmp_path), configured=configured)
    assert fresh_python_output(code).strip() == "False"

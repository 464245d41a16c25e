"""Start-up never pays for the MCP SDK (~1.9 s to import): it is imported when a server is
first needed, never while the app starts."""

from __future__ import annotations

from pathlib import Path

from fresh_python import fresh_python_output

# Run in a new interpreter: other tests in this process may have imported mcp already.
STARTED_APP = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, "tests")
from app_harness import make_app, wait_until_idle

async def main():
    app = make_app(Path({tmp!r}), "http://127.0.0.1:9/v1")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        print("mcp" in sys.modules)

asyncio.run(main())
"""


def test_the_app_starts_without_importing_the_mcp_sdk(tmp_path: Path) -> None:
    assert fresh_python_output(STARTED_APP.format(tmp=str(tmp_path))).strip() == "False"

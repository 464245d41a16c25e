"""tests/openai_server.py in its own process, so its CPU is not counted as the client's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "tests" / "openai_server.py"


def start_test_server(*options: str) -> tuple[subprocess.Popen[str], str]:
    """Start the test server on a free port with `options` (see its --help); returns the
    process and its base URL."""
    command = [sys.executable, str(SERVER), "--port", "0", *options]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    base_url = line.rsplit(" ", 1)[-1].strip()
    if not base_url.startswith("http"):
        server.terminate()
        raise RuntimeError(f"the test server did not start: {line!r}")
    return server, base_url

"""Terminal bandwidth: bytes the installed `tui-chat` writes to a real pseudo-terminal per byte
of reply text, while a reply streams (what an SSH link has to carry).

The app runs under a pty (pexpect) at the given size; everything it writes from the Enter that
sends the prompt until the reply is saved and the screen is quiet is counted, and divided by the
UTF-8 size of the reply saved in the conversation file. A plain `print` of the reply is 1.
"""

from __future__ import annotations

import os
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pexpect

QUIET_SECONDS = 0.5
# The composer's blinking cursor repaints its line twice a second (~180 bytes each) even when
# nothing else happens: "quiet" means no more than that.
QUIET_BYTES = 400


def installed_command() -> str:
    """The `tui-chat` script beside this Python (what `pip install -e .` put in the venv)."""
    script = Path(sys.executable).parent / "tui-chat"
    if not script.exists():
        raise RuntimeError(f"tui-chat is not installed in {script.parent}: run pip install -e .")
    return str(script)


def _read_for(process: pexpect.spawn, seconds: float, into: bytearray) -> int:
    """Read whatever arrives for `seconds`; returns how many bytes came."""
    got = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = process.read_nonblocking(1 << 16, timeout=0.02)
        except pexpect.TIMEOUT:
            continue
        except pexpect.EOF:
            break
        into.extend(chunk)
        got += len(chunk)
    return got


def _read_until_quiet(process: pexpect.spawn, into: bytearray, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and _read_for(process, QUIET_SECONDS, into) > QUIET_BYTES:
        pass


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _finished_reply(folder: Path) -> str | None:
    for path in folder.glob("*.toml"):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue  # being replaced right now: look again
        messages = data.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") == "assistant" and last.get("finish_reason") is not None:
            return str(last.get("content", ""))
    return None


def measure(
    env: dict[str, str], data_dir: Path, columns: int, lines: int, timeout: float = 600
) -> dict[str, Any]:
    """Send one prompt in a fresh `tui-chat` at columns x lines; bytes written per reply byte."""
    full_env = {
        **os.environ,
        **env,
        "TUI_CHAT_DATA_DIR": str(data_dir),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    full_env.pop("TEXTUAL", None)
    process = pexpect.spawn(installed_command(), env=full_env, dimensions=(lines, columns))
    try:
        startup = bytearray()
        deadline = time.monotonic() + 30
        while b"Conversations" not in startup and time.monotonic() < deadline:
            _read_for(process, 0.1, startup)
        # Let the start-up work (encodings, prices, list) finish painting before counting.
        _read_until_quiet(process, startup, 10)
        process.send("go")
        _read_until_quiet(process, startup, 5)
        streamed = bytearray()
        cpu_before = _cpu_seconds(process.pid)
        start = time.monotonic()
        process.send("\r")
        folder = data_dir / "conversations"
        reply = None
        while reply is None and time.monotonic() - start < timeout:
            _read_for(process, 0.25, streamed)
            reply = _finished_reply(folder)
        wall = time.monotonic() - start
        cpu_after = _cpu_seconds(process.pid)
        _read_until_quiet(process, streamed, 10)
    finally:
        process.terminate(force=True)
    if reply is None:
        return {"error": f"the reply did not finish within {timeout:.0f} s"}
    reply_bytes = len(reply.encode("utf-8"))
    return {
        "bytes": len(streamed),
        "reply_bytes": reply_bytes,
        "per_reply_byte": round(len(streamed) / max(1, reply_bytes), 3),
        "wall": round(wall, 2),
        "cpu_share": (
            round((cpu_after - cpu_before) / wall, 3)
            if cpu_before is not None and cpu_after is not None and wall > 0
            else None
        ),
        "startup_bytes": len(startup),
    }

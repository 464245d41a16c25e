"""Runs the installed `tui-chat` command under a real pseudo-terminal and reads its screen.

pexpect gives the pty; pyte plays the part of the terminal, so tests read the screen a user
would see rather than raw escape sequences.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte
from app_harness import FAKE_API_KEY
from openai_server import FakeOpenAIServer

COLUMNS, LINES = 80, 24
KEY_ENV = "TUI_CHAT_FAULTS_KEY"


def installed_command() -> str:
    """The `tui-chat` script installed beside this Python (what `pip install` put on PATH)."""
    script = Path(sys.executable).parent / "tui-chat"
    if not script.exists():
        raise RuntimeError(f"tui-chat is not installed in {script.parent}: run pip install -e .")
    return str(script)


def run_installed(
    env: dict[str, str],
    *args: str,
    stdin: str = "",
    no_terminal: bool = False,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """The installed `tui-chat ARGS` with stdin a pipe holding `stdin` and stdout a pipe, `env`
    added to the environment; its output decoded as it came (no newline translation: the exact
    bytes matter). `no_terminal`: in a session of its own, without a controlling terminal, as
    under cron. `cwd`: the folder it runs in."""
    done = subprocess.run(
        [installed_command(), *args],
        input=stdin.encode(),
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
        start_new_session=no_terminal,
        cwd=cwd,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


class TerminalSession:
    """One `tui-chat` process on an 80x24 pty, with a virtual screen fed from its output."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        columns: int = COLUMNS,
        lines: int = LINES,
        command: list[str] | None = None,
    ) -> None:
        """`command` replaces the installed `tui-chat` (e.g. a Python script that runs it)."""
        full_env = {**os.environ, **env, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        full_env.pop("TEXTUAL", None)
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        program, *args = command or [installed_command()]
        self.process = pexpect.spawn(
            program, args, env=full_env, dimensions=(lines, columns), timeout=0.1
        )
        self.started = time.monotonic()

    def pump(self) -> None:
        """Read whatever the app has written so far into the virtual screen."""
        while True:
            try:
                chunk = self.process.read_nonblocking(65536, timeout=0.05)
            except (pexpect.TIMEOUT, pexpect.EOF):
                return
            self.raw.extend(chunk)
            self.stream.feed(chunk)

    def text(self) -> str:
        self.pump()
        return "\n".join(self.screen.display)

    def wait_for_text(self, needle: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.text()
            if needle in screen:
                return screen
            if not self.process.isalive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never appeared on screen:\n{self.text()}")

    def type(self, text: str) -> None:
        self.process.send(text)

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while self.process.isalive() and time.monotonic() < deadline:
            self.pump()
            time.sleep(0.05)
        self.pump()
        if self.process.isalive():
            return None
        self.process.close()
        return (
            self.process.exitstatus
            if self.process.exitstatus is not None
            else -(self.process.signalstatus or 0)
        )

    def hang_up(self) -> None:
        """Close the terminal under the app, as a dropped SSH link or a killed tmux window does:
        the kernel sends SIGHUP, and the app's writes to the terminal fail from then on."""
        self.process.ptyproc.fileobj.close()

    def gone_within(self, seconds: float) -> bool:
        """Whether the process has ended within `seconds` (it is not read from meanwhile: after
        a hang-up there is no terminal to read)."""
        deadline = time.monotonic() + seconds
        while self.process.isalive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        if self.process.isalive():
            self.process.terminate(force=True)


def config_env(tmp_path: Path, base_url: str, key_env: str, key: str) -> dict[str, str]:
    """Environment for a `tui-chat` process: a config whose only profile points at `base_url`
    with its key in `key_env`, and a data folder under tmp_path."""
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "local"\ntheme = "tui-chat-dark"\n\n[profiles.local]\n'
        f'base_url = "{base_url}"\napi_key_env = "{key_env}"\n'
        'default_model = "gpt-4o-mini"\n',
        encoding="utf-8",
    )
    return {
        "TUI_CHAT_CONFIG": str(config),
        "TUI_CHAT_DATA_DIR": str(tmp_path / "data"),
        key_env: key,
    }


def session_env(tmp_path: Path, server: FakeOpenAIServer) -> dict[str, str]:
    """config_env for the test server, with the fake key in KEY_ENV."""
    return config_env(tmp_path, server.base_url, KEY_ENV, FAKE_API_KEY)


def wait_until(
    condition: Callable[[], bool], session: TerminalSession, what: str, timeout: float = 20
) -> None:
    """Keep reading the app's screen until `condition()` holds; fail with the screen if not."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{session.text()}"
        session.pump()
        time.sleep(0.05)

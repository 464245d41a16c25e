"""The API key of a profile: inline, from a command (a password manager), or from the
environment. Kept apart from the client: it is the one part that runs another program.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

from tui_chat.config import Profile
from tui_chat.engine.errors import key_command_error, redact
from tui_chat.engine.servers import effective_base_url, is_openai_url


def lacks_api_key(profile: Profile) -> bool:
    """True when the profile talks to a server that needs a key (OpenAI's) and has none: no
    inline key, no api_key_command (that one is only run at the first request) and nothing in
    its api_key_env. Local servers take any key, so they never lack one."""
    if not is_openai_url(effective_base_url(profile)):
        return False
    has_key = (
        (profile.api_key and profile.api_key.strip())
        or profile.api_key_command
        or os.environ.get(profile.api_key_env, "").strip()
    )
    return not has_key


def resolve_api_key(profile: Profile, *, timeout: float | None = None) -> str | None:
    """The profile's API key: inline `api_key`, else `api_key_command`'s output, else the
    environment variable `api_key_env`. None when none is configured.

    Blocking (the command runs in a shell, limited to `timeout` or the profile's
    api_key_command_timeout); raises ChatError when the command fails, hangs or prints nothing.
    """
    if timeout is None:
        timeout = profile.api_key_command_timeout
    if profile.api_key and profile.api_key.strip():
        return profile.api_key.strip()
    if profile.api_key_command:
        stdout, stderr, returncode = _run_key_command(profile, timeout)
        key = next((line.strip() for line in stdout.splitlines() if line.strip()), "")
        if returncode != 0:
            said = " ".join(stderr.split())[:80]
            said = f": {redact(said, key or None)}" if said else ""
            raise key_command_error(profile.name, f"failed (exit status {returncode}{said})")
        if not key:
            raise key_command_error(profile.name, "printed no key")
        return key
    from_env = os.environ.get(profile.api_key_env, "").strip()
    return from_env or None


def _run_key_command(profile: Profile, timeout: float) -> tuple[str, str, int]:
    """Run api_key_command in a shell; on timeout kill it and everything it started."""
    assert profile.api_key_command is not None
    try:
        process = subprocess.Popen(
            profile.api_key_command,
            shell=True,  # users write pipelines: `pass show openai | head -1`
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Its own process group, so a hung password manager under the shell dies with it.
            start_new_session=True,
        )
    except OSError as error:
        raise key_command_error(profile.name, f"could not be run ({error})") from error
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise key_command_error(profile.name, f"did not finish within {timeout:g} s") from error
    return stdout, stderr, process.returncode

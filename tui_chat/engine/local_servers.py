"""OpenAI-compatible servers running on this machine, found by asking loopback ports for models.

A newcomer without an API key may already run Ollama, llama.cpp's server, LM Studio or vLLM: each
answers `GET /v1/models` at its usual port. Only the loopback addresses are ever asked (never a
name that could resolve elsewhere, never the network: that would be a scan), with a short timeout,
and without proxies (a proxy would send the question off the machine).

Blocking: the UI calls `find_local_servers` from a thread worker, once start-up is over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tui_chat.config import Profile

PROBE_TIMEOUT = 0.5
"""Seconds to wait to connect, and then for the answer: a local server answers in milliseconds."""

LOOPBACK_HOSTS = ("127.0.0.1", "::1")
"""The only addresses ever asked, in this order (a server may listen on one of them only)."""

PORTS_ENV = "TUI_CHAT_LOCAL_SERVER_PORTS"
"""Comma-separated ports to ask instead of the usual ones; empty: ask none (tests use it)."""

# A listing is a few KB; a port answering with something huge is not a model server.
_MAX_LISTING_BYTES = 1_000_000


@dataclass(frozen=True)
class LocalServerKind:
    """A server program and the port it listens on unless told otherwise."""

    label: str  # shown to the user: "Ollama"
    profile_name: str  # the profile written for it: "ollama"
    port: int


KNOWN_LOCAL_SERVERS: tuple[LocalServerKind, ...] = (
    LocalServerKind("Ollama", "ollama", 11434),
    LocalServerKind("llama.cpp", "llama-cpp", 8080),
    LocalServerKind("LM Studio", "lm-studio", 1234),
    LocalServerKind("vLLM", "vllm", 8000),
)


@dataclass(frozen=True)
class LocalServer:
    """A server that answered on loopback, with the models it listed."""

    kind: LocalServerKind
    host: str
    models: tuple[str, ...]

    @property
    def address(self) -> str:
        """`127.0.0.1:11434`, or `[::1]:11434` (brackets, as in a URL)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.kind.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.address}/v1"

    def as_profile(self, name: str) -> Profile:
        """A profile for this server: its address and its first model (no key: none needed)."""
        return Profile(
            name=name, base_url=self.base_url, default_model=self.models[0] if self.models else None
        )


def kinds_to_probe(environ: Mapping[str, str] = os.environ) -> tuple[LocalServerKind, ...]:
    """The usual servers, or those on the ports PORTS_ENV names (a known port keeps its name)."""
    raw = environ.get(PORTS_ENV)
    if raw is None:
        return KNOWN_LOCAL_SERVERS
    by_port = {kind.port: kind for kind in KNOWN_LOCAL_SERVERS}
    kinds: list[LocalServerKind] = []
    for part in raw.split(","):
        part = part.strip()
        if not part.isdigit() or not 0 < int(part) < 65536:
            continue  # a typo must not stop start-up; the port is simply not asked
        port = int(part)
        kinds.append(
            by_port.get(port, LocalServerKind("an OpenAI-compatible server", f"local-{port}", port))
        )
    return tuple(kinds)


def list_models_at(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> tuple[str, ...] | None:
    """The model ids a server on loopback `host`:`port` lists, or None when nothing there
    answers like an OpenAI-compatible server (refused, silent, an error status, not its JSON)."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"only loopback addresses are asked, not {host!r}")
    import http.client  # here, not at start-up: only a run without a key gets here
    import json

    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/v1/models", headers={"Accept": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            return None
        body: Any = json.loads(response.read(_MAX_LISTING_BYTES + 1)[:_MAX_LISTING_BYTES])
    except (OSError, http.client.HTTPException, ValueError):
        return None  # refused, timed out, cut, or not JSON: not a model server
    finally:
        connection.close()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    ids = (item.get("id") for item in data if isinstance(item, dict))
    return tuple(dict.fromkeys(i for i in ids if isinstance(i, str) and i.strip()))


def _probe(kind: LocalServerKind, timeout: float) -> LocalServer | None:
    for host in LOOPBACK_HOSTS:
        models = list_models_at(host, kind.port, timeout)
        if models is not None:
            return LocalServer(kind, host, models)
    return None


def find_local_servers(
    kinds: Sequence[LocalServerKind] | None = None, timeout: float = PROBE_TIMEOUT
) -> list[LocalServer]:
    """Ask each kind's port on loopback, all at once; the servers that answered, in the order
    of `kinds` (default: `kinds_to_probe()`). Blocking for at most about 2 x `timeout` per
    address; a port with nothing listening is refused at once."""
    kinds = kinds_to_probe() if kinds is None else kinds
    if not kinds:
        return []
    with ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix="local-probe") as pool:
        found = list(pool.map(lambda kind: _probe(kind, timeout), kinds))
    return [server for server in found if server is not None]

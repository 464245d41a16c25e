"""All the configured MCP servers' tools, as the chat loop uses them."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from tui_chat.config import McpServer, ToolApproval, save_tool_approval
from tui_chat.tools.connection import McpConnection
from tui_chat.tools.specs import ToolOutcome, ToolSpec, no_such_tool

# Chat Completions accepts function names of this shape only.
_API_NAME = re.compile(r"[^A-Za-z0-9_-]")
_API_NAME_MAX = 64


def _import_sdk() -> None:
    import mcp  # noqa: F401  (~1.9 s: done in a thread, off the event loop)


class ToolBox:
    """The tools of every enabled `[mcp_servers]` entry.

    Servers start on the first `tools()` (or `start()`), all at once, in background tasks. A
    server that fails is said once through `notice` and left out; the others carry on.
    """

    def __init__(
        self,
        servers: Mapping[str, McpServer],
        *,
        notice: Callable[[str], None] | None = None,
        config_path: Path | None = None,
    ) -> None:
        """`notice`: told one sentence per server that fails; `config_path`: where "always"
        approvals are saved (None: they hold for this session only)."""
        self._config_path = config_path
        self._servers = {name: s for name, s in servers.items() if s.enabled}
        # Told one sentence per server that fails (the app sets it to show a notice).
        self.notice: Callable[[str], None] = notice or (lambda sentence: None)
        self._connections: dict[str, McpConnection] = {}
        self._starting: asyncio.Task[None] | None = None
        self._told: set[str] = set()
        self._always: set[tuple[str, str]] = set()

    @property
    def configured(self) -> bool:
        """True when at least one enabled server is configured."""
        return bool(self._servers)

    @property
    def started(self) -> bool:
        """True once the servers were asked to start (at the first `tools()` or `start()`)."""
        return self._starting is not None

    def start(self) -> None:
        """Begin starting every server in the background (no-op once begun); call it on the
        event loop that will use the tools."""
        if self._starting is None and self._servers:
            self._starting = asyncio.create_task(self._start_all(), name="mcp-start")

    async def tools(self) -> list[ToolSpec]:
        """The tools of the servers that are up (started first when needed)."""
        self.start()
        if self._starting is not None:
            await asyncio.shield(self._starting)
        self._say_new_problems()
        return self._specs()

    def offered(self, off: Collection[str] = ()) -> list[ToolSpec]:
        """The tools of the servers up now, less those switched off (`ToolSpec.key`s): what a
        request offers, and what its token count includes. Does not start anything."""
        return [spec for spec in self._specs() if spec.key not in off]

    def problems(self) -> list[str]:
        """One sentence per server that is not available."""
        return [c.problem for c in self._connections.values() if c.problem]

    def approval(self, spec: ToolSpec) -> ToolApproval:
        """ "always" when the config (or a choice made in this session) says so, else "ask"."""
        if (spec.server, spec.name) in self._always:
            return "always"
        return self._servers[spec.server].approval(spec.name)

    async def allow_always(self, spec: ToolSpec) -> None:
        """Run `spec` unasked from now on, saved to config.toml (said through `notice` when the
        file cannot take it: it then holds for this session)."""
        self._always.add((spec.server, spec.name))
        if self._config_path is None:
            return
        try:
            await asyncio.to_thread(
                save_tool_approval, self._config_path, spec.server, spec.name, "always"
            )
        except (OSError, ValueError) as error:
            self.notice(
                f"Could not save 'always' for {spec.name} in {self._config_path} ({error}); it"
                " holds until you quit."
            )

    def find(self, api_name: str) -> ToolSpec | None:
        """The tool the model calls `api_name`, if a server that is up offers it."""
        return next((s for s in self._specs() if s.api_name == api_name), None)

    async def call(self, api_name: str, arguments: str) -> ToolOutcome:
        """Run one call as the model asked it: `arguments` is its JSON text. Invalid JSON, an
        unknown tool or a failing server come back as failed outcomes, said for the model."""
        spec = self.find(api_name)
        if spec is None:
            return no_such_tool(api_name)
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError as error:
            return ToolOutcome(
                f"The arguments are not valid JSON ({error}); nothing was run.", True
            )
        if not isinstance(parsed, dict):
            return ToolOutcome("The arguments should be a JSON object; nothing was run.", True)
        outcome = await self._connections[spec.server].call(spec.name, parsed)
        self._say_new_problems()
        return outcome

    async def aclose(self) -> None:
        """Stop every server that was started."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        await asyncio.gather(*(c.aclose() for c in self._connections.values()))
        self._connections.clear()

    # --- inside ----------------------------------------------------------------------------

    async def _start_all(self) -> None:
        await asyncio.to_thread(_import_sdk)
        self._connections = {name: McpConnection(s) for name, s in self._servers.items()}
        await asyncio.gather(*(c.start() for c in self._connections.values()))

    def _say_new_problems(self) -> None:
        for name, connection in self._connections.items():
            if connection.problem and name not in self._told:
                self._told.add(name)
                self.notice(connection.problem)

    def _specs(self) -> list[ToolSpec]:
        specs: list[ToolSpec] = []
        taken: set[str] = set()
        for name, connection in self._connections.items():
            if not connection.available:
                continue
            for tool in connection.tools:
                api_name = _api_name(tool.name)
                if api_name in taken:
                    api_name = _api_name(f"{name}__{tool.name}")
                taken.add(api_name)
                specs.append(
                    ToolSpec(
                        server=name,
                        name=tool.name,
                        description=tool.description or "",
                        input_schema=dict(tool.input_schema or {}),
                        api_name=api_name,
                    )
                )
        return specs


def _api_name(name: str) -> str:
    return _API_NAME.sub("_", name)[:_API_NAME_MAX]

"""One MCP server's life: started in the background when first needed, tools listed, calls made
under a time limit, and one sentence when it fails to start, dies or hangs.

The SDK's transports are anyio context managers that must be entered and left in one task, so a
connection runs in a task of its own that holds them open until `aclose()`; calls are made from
other tasks of the same event loop through the session it keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from typing import IO, TYPE_CHECKING, Any

from tui_chat.config import McpServer
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.tools.specs import ToolOutcome

if TYPE_CHECKING:
    from mcp import ClientSession
    from mcp.types import CallToolResult, Tool

GIVE_UP = "chat goes on without its tools"


class McpConnection:
    """A connection to one configured MCP server. `problem` holds the sentence that says why
    its tools are not available (None while all is well)."""

    def __init__(self, server: McpServer) -> None:
        self.server = server
        self.tools: list[Tool] = []
        self.problem: str | None = None
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._errors: IO[str] | None = None

    @property
    def available(self) -> bool:
        """True while the server is up and its tools can be called."""
        return self._session is not None and self.problem is None

    async def start(self) -> None:
        """Start the server unless it was started already, and wait until its tools are listed
        or it failed (then `problem` says why). Never raises but CancelledError."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mcp-{self.server.name}")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready.wait()), self.server.startup_timeout)
        except TimeoutError:
            seconds = _seconds(self.server.startup_timeout)
            await self._give_up(f"did not start within {seconds}")

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call `tool` with `arguments` under the server's time limit. A failure comes back as a
        failed outcome; a server that dies or hangs is given up on (its tools go)."""
        session = self._session
        if session is None or self.problem is not None:
            return ToolOutcome(
                self.problem or f"MCP server '{self.server.name}' is not running.", True
            )
        from mcp import MCPError
        from mcp.types import CONNECTION_CLOSED

        try:
            result = await asyncio.wait_for(
                session.call_tool(tool, arguments), self.server.call_timeout
            )
        except TimeoutError:
            seconds = _seconds(self.server.call_timeout)
            await self._give_up(f"did not answer within {seconds}")
            return ToolOutcome(f"The tool {tool} did not answer within {seconds}.", True)
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:  # the process died (or closed its stdout)
                await self._give_up(f"stopped ({self._last_error_line() or 'its process ended'})")
                return ToolOutcome(f"The tool {tool} failed: {self.problem}", True)
            # The server answered with an error (e.g. an unknown tool): it is still up.
            return ToolOutcome(
                f"The tool {tool} failed: {sanitize_for_terminal(error.error.message)}", True
            )
        except Exception as error:  # the connection broke: the process died
            await self._give_up(f"stopped ({_reason(error, self._last_error_line())})")
            return ToolOutcome(f"The tool {tool} failed: {self.problem}", True)
        return _outcome(result)

    async def aclose(self) -> None:
        """Stop the server (its process ends) and release what the connection held."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, 5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    # --- the connection's own task ------------------------------------------------------------

    async def _run(self) -> None:
        try:
            async with self._connected() as session:
                await session.initialize()
                listing = await session.list_tools()
                self.tools = list(listing.tools)
                self._session = session
                self._ready.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # anyio raises ExceptionGroups: one sentence from them
            if self.problem is None and not self._stop.is_set():
                verb = "stopped" if self._session is not None else "could not start"
                self.problem = self._sentence(f"{verb} ({_reason(error, self._last_error_line())})")
        finally:
            self._session = None
            self._ready.set()

    @contextlib.asynccontextmanager
    async def _connected(self) -> AsyncIterator[ClientSession]:
        """The session over the server's transport: its process over stdio, or HTTP."""
        from mcp import ClientSession

        async with contextlib.AsyncExitStack() as stack:
            if self.server.command is not None:
                from mcp import StdioServerParameters
                from mcp.client.stdio import stdio_client

                # The server's stderr must never reach the terminal the app draws on: it goes to
                # a file, whose last line explains a failure. It outlives this block (a failure
                # is explained after the transport closed): aclose() closes it.
                self._errors = tempfile.TemporaryFile(  # noqa: SIM115 (closed by aclose)
                    "w+", encoding="utf-8", errors="replace"
                )
                params = StdioServerParameters(
                    command=self.server.command,
                    args=list(self.server.args),
                    env=dict(self.server.env) or None,
                )
                read, write = await stack.enter_async_context(
                    stdio_client(params, errlog=self._errors)
                )
            else:
                import httpx2
                from mcp.client.streamable_http import streamable_http_client

                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=dict(self.server.headers),
                        timeout=httpx2.Timeout(self.server.startup_timeout, read=300),
                    )
                )
                assert self.server.url is not None  # config: either command or url
                read, write = await stack.enter_async_context(
                    streamable_http_client(self.server.url, http_client=http)
                )
            yield await stack.enter_async_context(ClientSession(read, write))

    async def _give_up(self, what: str) -> None:
        """Say why in one sentence and stop the server (a hung one too)."""
        if self.problem is None:
            self.problem = self._sentence(what)
        self._ready.set()
        self._stop.set()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def _sentence(self, what: str) -> str:
        return f"MCP server '{self.server.name}' {what}; {GIVE_UP}."

    def _last_error_line(self) -> str | None:
        """The last line the server wrote to stderr (its own account of a failure)."""
        if self._errors is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            self._errors.flush()
            self._errors.seek(0)
            lines = [line.strip() for line in self._errors.read()[-4000:].splitlines()]
            self._errors.seek(0, 2)
            last = next((line for line in reversed(lines) if line), None)
            return sanitize_for_terminal(last[:200]) if last else None
        return None


def _leaf(error: BaseException) -> BaseException:
    """The first plain exception inside anyio's (nested) ExceptionGroups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _reason(error: BaseException, stderr_line: str | None) -> str:
    """What went wrong, said briefly: the server's last stderr line when it wrote one."""
    leaf = _leaf(error)
    if isinstance(leaf, FileNotFoundError):
        return f"command not found: {leaf.filename or leaf}"
    if stderr_line:
        return stderr_line
    text = str(leaf) or type(leaf).__name__
    return (
        sanitize_for_terminal(text.splitlines()[0][:200]) if text.strip() else type(leaf).__name__
    )


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _outcome(result: CallToolResult) -> ToolOutcome:
    """The text of a call's result: its text parts, and a note for parts that are not text."""
    parts: list[str] = []
    for part in result.content:
        text = getattr(part, "text", None)
        if part.type == "text" and isinstance(text, str):
            parts.append(text)
        else:
            parts.append(f"[{part.type} content not shown]")
    if not parts and result.structured_content is not None:
        import json

        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    # Sanitised here, once: the text goes to the pane, the file and the model alike.
    return ToolOutcome(sanitize_for_terminal("\n".join(parts)), bool(result.is_error))

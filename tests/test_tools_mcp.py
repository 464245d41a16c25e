"""The MCP layer against real servers: mcp-server-time from PyPI, a test server with hostile
tools, and commands that fail to start, exit, hang or die. Chat must go on in every case."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from fresh_python import fresh_python_output
from tool_harness import (
    TEST_SERVER,
    exits_at_once,
    hangs_at_start,
    time_server,
    tools_test_server,
)

from tui_chat.config import McpServer
from tui_chat.tools import ToolBox

pytestmark = pytest.mark.slow  # real server processes


async def test_time_server_tools_are_listed_and_called() -> None:
    box = ToolBox({"time": time_server()})
    try:
        specs = {spec.api_name: spec for spec in await box.tools()}
        assert set(specs) == {"get_current_time", "convert_time"}
        assert specs["get_current_time"].server == "time"
        assert "timezone" in specs["get_current_time"].description.lower()
        definition = specs["get_current_time"].definition()
        assert definition["function"]["parameters"]["required"] == ["timezone"]
        outcome = await box.call("get_current_time", '{"timezone": "Europe/Paris"}')
        assert not outcome.failed
        assert json.loads(outcome.text)["timezone"] == "Europe/Paris"
    finally:
        await box.aclose()


async def test_a_tool_error_is_a_failed_outcome_and_the_server_stays() -> None:
    box = ToolBox({"time": time_server()})
    try:
        await box.tools()
        outcome = await box.call("get_current_time", '{"timezone": "Nowhere/Atlantis"}')
        assert outcome.failed
        assert "Nowhere/Atlantis" in outcome.text
        assert len(await box.tools()) == 2
        assert box.problems() == []
    finally:
        await box.aclose()


async def test_servers_that_cannot_start_get_one_sentence_each_and_others_carry_on() -> None:
    said: list[str] = []
    box = ToolBox(
        {
            "time": time_server(),
            "missing": McpServer(name="missing", command="/no/such/mcp-server"),
            "exits": exits_at_once(),
            "hangs": hangs_at_start(),
        },
        notice=said.append,
    )
    try:
        names = [spec.api_name for spec in await box.tools()]
        assert names == ["get_current_time", "convert_time"]
        assert sorted(said) == [
            "MCP server 'exits' could not start (boom: no config file); chat goes on without"
            " its tools.",
            "MCP server 'hangs' did not start within 2 s; chat goes on without its tools.",
            "MCP server 'missing' could not start (command not found: /no/such/mcp-server);"
            " chat goes on without its tools.",
        ]
        await box.tools()
        assert len(said) == 3  # said once, not at every send
    finally:
        await box.aclose()


async def test_a_server_that_dies_mid_call_is_said_and_its_tools_go() -> None:
    said: list[str] = []
    box = ToolBox({"t": tools_test_server()}, notice=said.append)
    try:
        assert "die" in [spec.api_name for spec in await box.tools()]
        outcome = await box.call("die", "{}")
        assert outcome.failed
        assert said == [
            "MCP server 't' stopped (its process ended); chat goes on without its tools."
        ]
        assert outcome.text == f"The tool die failed: {said[0]}"
        assert await box.tools() == []
    finally:
        await box.aclose()


async def test_a_tool_that_hangs_is_stopped_at_the_time_limit() -> None:
    said: list[str] = []
    box = ToolBox({"t": tools_test_server(call_timeout=1.5)}, notice=said.append)
    try:
        await box.tools()
        outcome = await box.call("hang", "{}")
        assert outcome.failed
        assert outcome.text == "The tool hang did not answer within 1.5 s."
        assert said == [
            "MCP server 't' did not answer within 1.5 s; chat goes on without its tools."
        ]
    finally:
        await box.aclose()


async def test_what_the_model_gets_wrong_is_told_to_it_and_nothing_runs() -> None:
    box = ToolBox({"t": tools_test_server()})
    try:
        await box.tools()
        invalid = await box.call("echo", '{"text": "unterminated')
        assert invalid.failed
        assert "not valid JSON" in invalid.text and "nothing was run" in invalid.text
        not_object = await box.call("echo", '["a"]')
        assert not_object.failed and "JSON object" in not_object.text
        unknown = await box.call("rm_rf", "{}")
        assert unknown == type(unknown)("There is no tool named 'rm_rf'.", True)
        assert (await box.call("echo", '{"text": "still here"}')).text == "echo: still here"
    finally:
        await box.aclose()


async def test_tool_output_cannot_reach_the_terminal_as_escape_sequences() -> None:
    box = ToolBox({"t": tools_test_server()})
    try:
        await box.tools()
        outcome = await box.call("escapes", "{}")
        assert "\x1b" not in outcome.text and "\x07" not in outcome.text
        assert "␛]52;c;" in outcome.text  # shown inert, not dropped
    finally:
        await box.aclose()


async def test_a_megabyte_of_output_comes_back_whole_for_the_flow_to_cut() -> None:
    box = ToolBox({"t": tools_test_server()})
    try:
        await box.tools()
        outcome = await box.call("big", '{"size": 1000000}')
        assert len(outcome.text) == 1_000_000
    finally:
        await box.aclose()


async def test_two_servers_offering_one_tool_name_are_told_apart() -> None:
    box = ToolBox({"a": tools_test_server("a"), "b": tools_test_server("b")})
    try:
        names = [spec.api_name for spec in await box.tools()]
        assert "echo" in names and "b__echo" in names
        assert (await box.call("b__echo", '{"text": "hi"}')).text == "echo: hi"
    finally:
        await box.aclose()


def _processes_running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command_line = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in command_line:
                found.append(int(entry.name))
    return found


async def test_closing_stops_every_server_process(tmp_path: Path) -> None:
    # A copy of the test server under a unique path, to find its processes by name.
    marked = tmp_path / f"marked_server_{os.getpid()}.py"
    marked.write_text(Path(TEST_SERVER).read_text())
    server = McpServer(name="m", command=sys.executable, args=(str(marked),))
    box = ToolBox({"m": server, "hangs": hangs_at_start()})
    await box.tools()
    assert _processes_running(marked.name)
    await box.aclose()
    assert _processes_running(marked.name) == []


def test_making_a_toolbox_imports_nothing_of_the_sdk() -> None:
    code = (
        "import sys; from tui_chat.tools import ToolBox; from tui_chat.config import McpServer; "
        "ToolBox({'x': McpServer(name='x', command='x')}); print('mcp' in sys.modules)"
    )
    assert fresh_python_output(code).strip() == "False"

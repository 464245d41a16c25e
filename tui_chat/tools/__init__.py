"""Tools the model may call, served by MCP servers from `[mcp_servers]` (no Textual here).

`ToolBox` owns one `McpConnection` per enabled server: servers start when first needed, in the
background; their tools are listed as `ToolSpec`s; a call runs under a time limit and comes back
as a `ToolOutcome`, never an exception. The `mcp` SDK is imported only when a server starts
(importing it takes ~1.9 s, which start-up must not pay).
"""

from tui_chat.tools.specs import ToolOutcome, ToolSpec
from tui_chat.tools.toolbox import ToolBox

__all__ = ["ToolBox", "ToolOutcome", "ToolSpec"]

"""MCP (Model Context Protocol) support, both ways.

- Client: tools of MCP servers as codeact tools, called from kernel code through the
  tool bridge (``--mcp 'CMD ARGS'`` or ``--mcp URL``): :func:`load_mcp_tools`.
- Server: ``codeact mcp`` serves a sandboxed, persistent Python kernel as MCP tools
  (:mod:`codeact.mcp.server`).

The ``mcp`` SDK is an optional dependency (``pip install 'codeact[mcp]'``); it is
imported only when a connection or the server starts, so ``import codeact.mcp`` works
without it and fails then with one clear line.
"""

from __future__ import annotations

from codeact.mcp.client import MCPManager, ServerSpec, parse_spec
from codeact.mcp.errors import (
    MCPConnectionError,
    MCPError,
    MCPLoadError,
    MCPTimeoutError,
    MCPToolError,
    MCPUnavailableError,
    require_sdk,
)
from codeact.mcp.names import python_name
from codeact.mcp.tools import load_mcp_tools, mcp_tool, result_value

__all__ = [
    "MCPConnectionError",
    "MCPError",
    "MCPLoadError",
    "MCPManager",
    "MCPTimeoutError",
    "MCPToolError",
    "MCPUnavailableError",
    "ServerSpec",
    "load_mcp_tools",
    "mcp_tool",
    "parse_spec",
    "python_name",
    "require_sdk",
    "result_value",
]

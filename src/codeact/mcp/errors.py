"""The exceptions of codeact's MCP support, and the check that the SDK is installed.

Each error keeps a built-in base (``TimeoutError``, ``ConnectionError``, ...) so that model
code in the kernel can catch it the usual way: the tool bridge sends the nearest built-in
base along with the type name, and the kernel rebuilds ``MCPTimeoutError`` as a
``TimeoutError`` subclass.
"""

from __future__ import annotations

from types import ModuleType

from codeact.errors import CodeactError
from codeact.tools import ToolLoadError

INSTALL_HINT = "pip install 'codeact[mcp]'"


class MCPError(CodeactError):
    """Base of the MCP errors."""


class MCPUnavailableError(MCPError, ImportError):
    """The ``mcp`` SDK is not installed (or is a major version codeact does not support)."""


class MCPLoadError(MCPError, ToolLoadError):
    """An MCP server spec is malformed, the server did not start, or its tool names clash."""


class MCPToolError(MCPError, RuntimeError):
    """The MCP server reported that the tool call failed (``isError``, or a protocol error)."""


class MCPTimeoutError(MCPError, TimeoutError):
    """The MCP server did not answer in time."""


class MCPConnectionError(MCPError, ConnectionError):
    """The connection to the MCP server is gone (the server exited, or the network failed)."""


def require_sdk() -> ModuleType:
    """Import the ``mcp`` SDK, or raise one clear line saying how to install it.

    Imported lazily so that ``import codeact`` works without the extra.
    """
    try:
        import mcp
    except ImportError as exc:
        raise MCPUnavailableError(
            f"MCP support needs the mcp package: {INSTALL_HINT}") from exc
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("mcp").split(".")[0])
    except (PackageNotFoundError, ValueError):
        major = 1
    if major != 1:
        raise MCPUnavailableError(
            f"codeact supports the mcp SDK 1.x, but mcp {version('mcp')} is installed: "
            f"{INSTALL_HINT} (or pip install 'mcp>=1.25,<2')")
    return mcp

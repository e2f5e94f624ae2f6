"""MCP tools as codeact :class:`~codeact.tools.Tool` objects.

Each MCP tool becomes a Tool whose signature and docstring come from its JSON Schema
(:mod:`codeact.mcp.schema`) and whose callable sends the call to the server through the
shared connection (:mod:`codeact.mcp.client`). In the code format the Tool is a function
in the kernel, called over the tool bridge like any host tool; the json/text formats call
it directly. Results become Python values:

- structured content: its JSON value (a ``{"result": X}`` wrapper, which SDK servers put
  around non-object results, gives ``X``);
- otherwise each content block: text → ``str``; an image → an image object
  (:class:`codeact.runtime.convert.Image`, displayed in the notebook; ``.data`` has the
  bytes); an embedded text resource → ``str``; a resource link → ``{"uri", "name", ...}``;
  other blobs → ``{"uri", "mime_type", "data" (base64)}``. One block gives its value,
  several a list, none ``None``;
- ``isError`` results raise :class:`~codeact.mcp.errors.MCPToolError` with the server's
  text; timeouts raise ``MCPTimeoutError`` and a lost server ``MCPConnectionError``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from codeact.mcp.client import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    MCPManager,
    ServerSpec,
)
from codeact.mcp.errors import MCPLoadError, MCPToolError
from codeact.mcp.names import python_name
from codeact.mcp.schema import CallShape, build_signature, returns
from codeact.runtime.convert import Image
from codeact.tools import Tool
from codeact.tools.signatures import ToolSignature


def load_mcp_tools(specs: Sequence[str | ServerSpec], *,
                   call_timeout: float = DEFAULT_CALL_TIMEOUT,
                   connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                   ) -> tuple[list[Tool], MCPManager]:
    """Connect to the servers and return their tools plus the manager that owns the
    connections (close it when done: it stops stdio servers). With no specs, no
    connection is made and the manager is empty.

    Raises MCPLoadError for a bad spec, a server that does not start, or tool names that
    collide once mapped to Python identifiers (across servers too).
    """
    manager = MCPManager(specs, call_timeout=call_timeout, connect_timeout=connect_timeout)
    if not manager.specs:
        return [], manager
    manager.start()
    try:
        return tools_from_manager(manager), manager
    except BaseException:
        manager.close()
        raise


def tools_from_manager(manager: MCPManager) -> list[Tool]:
    """Tools for every tool of every connected server, names checked for collisions."""
    tools: list[Tool] = []
    owner: dict[str, tuple[str, str]] = {}  # python name -> (server label, MCP name)
    for index, (spec, _name, server_tools) in enumerate(manager.servers()):
        for t in server_tools:
            py = python_name(t.name)
            if py in owner:
                label, original = owner[py]
                where = "the same server" if label == spec.label else f"{label!r}"
                raise MCPLoadError(
                    f"MCP tool {t.name!r} of {spec.label!r} and tool {original!r} of {where} "
                    f"both become the Python function {py!r} (non-identifier characters map "
                    "to '_'); leave one of the servers out or rename the tool")
            owner[py] = (spec.label, t.name)
            tools.append(mcp_tool(manager, index, t, py))
    return tools


def mcp_tool(manager: MCPManager, server: int, tool: Any, name: str | None = None) -> Tool:
    """One MCP tool (an ``mcp.types.Tool``) of server number ``server`` as a Tool."""
    py = name or python_name(tool.name)
    sig, shape, arg_lines = build_signature(tool.inputSchema, tool=tool.name)
    ann, unwrap, returns_doc = returns(getattr(tool, "outputSchema", None))
    if ann:
        sig = ToolSignature(sig.params, ann, None, exact=True)
    doc = _docstring(tool, py, arg_lines, returns_doc)
    fn = _caller(manager, server, tool.name, py, shape, unwrap)
    return Tool(name=py, fn=fn, description=doc, _sig=sig)


def _docstring(tool: Any, py: str, arg_lines: list[str], returns_doc: str) -> str:
    parts: list[str] = []
    desc = (tool.description or "").strip()
    title = getattr(tool, "title", None)
    if not desc and title:
        desc = str(title)
    parts.append(desc or f"MCP tool {tool.name!r}.")
    if py != tool.name:
        parts.append(f"(MCP tool {tool.name!r}.)")
    if arg_lines:
        parts.append("Args:\n" + "\n".join("    " + line for line in arg_lines))
    if returns_doc:
        parts.append(returns_doc)
    return "\n\n".join(parts)


def _caller(manager: MCPManager, server: int, mcp_name: str, py: str, shape: CallShape,
            unwrap: bool) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            arguments = shape.arguments(args, kwargs)
        except TypeError as exc:
            raise TypeError(f"{py}(): {exc}") from None
        result = manager.call(server, mcp_name, arguments)
        return result_value(result, unwrap=unwrap, tool=mcp_name)

    call.__name__ = call.__qualname__ = py
    return call


def result_value(result: Any, *, unwrap: bool = False, tool: str = "") -> Any:
    """A ``CallToolResult`` as the Python value the caller gets (see the module doc)."""
    if getattr(result, "isError", False):
        text = "\n".join(t for t in (_block_text(b) for b in result.content or []) if t)
        raise MCPToolError(f"MCP tool {tool!r} reported an error: {text or 'no details'}")
    structured = getattr(result, "structuredContent", None)
    if structured is not None:
        if unwrap and isinstance(structured, dict) and set(structured) == {"result"}:
            return structured["result"]
        return structured
    values = [_block_value(b) for b in result.content or []]
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _block_text(block: Any) -> str:
    value = _block_value(block)
    return value if isinstance(value, str) else repr(value)


def _block_value(block: Any) -> Any:
    kind = getattr(block, "type", None)
    if kind == "text":
        return block.text
    if kind == "image":
        return Image(base64.b64decode(block.data), block.mimeType or "image/png")
    if kind == "audio":
        return {"type": "audio", "mime_type": block.mimeType, "data": block.data}
    if kind == "resource_link":
        out = {"uri": str(block.uri), "name": block.name}
        for key, attr in (("description", "description"), ("mime_type", "mimeType")):
            if getattr(block, attr, None):
                out[key] = getattr(block, attr)
        return out
    if kind == "resource":
        res = block.resource
        text = getattr(res, "text", None)
        if isinstance(text, str):
            return text
        blob = getattr(res, "blob", None)
        mime = getattr(res, "mimeType", None) or ""
        if isinstance(blob, str) and mime.startswith("image/"):
            return Image(base64.b64decode(blob), mime)
        return {"uri": str(res.uri), "mime_type": mime or None, "data": blob}
    dump = getattr(block, "model_dump", None)
    return dump(mode="json") if callable(dump) else repr(block)

"""MCP errors keep built-in bases; a missing SDK fails with one line saying what to do."""

import subprocess
import sys

import pytest

from codeact.errors import CodeactError
from codeact.mcp import errors
from codeact.tools import ToolLoadError


def test_error_bases():
    assert issubclass(errors.MCPTimeoutError, TimeoutError)
    assert issubclass(errors.MCPConnectionError, ConnectionError)
    assert issubclass(errors.MCPToolError, RuntimeError)
    assert issubclass(errors.MCPLoadError, ToolLoadError)
    for cls in (errors.MCPTimeoutError, errors.MCPConnectionError, errors.MCPToolError,
                errors.MCPLoadError, errors.MCPUnavailableError):
        assert issubclass(cls, errors.MCPError) and issubclass(cls, CodeactError)


def test_require_sdk_returns_the_module():
    mod = errors.require_sdk()
    assert mod.__name__ == "mcp"


def test_missing_sdk_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp", None)  # "import mcp" raises ImportError
    with pytest.raises(errors.MCPUnavailableError) as err:
        errors.require_sdk()
    assert "pip install 'codeact[mcp]'" in str(err.value)


def test_import_codeact_and_codeact_mcp_do_not_import_the_sdk():
    code = ("import sys, codeact, codeact.cli, codeact.mcp, codeact.mcp.server; "
            "print('mcp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"

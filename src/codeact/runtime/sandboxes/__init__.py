"""Sandbox backends: how a kernel process is isolated (one base class, one registry).

``bwrap`` (bubblewrap namespaces, the default) and ``none`` (UNSAFE, no isolation) are
built in; a new backend is one module with a :class:`SandboxBackend` subclass plus one
``register("NAME", Backend)`` line, like the two below.
"""

from .base import (
    LAUNCHER,
    LaunchRequest,
    LaunchSpec,
    SandboxBackend,
    SandboxConfig,
    SandboxUnavailable,
    backend_names,
    get_backend,
    launcher_argv,
    register,
)
from .bwrap import BwrapSandbox
from .none import NoSandbox

register("bwrap", BwrapSandbox)
register("none", NoSandbox)

__all__ = ["LAUNCHER", "BwrapSandbox", "LaunchRequest", "LaunchSpec", "NoSandbox",
           "SandboxBackend", "SandboxConfig", "SandboxUnavailable", "backend_names",
           "get_backend", "launcher_argv", "register"]

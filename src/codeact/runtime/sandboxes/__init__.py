"""Sandbox backends: how a kernel process is isolated (one base class, one registry).

``bwrap`` (bubblewrap namespaces, the default), ``none`` (UNSAFE, no isolation) and
``gateway`` (kernels on a Jupyter Kernel/Enterprise Gateway, ``runtime/gateway/``) are
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
from .gateway import GatewaySandbox
from .none import NoSandbox

register("bwrap", BwrapSandbox)
register("none", NoSandbox)
register("gateway", GatewaySandbox)

__all__ = ["LAUNCHER", "BwrapSandbox", "GatewaySandbox", "LaunchRequest", "LaunchSpec", "NoSandbox",
           "SandboxBackend", "SandboxConfig", "SandboxUnavailable", "backend_names",
           "get_backend", "launcher_argv", "register"]

"""How a kernel process is isolated: the names this module always had, kept importable.

The code now lives in :mod:`codeact.runtime.sandboxes`: ``base.py`` (SandboxConfig, the
backend interface, the registry, the launcher), ``environment.py`` (the kernel's
environment),
``bwrap.py`` (the bubblewrap command line) and ``none.py``. New code should import from
there; this module re-exports them for one release.
"""

from __future__ import annotations

import shutil  # noqa: F401  (tests patch ``sandbox.shutil.which`` to hide bwrap)

from .sandboxes.base import DEFAULT_ENV_ALLOWLIST, LAUNCHER, SandboxConfig, SandboxUnavailable
from .sandboxes.bwrap import (
    HOST_NOBODY,
    INSIDE_RUN,
    INSIDE_WORKSPACE,
    INSTALL_HINT,
    SANDBOX_UID,
    SandboxCommand,
    build_bwrap_argv,
    bwrap_path,
    check_bwrap,
    is_root,
    make_userns,
    sandbox_owner,
    write_etc,
)
from .sandboxes.environment import prefixes_to_mount, python_prefixes, sandbox_env

__all__ = ["DEFAULT_ENV_ALLOWLIST", "HOST_NOBODY", "INSIDE_RUN", "INSIDE_WORKSPACE",
           "INSTALL_HINT", "LAUNCHER", "SANDBOX_UID", "SandboxCommand", "SandboxConfig",
           "SandboxUnavailable", "build_bwrap_argv", "bwrap_path", "check_bwrap", "is_root",
           "make_userns", "prefixes_to_mount", "python_prefixes", "sandbox_env",
           "sandbox_owner", "write_etc"]

"""The ``none`` sandbox backend: UNSAFE, the kernel runs as the user, with rlimits only.

For hosts without user namespaces, and for debugging. Model code can read and write
anything the user can, reach the network and start processes; a warning says so at
every kernel start.
"""

from __future__ import annotations

import logging

from .base import LaunchRequest, LaunchSpec, SandboxBackend, launcher_argv
from .environment import sandbox_env

log = logging.getLogger("codeact.runtime")


class NoSandbox(SandboxBackend):
    """No isolation: the launcher sets rlimits (not the process limit) and runs the kernel
    in the workspace, with a clean environment."""

    isolated = False

    def launch(self, request: LaunchRequest) -> LaunchSpec:
        log.warning(
            "UNSAFE: sandbox='none': model code runs WITHOUT ANY ISOLATION, with your "
            "user's full access to files, network and processes")
        cfg = request.config
        env = sandbox_env(cfg, list(request.prefixes), request.python)
        env["HOME"] = str(request.workspace)
        env["IPYTHONDIR"] = str(request.run_dir / "ipython")
        env["MPLCONFIGDIR"] = str(request.run_dir / "mpl")
        limits = {k: v for k, v in cfg.limits().items() if k != "RLIMIT_NPROC"}
        argv = launcher_argv(request.python, limits, request.kernel_argv, unsafe=True)
        return LaunchSpec(argv, env, cwd=str(request.workspace))

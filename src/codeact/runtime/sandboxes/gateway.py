"""The ``gateway`` sandbox backend: kernels on Jupyter Kernel Gateway / Enterprise Gateway.

Nothing is launched here: the session places each kernel on one of
``SandboxConfig.gateway_urls`` and drives it over REST and WebSocket (``runtime/gateway/``).
Model code never runs on this machine, so the backend counts as isolated from the host;
on the gateway's machine the kernelspec isolates it: before each kernel starts, the spec
(``gateway_kernel``, default ``codeact``) must be one ``codeact kernelspec install`` wrote
with bubblewrap, else the start is refused unless ``gateway_allow_unsandboxed`` (the
loud ``--unsafe-no-sandbox`` with ``--runtime``) - see ``Gateway.check_kernelspec``.
"""

from __future__ import annotations

import importlib.util

from .base import LaunchRequest, LaunchSpec, SandboxBackend, SandboxConfig, SandboxUnavailable


class GatewaySandbox(SandboxBackend):
    """Kernels on a gateway: the session's ``RemoteKernel`` starts them, not :meth:`launch`."""

    remote = True

    @classmethod
    def check_usable(cls, config: SandboxConfig) -> None:
        if not config.gateway_urls:
            raise SandboxUnavailable("the gateway backend needs a gateway URL "
                                     "(--runtime URL or CODEACT_RUNTIME)")
        bad = [u for u in config.gateway_urls if not u.startswith(("http://", "https://"))]
        if bad:
            raise SandboxUnavailable(f"not a gateway URL: {bad[0]!r} (use http://HOST:PORT)")
        if importlib.util.find_spec("tornado") is None:
            raise SandboxUnavailable("the gateway backend needs tornado: "
                                     "pip install 'codeact[gateway]'")

    def launch(self, request: LaunchRequest) -> LaunchSpec:
        raise SandboxUnavailable("a gateway kernel is started by its gateway, not launched "
                                 "here")

"""Kernels on Jupyter Kernel Gateway / Enterprise Gateway (``--runtime URL``).

``endpoints.py``: the gateways' REST API, health and placement; ``channels.py``: the kernel
protocol over the gateway's WebSocket; ``kernel.py``: one remote kernel as a session drives
it (start-up, comm tool bridge, workspace copy). The session itself is the same
:class:`codeact.runtime.Session` as for local kernels (``sandbox="gateway"``).
"""

from .endpoints import (
    Gateway,
    GatewayError,
    GatewayLost,
    GatewayPool,
    GatewayUnavailable,
    KernelspecRefused,
    parse_urls,
    pool_for,
)

__all__ = ["Gateway", "GatewayError", "GatewayLost", "GatewayPool", "GatewayUnavailable",
           "KernelspecRefused", "parse_urls", "pool_for"]

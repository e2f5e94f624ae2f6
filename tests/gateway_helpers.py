"""Real Jupyter Kernel Gateway processes on 127.0.0.1 for the tests (no stubs).

:func:`start_gateway` runs ``jupyter kernelgateway`` in its own process group on a free
port with a token, and returns once ``/api`` answers. ``kill()`` SIGKILLs the gateway
process alone (a crash: its kernels are orphaned, as on a real host that dies);
``stop()`` kills the whole group, kernels included. Each gateway serves a sandboxed
``codeact`` kernelspec (bubblewrap), the default that sessions start. :func:`remote_config` is the
``SandboxConfig`` of a session whose kernels live on given gateways.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["GatewayProcess", "install_codeact_spec", "remote_config", "runtime_config",
           "start_enterprise_gateway", "start_gateway"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class GatewayProcess:
    url: str
    token: str
    proc: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def kernels(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/kernels", headers=self.headers, timeout=5)
        r.raise_for_status()
        return r.json()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def kill(self) -> None:
        """SIGKILL the gateway process only (its kernels live on, orphaned)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Kill the gateway and every kernel it started (its process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


def install_codeact_spec(tmp: Path, name: str = "codeact") -> Path:
    """``codeact kernelspec install`` (bubblewrap, default limits) into the prefix
    ``tmp``; returns the Jupyter data dir to put on the gateway's ``JUPYTER_PATH``."""
    from codeact.runtime.kernelspec import KernelspecSettings, install

    install(KernelspecSettings(), name=name, prefix=tmp)
    return tmp / "share" / "jupyter"


def start_gateway(tmp: Path, *, list_kernels: bool = True, timeout: float = 60.0,
                  port: int | None = None, token: str | None = None,
                  kernelspec: str | None = "codeact") -> GatewayProcess:
    """Start ``jupyter kernelgateway`` on 127.0.0.1 and wait until ``/api`` answers.

    It serves a sandboxed codeact kernelspec named ``kernelspec`` (the default one
    sessions start, so gateway tests run sandboxed kernels as users should) next to the
    plain ``python3``; None: python3 only."""
    port = port or _free_port()
    token = token or secrets.token_hex(8)
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / f"gateway-{port}.log"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    if kernelspec is not None:
        env["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(install_codeact_spec(tmp, kernelspec)), env.get("JUPYTER_PATH"))
            if p)
    argv = [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={port}", f"--KernelGatewayApp.auth_token={token}",
            f"--JupyterWebsocketPersonality.list_kernels={list_kernels}",
            "--KernelRestarter.time_to_dead=0.5"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env,
                                start_new_session=True)
    return _answering(GatewayProcess(f"http://127.0.0.1:{port}", token, proc, log), timeout)


def start_enterprise_gateway(binary: str, tmp: Path, timeout: float = 60.0) -> GatewayProcess:
    """``jupyter enterprisegateway`` (its own environment: it pins jupyter_client 6 and
    jupyter_server 1) on 127.0.0.1, its kernels in that environment's ``python3``."""
    import json

    port, token = _free_port(), secrets.token_hex(8)
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / f"enterprise-gateway-{port}.log"
    # its python3 kernelspec runs this interpreter (the gateway's venv has no ipykernel)
    spec = tmp / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)", "language": "python"}))
    env = {**os.environ, "PATH": f"{Path(binary).parent}:{os.environ.get('PATH', '')}",
           "JUPYTER_PATH": str(tmp / "share" / "jupyter")}
    argv = [binary, "--ip=127.0.0.1", f"--port={port}",
            f"--EnterpriseGatewayApp.auth_token={token}"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env,
                                start_new_session=True)
    return _answering(GatewayProcess(f"http://127.0.0.1:{port}", token, proc, log), timeout)


def _answering(gw: GatewayProcess, timeout: float) -> GatewayProcess:
    """``gw`` once its REST API answers; its log in the error when it exits or stays
    silent for ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if gw.proc.poll() is not None:
            raise RuntimeError(f"the gateway exited: {gw.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{gw.url}/api", headers=gw.headers, timeout=1).status_code == 200:
                return gw
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            gw.stop()
            raise RuntimeError(f"the gateway did not answer within {timeout:.0f}s")
        time.sleep(0.1)  # polling for readiness, not waiting for an outcome


def remote_config(*gateways: GatewayProcess, **options: Any) -> Any:
    """A ``SandboxConfig`` for kernels on these gateways (``options``: other fields); the
    kernelspec is the default, sandboxed ``codeact`` that :func:`start_gateway` installs
    (a test of plain ``python3`` kernels passes ``gateway_kernel="python3",
    gateway_allow_unsandboxed=True``)."""
    from codeact.runtime import SandboxConfig

    return SandboxConfig(backend="gateway", gateway_urls=tuple(g.url for g in gateways),
                         gateway_token=gateways[0].token, **options)


def runtime_config(runtime: str, request: Any, **fields: Any) -> Any:
    """The SandboxConfig for the ``runtime`` parameter: bwrap locally, or kernels on the
    test run's shared gateway (the ``gateway`` fixture)."""
    from codeact.runtime import SandboxConfig

    if runtime == "local":
        return SandboxConfig(**fields)
    return remote_config(request.getfixturevalue("gateway"), **fields)

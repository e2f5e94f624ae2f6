"""Kernel-side code kept as real modules (codeact.runtime.kernel) and loaded as text."""

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from codeact.runtime import kernel, kernel_code, kernel_env
from codeact.runtime.kernel import source
from codeact.runtime.sandboxes import base, bwrap

SRC = Path(kernel.__file__).resolve().parents[3]


@pytest.mark.parametrize("name", kernel.NAMES)
def test_each_kernel_module_is_a_file_that_compiles(name):
    text = source(name)
    assert text == (Path(kernel.__file__).parent / f"{name}.py").read_text()
    ast.parse(text)


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="no kernel-side module"):
        source("nope")


def test_hosts_send_exactly_the_files():
    assert base.LAUNCHER == source("launcher")
    assert kernel_env._PROBE == source("env_probe")
    assert kernel_code.setup_code(10, "/s").startswith(source("startup"))
    assert kernel_code.tools_code([]).startswith(source("tools"))


def test_launcher_drops_to_the_sandbox_uid():
    from codeact.runtime.kernel import launcher

    assert launcher.SANDBOX_UID == bwrap.SANDBOX_UID


def test_importing_them_on_the_host_runs_nothing():
    from codeact.runtime.kernel import env_probe, launcher, startup, tools

    for mod in (env_probe, launcher, startup, tools):
        assert callable(getattr(mod, "main", None)) or any(
            n.startswith("__codeact_") for n in vars(mod))


def test_env_probe_describes_this_interpreter():
    out = subprocess.run([sys.executable, "-s", "-c", source("env_probe")], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    info = json.loads(out)
    assert info["version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert info["ipykernel"] is True and info["prefix"] == sys.prefix


def test_the_package_ships_in_the_wheel():
    """pyproject's packages.find (where = "src") takes every package with an __init__.py,
    and its .py files with it: no package-data entry is needed for these."""
    conf = tomllib.loads((SRC.parent / "pyproject.toml").read_text())
    assert conf["tool"]["setuptools"]["packages"]["find"]["where"] == ["src"]
    pkg = Path(kernel.__file__).parent
    assert (pkg / "__init__.py").is_file() and pkg.parent.joinpath("__init__.py").is_file()


def test_the_launcher_adopts_listening_sockets_passed_by_port():
    """$CODEACT_LISTEN_FDS: a zmq bind to tcp://IP:PORT adopts the inherited socket for
    PORT (a plain bind would fail: the socket is still open and listening) and the
    variable is gone before user code runs. The gateway kernelspec launcher relies on it."""
    import os
    import socket

    import zmq

    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(8)
    port, fd = held.getsockname()[1], held.fileno()
    os.set_inheritable(fd, True)
    code = (source("launcher").replace('if __name__ == "__main__":\n    main()\n', "")
            + "adopt_listen_fds()\n"
            + "assert 'CODEACT_LISTEN_FDS' not in os.environ\n"
            + "import zmq\ns = zmq.Context().socket(zmq.REP)\n"
            + f"s.bind('tcp://127.0.0.1:{port}')\ns.send(b'pong:' + s.recv())\n")
    child = subprocess.Popen([sys.executable, "-c", code], pass_fds=(fd,),
                             env={**os.environ, "CODEACT_LISTEN_FDS": f"{port}:{fd}"},
                             stderr=subprocess.PIPE)
    held.close()  # only the child holds the listening socket now
    req = zmq.Context.instance().socket(zmq.REQ)
    req.RCVTIMEO = 20_000
    req.LINGER = 0
    try:
        req.connect(f"tcp://127.0.0.1:{port}")
        req.send(b"ping")
        assert req.recv() == b"pong:ping"
    finally:
        req.close()
        _, err = child.communicate(timeout=20)
    assert child.returncode == 0, err.decode()

"""Sandbox backends as an extension point: one class plus one registration line.

The toy backend below is the whole pattern: it runs the kernel unsandboxed (like
``none``) but through ``env``, sets a marker variable, and records each launch.
"""

from __future__ import annotations

import pytest

from codeact.runtime import SandboxConfig, SandboxUnavailable, Session
from codeact.runtime.sandboxes import (
    BwrapSandbox,
    LaunchRequest,
    LaunchSpec,
    NoSandbox,
    SandboxBackend,
    backend_names,
    get_backend,
    launcher_argv,
    register,
)
from codeact.runtime.sandboxes.environment import sandbox_env


class EnvWrapped(SandboxBackend):
    """A toy: ``env CODEACT_TOY=1 python -c LAUNCHER ...`` in the workspace, no isolation."""

    isolated = False
    launches: list[LaunchRequest] = []

    def launch(self, request: LaunchRequest) -> LaunchSpec:
        type(self).launches.append(request)
        env = sandbox_env(request.config, list(request.prefixes), request.python)
        env["HOME"] = str(request.workspace)
        env["IPYTHONDIR"] = str(request.run_dir / "ipython")
        limits = {k: v for k, v in request.config.limits().items() if k != "RLIMIT_NPROC"}
        argv = launcher_argv(request.python, limits, request.kernel_argv, unsafe=True)
        return LaunchSpec(["env", "CODEACT_TOY=1", *argv], env, cwd=str(request.workspace))


register("toy-env", EnvWrapped)  # the one registration line


class Missing(SandboxBackend):
    @classmethod
    def check_usable(cls, config: SandboxConfig) -> None:
        raise SandboxUnavailable("the toy runtime is not installed here")

    def launch(self, request: LaunchRequest) -> LaunchSpec:  # pragma: no cover
        raise AssertionError("never launched")


register("toy-missing", Missing)


def test_builtins_are_registered_in_order():
    assert backend_names()[:2] == ["bwrap", "none"]
    assert get_backend("bwrap") is BwrapSandbox and get_backend("none") is NoSandbox
    assert get_backend("toy-env") is EnvWrapped


def test_unknown_backend_names_the_registered_ones():
    with pytest.raises(ValueError, match="unknown sandbox backend 'docker-maybe'.*'bwrap'"):
        SandboxConfig.coerce("docker-maybe")


def test_register_checks_its_arguments():
    with pytest.raises(TypeError):
        register("not-a-backend", object)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already registered"):
        register("bwrap", EnvWrapped)
    assert register("toy-env", EnvWrapped) is EnvWrapped  # the same class again is fine


def test_a_registered_toy_backend_runs_real_code(tmp_path):
    EnvWrapped.launches.clear()
    with Session(sandbox="toy-env", workspace=tmp_path) as s:
        assert s.config.backend == "toy-env" and isinstance(s.backend, EnvWrapped)
        assert not s.sandboxed
        obs = s.execute("import os\nprint(os.environ['CODEACT_TOY'], os.getcwd())\n6 * 7")
        assert obs.ok, obs
        assert obs.stdout.split() == ["1", str(tmp_path.resolve())] and obs.result == "42"
        s.write_file("in.txt", "from the host")
        assert s.execute("open('in.txt').read()").result == "'from the host'"
        assert s.execute("x = 5").ok
        s.restart()  # a restart launches through the backend again
        assert s.execute("'x' in dir()").result == "False"
    assert len(EnvWrapped.launches) == 2
    req = EnvWrapped.launches[0]
    assert req.workspace == tmp_path.resolve() and req.kernel_argv[0] == "ipykernel"
    assert (req.ipc_dir.parent == req.run_dir) and not req.run_dir.exists()  # cleaned up


def test_a_backend_that_cannot_work_here_fails_early():
    with pytest.raises(SandboxUnavailable, match="not installed"):
        Session(sandbox="toy-missing")


def test_the_gateway_backend_needs_a_url_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv("CODEACT_RUNTIME", raising=False)
    with pytest.raises(SandboxUnavailable, match="needs a gateway URL"):
        Session(sandbox="gateway")
    with pytest.raises(SandboxUnavailable, match="not a gateway URL: 'gw:8888'"):
        Session(SandboxConfig(backend="gateway", gateway_urls=("gw:8888",)))
    monkeypatch.setenv("CODEACT_RUNTIME", "http://gw1:8888/, http://gw2:8888")
    monkeypatch.setenv("CODEACT_RUNTIME_TOKEN", "t")
    s = Session(sandbox="gateway")  # not started: nothing is contacted yet
    assert s.remote and s.sandboxed and s.kernel_pid() is None
    assert s.config.gateway_urls == ("http://gw1:8888", "http://gw2:8888")
    assert (s.config.gateway_token, s.config.gateway_kernel) == ("t", "codeact")
    s.close()


def test_session_code_has_no_backend_branches():
    """No comparison against a backend name or ``.backend`` left outside sandboxes/."""
    import ast
    import inspect

    from codeact.runtime import kernel_client, kernel_process, session

    for mod in (session, kernel_client, kernel_process):
        for node in ast.walk(ast.parse(inspect.getsource(mod))):
            if isinstance(node, ast.Compare):
                for side in (node.left, *node.comparators):
                    assert not (isinstance(side, ast.Constant) and side.value in ("bwrap", "none"))
                    assert not (isinstance(side, ast.Attribute) and side.attr == "backend")

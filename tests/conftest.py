"""Shared pytest setup: slow tests run only with --slow (CI passes it); a sandboxed kernel
shared by a module's tests (``session``); an API client for the server tests that define
a module's ``server`` fixture; a real Jupyter Kernel Gateway (``gateway``) and the
``runtime`` parameter (local or gateway) for tests that run against both backends."""

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow test: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture()
def client(server: Any) -> Iterator[Any]:
    """An httpx API client (``test_server_app.Client``) on the module's live ``server``."""
    from test_server_app import Client

    c = Client(server.url)
    yield c
    c.close()


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    """A real bubblewrap-sandboxed kernel shared by a module's tests (a module that needs
    another configuration defines its own ``session``)."""
    from codeact.runtime import Session

    s = Session(sandbox="bwrap")
    s.start()
    yield s
    s.close()


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real ``jupyter kernelgateway`` on 127.0.0.1 for the whole test run, serving a
    sandboxed ``codeact`` kernelspec (the default its sessions start)."""
    pytest.importorskip("kernel_gateway", reason="needs the gateway extra")
    from gateway_helpers import start_gateway

    gw = start_gateway(tmp_path_factory.mktemp("gateway"))
    yield gw
    gw.stop()


@pytest.fixture(scope="module", params=["local", "gateway"])
def runtime(request: pytest.FixtureRequest) -> Any:
    """Where a parametrised module's kernels run: ``"local"`` or ``"gateway"``. Use
    ``gateway_helpers.runtime_config(runtime, request, **fields)`` for the SandboxConfig."""
    return request.param


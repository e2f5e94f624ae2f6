"""Shared pytest setup: slow tests run only with --slow (CI passes it); an API client for
the server tests that define a module's ``server`` fixture."""

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

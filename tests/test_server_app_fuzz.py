"""Schemathesis over the OpenAPI description of ``codeact serve`` (a real uvicorn on 127.0.0.1).

Every operation gets generated requests (valid and invalid); path ids are often swapped
for real conversations so the routes behind the 404 are reached too. Checks: no 5xx, no
Python traceback in any body, each answer matches the schema documented for its status
(the response models), and, without the token, 401 on every private route.
Bounded to well under 3 minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from test_server_app import ThreadServer, make_app

TOKEN = "fuzz-token-" + "x" * 20
PUBLIC = ("/api/health", "/api/share/")
EXAMPLES = 40  # per operation, with and without the token
_rng = random.Random(14)


class Fuzzed:
    """The server under test and a source of real conversation ids."""

    def __init__(self, srv: ThreadServer) -> None:
        self.srv = srv
        self.http = httpx.Client(base_url=srv.url, timeout=30,
                                 headers={"Authorization": f"Bearer {TOKEN}"})
        self.cases = 0
        self.statuses: dict[int, int] = {}

    def real_cid(self) -> str:
        r = self.http.post("/api/conversations", json={"title": "fuzz"})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    app = make_app(tmp, token=TOKEN, max_sessions=2)
    with ThreadServer(app) as srv:
        f = Fuzzed(srv)
        yield f
        f.http.close()
        print(f"\nschemathesis: {f.cases} requests, statuses {sorted(f.statuses.items())}")


def operations(fuzzed: Fuzzed) -> list[Any]:
    spec = fuzzed.http.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.update(base_url=fuzzed.srv.url)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 15, [f"{o.method} {o.path}" for o in ops]
    return ops


def no_traceback(ctx: Any, response: Any, case: Any) -> bool:
    """A body never shows a Python traceback (internals, paths, secrets)."""
    body = response.content.decode("utf-8", "replace") if response.content else ""
    assert "Traceback (most recent call last)" not in body, body[:500]
    assert 'File "/' not in body, body[:500]
    return True


def _maybe_real_ids(case: Any, fuzzed: Fuzzed) -> None:
    params = case.path_parameters or {}
    if "cid" in params and _rng.random() < 0.6:
        params["cid"] = fuzzed.real_cid()


def _count(fuzzed: Fuzzed, status: int) -> None:
    fuzzed.cases += 1
    fuzzed.statuses[status] = fuzzed.statuses.get(status, 0) + 1


def _each_case(op: Any, examples: int, body: Any) -> None:
    """Run ``body(case)`` on generated valid and invalid requests for ``op``."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def run(case: Any) -> None:
            body(case)

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
            assert mode is GenerationMode.NEGATIVE


def test_no_server_error_no_traceback_answers_as_documented(fuzzed: Fuzzed) -> None:
    def body(case: Any) -> None:
        _maybe_real_ids(case, fuzzed)
        response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                                          checks=[not_a_server_error, no_traceback,
                                                  response_schema_conformance],
                                          timeout=30)
        _count(fuzzed, response.status_code)

    for op in operations(fuzzed):
        _each_case(op, EXAMPLES, body)


def test_token_required_on_every_private_route(fuzzed: Fuzzed) -> None:
    def body(case: Any) -> None:
        _maybe_real_ids(case, fuzzed)
        response = case.call(timeout=30)
        _count(fuzzed, response.status_code)
        if case.path.startswith(PUBLIC):
            return
        assert response.status_code == 401, (case.method, case.formatted_path,
                                             response.status_code, response.text[:200])
        wrong = case.call(headers={"Authorization": "Bearer wrong-" + TOKEN}, timeout=30)
        assert wrong.status_code == 401

    for op in operations(fuzzed):
        _each_case(op, 3, body)

"""Tests for codeact.server.routes.notebook: ``GET /api/conversations/{cid}/notebook`` on a
live uvicorn (127.0.0.1) with the scripted model and real sandboxed kernels; the notebook
it returns validates and re-runs in a plain python3 kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient
from test_server_app import Client, ThreadServer, make_app

from codeact.notebook import SETUP_TAG
from codeact.server.routes.notebook import filename
from codeact.tools import tool

TOKEN = "notebook-test-token-" + "z" * 16


@tool(pure=True)
def double(x: int) -> int:
    """Twice x."""
    return 2 * x


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    app = make_app(tmp_path_factory.mktemp("nb"), token=TOKEN, pool_size=0,
                   agent_options={"exec_timeout": 120, "tools": [double]})
    with ThreadServer(app) as srv:
        yield srv


@pytest.fixture()
def client(server: ThreadServer) -> Iterator[Client]:
    c = Client(server.url, headers={"Authorization": f"Bearer {TOKEN}"})
    yield c
    c.close()


def test_a_conversation_downloads_as_a_notebook_that_reruns(client: Client,
                                                             tmp_path: Path) -> None:
    cid = client.new(title="Sine plot & double!")["id"]
    client.chat(cid, "plot it")
    client.chat(cid, "run: print(double(21))")
    r = client.http.get(f"/api/conversations/{cid}/notebook")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ipynb+json")
    assert r.headers["content-disposition"] == 'attachment; filename="Sine-plot-double.ipynb"'
    nb = nbformat.reads(r.text, as_version=4)
    nbformat.validate(nb)
    setup, plot, call = [c for c in nb.cells if c.cell_type == "code"]
    assert setup.metadata["tags"] == [SETUP_TAG] and "def double(x: int)" in setup.source
    assert plot.outputs[0].text.startswith("plotted 50")
    assert plot.outputs[1].output_type == "display_data"
    assert call.source == "print(double(21))" and call.outputs[0].text == "42\n"
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert md[0].startswith("# Sine plot & double!") and "**User:**\n\nplot it" in md
    assert "I'll plot it." in md and "Result: **42**" in md
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert call.outputs[0].text == "42\n"  # re-run in a plain kernel


def test_unknown_or_malformed_ids_and_missing_token(client: Client,
                                                    server: ThreadServer) -> None:
    assert client.http.get(f"/api/conversations/{'0' * 32}/notebook").status_code == 404
    assert client.http.get("/api/conversations/nope/notebook").status_code == 422
    cid = client.new()["id"]
    assert httpx.get(f"{server.url}/api/conversations/{cid}/notebook").status_code == 401
    empty = client.http.get(f"/api/conversations/{cid}/notebook")
    assert empty.status_code == 200
    assert [c.cell_type for c in nbformat.reads(empty.text, as_version=4).cells] == \
        ["markdown", "code"]


def test_file_names_are_plain_ascii() -> None:
    assert filename("Ünïcode \"quotes\"; x") == "n-code-quotes-x.ipynb"
    assert filename("...") == "conversation.ipynb"

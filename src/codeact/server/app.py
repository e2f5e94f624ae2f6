"""The FastAPI app: JSON API (with OpenAPI at /docs), SSE event streams and the static UI.

``create_app(...)`` builds everything from explicit arguments so tests and the benchmark
can run it under uvicorn with a scripted model; ``codeact serve`` (see ``cli.py``) wires
the defaults. It builds the state (store, hub), includes one router per resource
(``routes/``) and puts the security layer (``security.py``) around all of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from codeact.server.hub import ChatHub
from codeact.server.kernels import KernelProvider
from codeact.server.llms import LLMCache
from codeact.server.routes import (
    approval,
    branches,
    conversations,
    files,
    meta,
    openai_api,
    pages,
    runs,
    settings,
    share,
)
from codeact.server.routes import notebook as notebook_routes
from codeact.server.routes.deps import ServerState
from codeact.server.routes.pages import STATIC_DIR
from codeact.server.schema import default_data_dir
from codeact.server.security import DEFAULT_MAX_UPLOAD, add_security
from codeact.server.store import Store
from codeact.server.validation import add_validation_handler

__all__ = ["create_app"]


def create_app(
    *,
    db: str | Path | None = None,
    store: Store | None = None,
    data_dir: str | Path | None = None,
    models: list[str] | None = None,
    default_model: str | None = None,
    llm_factory: Callable[[str], Any] | None = None,
    kernels: Any = None,
    token: str | None = None,
    check_host: bool = True,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    idle_timeout: float = 600.0,
    max_sessions: int = 8,
    pool_size: int = 1,
    sandbox: Any = "bwrap",
    agent_options: dict[str, Any] | None = None,
    agent_factory: Callable[..., Any] | None = None,
    undo_seconds: float = 60.0,
) -> FastAPI:
    """Build the chat app. ``token``: require it on every private route (None: open).

    ``check_host``: answer only to localhost Host headers (use when bound to loopback).
    ``kernels``: a kernel provider (default: the runtime's SessionManager with
    ``max_sessions``, ``pool_size`` and ``sandbox``).
    """
    from codeact.llm import DEFAULT_MODEL

    data_path = Path(data_dir) if data_dir is not None else default_data_dir()
    data_path.mkdir(parents=True, exist_ok=True)
    the_store = store if store is not None else Store(
        db if db is not None else f"sqlite:///{data_path / 'server.db'}")
    default = default_model or (models[0] if models else DEFAULT_MODEL)
    model_list: list[str] = list(dict.fromkeys([default, *(models or [])]))
    if kernels is None:
        kernels = KernelProvider(max_sessions=max_sessions, pool_size=pool_size,
                                 sandbox=sandbox)
    hub = ChatHub(the_store, data_path, llm_factory=llm_factory or LLMCache(),
                  kernels=kernels, idle_timeout=idle_timeout, agent_options=agent_options,
                  agent_factory=agent_factory, undo_seconds=undo_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.close()
            if store is None:
                the_store.close()

    app = FastAPI(title="codeact chat", version="0.1.0", lifespan=lifespan,
                  description="Conversations with a code-executing agent: JSON API, "
                              "server-sent events, a static web UI.")
    app.state.server = ServerState(hub=hub, store=the_store, data_dir=data_path,
                                   models=model_list, default_model=default,
                                   max_upload_bytes=max_upload_bytes)
    app.state.hub = hub
    app.state.store = the_store
    app.state.models = model_list
    app.state.default_model = default
    add_validation_handler(app)
    app.include_router(pages.router)
    app.include_router(meta.router)
    app.include_router(conversations.router)
    app.include_router(runs.router)
    app.include_router(files.router)
    app.include_router(share.router)
    app.include_router(openai_api.router)
    app.include_router(notebook_routes.router)
    app.include_router(settings.router)
    app.include_router(branches.router)
    app.include_router(approval.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_security(app, token=token, check_host=check_host, max_upload_bytes=max_upload_bytes)
    return app

"""The chat web app: FastAPI + SSE, a SQLAlchemy store and a static UI.

``serve(...)`` runs it under uvicorn; ``create_app(...)`` builds the ASGI app (tests, the
benchmark, embedding). The ``codeact serve`` command is :func:`codeact.server.cli.serve`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeact.hosts import is_local_host, resolve_token
from codeact.server.app import create_app
from codeact.server.schema import default_data_dir
from codeact.server.security import redact_access_log
from codeact.server.store import Store

__all__ = ["Store", "create_app", "default_data_dir", "serve", "resolve_token"]




def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str | Path | None = None,
    token: str | None = None,
    model: str | None = None,
    *,
    models: list[str] | None = None,
    data_dir: str | Path | None = None,
    max_sessions: int = 8,
    pool_size: int = 1,
    idle_timeout: float = 600.0,
    sandbox: Any = "bwrap",
    agent_options: dict[str, Any] | None = None,
    llm_factory: Callable[[str], Any] | None = None,
    max_upload_bytes: int | None = None,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run the chat app under uvicorn until interrupted.

    Binding to anything but loopback requires an access token: ``token`` or one generated
    here and printed once. ``db``: a SQLAlchemy URL, a SQLite file path or None (the
    default file under the user data directory).
    """
    import uvicorn

    say = announce or (lambda line: print(line, file=sys.stderr, flush=True))
    token, generated = resolve_token(host, token)
    kwargs: dict[str, Any] = {}
    if max_upload_bytes is not None:
        kwargs["max_upload_bytes"] = max_upload_bytes
    app = create_app(db=db, data_dir=data_dir, models=models, default_model=model,
                     llm_factory=llm_factory, token=token, check_host=is_local_host(host),
                     max_sessions=max_sessions, pool_size=pool_size,
                     idle_timeout=idle_timeout, sandbox=sandbox, agent_options=agent_options,
                     **kwargs)
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    url = f"http://{shown}:{port}/"
    if token and generated:
        say(f"codeact: access token (shown once): {token}")
        say(f"codeact: open {url}?token={token}")
    elif token:
        say(f"codeact: open {url}?token=YOUR_TOKEN (the token you gave)")
    else:
        say(f"codeact: open {url}")
    redact_access_log()
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10)

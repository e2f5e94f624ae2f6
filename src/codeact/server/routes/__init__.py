"""The app's routes, one ``APIRouter`` module per resource.

To add an endpoint: write ``routes/NAME.py`` with ``router = APIRouter(tags=[...])`` and
its routes (take ``state: AppState`` from :mod:`.deps` for the hub and the store; declare
each answer's ``response_model``, shared shapes in :mod:`.models`), then add one
``app.include_router(NAME.router)`` line in ``create_app``. The security middleware
(``security.py``) wraps the whole app, so the new routes are behind it with no more
work. ``tests/test_server_routes.py`` shows the pattern with a toy router.
"""

from __future__ import annotations

from codeact.server.routes import (
    approval,
    branches,
    conversations,
    files,
    meta,
    pages,
    runs,
    settings,
    share,
)
from codeact.server.routes.deps import AppState, ServerState

__all__ = ["AppState", "ServerState", "approval", "branches", "conversations", "files", "meta",
           "pages", "runs", "settings", "share"]

"""Server-wide settings: the defaults a new conversation starts with.

A conversation's own settings are a column of its row (``Conversations``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from codeact.server.schema import AppSetting
from codeact.server.store.database import OWN, Database, transaction

__all__ = ["DEFAULTS_KEY", "Settings"]

DEFAULTS_KEY = "defaults"  # the app_settings row of the defaults


class Settings(Database):
    """Read and replace the default settings of new conversations."""

    @transaction
    def get_defaults(self, *, s: Session = OWN) -> dict[str, Any]:
        """The settings a new conversation starts with (``{}``: the server's own)."""
        raw = s.scalar(select(AppSetting.value).where(AppSetting.key == DEFAULTS_KEY))
        return json.loads(raw) if raw else {}

    @transaction
    def set_defaults(self, settings: dict[str, Any], *, s: Session = OWN) -> dict[str, Any]:
        """Replace the defaults with ``settings`` less its None values; returns them."""
        clean = {k: v for k, v in settings.items() if v is not None}
        row = s.get(AppSetting, DEFAULTS_KEY)
        if row is None:
            s.add(AppSetting(key=DEFAULTS_KEY, value=json.dumps(clean)))
        else:
            row.value = json.dumps(clean)
        return clean

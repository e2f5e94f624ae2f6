"""Which system prompt a trajectory was made with: a name and a hash of its text.

Records carry this in their metadata so a dataset says exactly what its teacher was told.
For now the name is the action format's (``code``); when prompts move into named files,
only :func:`prompt_info` changes.
"""

from __future__ import annotations

import hashlib
from typing import Any


def prompt_info(action_format: str, system_prompt: str) -> dict[str, str]:
    """``{"prompt_name", "prompt_sha256"}`` of the system prompt text actually used."""
    digest = hashlib.sha256(system_prompt.encode("utf-8")).hexdigest()
    return {"prompt_name": action_format, "prompt_sha256": digest}


def from_messages(action_format: str, messages: list[dict[str, Any]]) -> dict[str, str]:
    """:func:`prompt_info` of a conversation's system message ("" when it has none)."""
    system = next((str(m.get("content") or "") for m in messages
                   if m.get("role") == "system"), "")
    return prompt_info(action_format, system)

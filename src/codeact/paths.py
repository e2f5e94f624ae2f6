"""Where codeact keeps the user's files, in one place low enough for every layer.

The config file and the local model list sit together in the user config directory;
the model registry (``llm``) and the settings (``config``) both need the path, and the
settings are a higher layer than the model backends.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["default_config_path"]


def default_config_path() -> Path:
    """``$CODEACT_CONFIG`` or ``~/.config/codeact/config.toml`` (platform equivalent)."""
    explicit = os.environ.get("CODEACT_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir("codeact")) / "config.toml"

"""Conversation workspaces on disk: safe file names, uploads, downloads, scans.

A workspace is a directory the conversation's kernel sees as its working directory. Files
there survive kernel restarts and server restarts. Names that come from the network are
checked so they can never point outside it (no ``..``, no absolute paths, no links out).
The name policy (:func:`safe_relative_name`) is the server's; path safety itself (no
escape through ``..`` or links, ``O_NOFOLLOW``, writes by atomic replace) is the runtime's
one implementation in :mod:`codeact.runtime.workspace`, shared with ``Session``.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from pathlib import Path

from ..runtime import workspace as _safe
from ..runtime.workspace import UnsafeName

__all__ = ["MAX_NAME_LENGTH", "MAX_PATH_DEPTH", "SCAN_LIMIT", "UnsafeName", "mirror",
           "open_for_download", "resolve_in", "safe_relative_name", "scan", "write_file"]

MAX_NAME_LENGTH = 255
MAX_PATH_DEPTH = 8
SCAN_LIMIT = 500  # files listed per workspace
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")


def safe_relative_name(name: str) -> str:
    """Normalise a user-supplied file name to a safe relative POSIX path, or raise.

    Sub-directories are allowed (``data/a.csv``); ``..``, absolute paths, drive letters,
    control characters, hidden names and empty parts are not.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnsafeName("the file name is empty")
    name = unicodedata.normalize("NFC", name.strip())
    if len(name.encode()) > 1024:
        raise UnsafeName("the file name is too long")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise UnsafeName("absolute paths are not allowed")
    if _BAD_CHARS.search(name):
        raise UnsafeName("the file name has characters that are not allowed")
    parts = name.split("/")
    if len(parts) > MAX_PATH_DEPTH:
        raise UnsafeName("the path is too deep")
    for part in parts:
        if part in ("", ".", ".."):
            raise UnsafeName("'..', '.' and empty path parts are not allowed")
        if part.startswith("."):
            raise UnsafeName("hidden names (starting with '.') are not allowed")
        if len(part.encode()) > MAX_NAME_LENGTH:
            raise UnsafeName("a path part is too long")
    return "/".join(parts)


def resolve_in(workspace: Path, name: str) -> Path:
    """The absolute path of ``name`` inside ``workspace``; raise if it would escape it."""
    return _safe.resolve_inside(workspace, safe_relative_name(name))


def write_file(workspace: Path, name: str, data: bytes) -> tuple[str, int]:
    """Write ``data`` to ``name`` in the workspace (atomically); return (name, size)."""
    rel = safe_relative_name(name)
    _safe.write_bytes(workspace, rel, data)
    return rel, len(data)


def open_for_download(workspace: Path, name: str) -> Path:
    """The path of an existing regular file in the workspace, or raise FileNotFoundError."""
    target = resolve_in(workspace, name)
    if not target.is_file():
        raise FileNotFoundError(name)
    return target


def scan(workspace: Path, limit: int | None = SCAN_LIMIT) -> dict[str, int]:
    """Regular files in the workspace (name -> size), skipping hidden ones and links out."""
    found: dict[str, int] = {}
    root = workspace.resolve()
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and d not in ("__pycache__",))
        for fn in sorted(filenames):
            if fn.startswith("."):
                continue
            path = Path(dirpath) / fn
            if path.is_symlink():
                continue
            rel = path.relative_to(root).as_posix()
            try:
                safe_relative_name(rel)
                found[rel] = path.stat().st_size
            except (UnsafeName, OSError):
                continue
            if limit is not None and len(found) >= limit:
                return found
    return found


def mirror(src: Path, dst: Path) -> None:
    """Make ``dst`` hold the same (non-hidden, regular) files as ``src``.

    Files are copied when their size or modification time differ; files gone from
    ``src`` are removed from ``dst``. Symbolic links are never followed or copied.
    """
    dst.mkdir(parents=True, exist_ok=True)
    have = scan(src, limit=None)
    for rel in have:
        s_path, d_path = src / rel, dst / rel
        try:
            st = s_path.stat()
            if d_path.is_file() and not d_path.is_symlink():
                dt = d_path.stat()
                if dt.st_size == st.st_size and dt.st_mtime_ns == st.st_mtime_ns:
                    continue
            _safe.copy_file(dst, safe_relative_name(rel), s_path)
        except (OSError, UnsafeName):
            continue
    for rel in scan(dst, limit=None):
        if rel not in have:
            with contextlib.suppress(OSError):
                (dst / rel).unlink()
    # drop directories left empty
    for dirpath, dirnames, filenames in os.walk(dst, topdown=False):
        path = Path(dirpath)
        if path != dst and not dirnames and not filenames:
            with contextlib.suppress(OSError):
                path.rmdir()

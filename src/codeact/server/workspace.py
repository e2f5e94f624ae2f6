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
import errno
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import BinaryIO

from ..runtime import workspace as _safe
from ..runtime.workspace import UnsafeName

__all__ = ["MAX_NAME_LENGTH", "MAX_PATH_DEPTH", "SCAN_LIMIT", "UnsafeName", "mirror",
           "open_for_download", "safe_relative_name", "scan", "write_file"]

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


def write_file(workspace: Path, name: str, data: bytes) -> tuple[str, int]:
    """Write ``data`` to ``name`` in the workspace (atomically); return (name, size)."""
    rel = safe_relative_name(name)
    _safe.write_bytes(workspace, rel, data)
    return rel, len(data)


def open_for_download(workspace: Path, name: str) -> BinaryIO:
    """An existing regular file of the workspace, opened for reading (the caller closes
    it); FileNotFoundError where there is none, :class:`UnsafeName` for a link.

    Opened once, through descriptors that follow no link, and served from that descriptor:
    a live kernel that swaps the file for a link to a host file between a check by path
    and the read would otherwise hand that host file out."""
    rel = safe_relative_name(name)
    try:
        return _safe.open_file(workspace, rel)
    except UnsafeName:  # not a regular file: a folder is no file to download
        st = _safe.stat_file(workspace, rel)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise FileNotFoundError(name) from None
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeName(f"file name {name!r} is a link") from None
        raise


def scan(workspace: Path, limit: int | None = SCAN_LIMIT) -> dict[str, int]:
    """Regular files in the workspace (name -> size), skipping hidden ones and links."""
    return {f.path: f.size for f in _files(workspace, limit)}


def _files(workspace: Path, limit: int | None = None) -> list[_safe.FileInfo]:
    """What :func:`scan` lists, with modification times: names the server accepts only,
    outside ``__pycache__``; none if the workspace is missing."""
    found: list[_safe.FileInfo] = []
    try:
        for f in _safe.walk_files(workspace, skip_dirs=("__pycache__",)):
            try:
                safe_relative_name(f.path)
            except UnsafeName:
                continue
            found.append(f)
            if limit is not None and len(found) >= limit:
                break
    except (OSError, UnsafeName):
        pass  # no workspace (yet)
    return found


def mirror(src: Path, dst: Path) -> None:
    """Make ``dst`` hold the same (non-hidden, regular) files as ``src``.

    Files are copied when their size or modification time differ; files gone from
    ``src`` are removed from ``dst``. Symbolic links are never followed or copied.
    """
    dst.mkdir(parents=True, exist_ok=True)
    have = _files(src)
    there = {f.path: f for f in _files(dst)}
    for f in have:
        old = there.get(f.path)
        if old is not None and (old.size, old.mtime_ns) == (f.size, f.mtime_ns):
            continue
        try:
            with _safe.open_file(src, f.path) as data:
                _safe.copy_file(dst, f.path, data)
        except (OSError, UnsafeName):
            continue
    names = {f.path for f in have}
    for rel in there:
        if rel not in names:
            with contextlib.suppress(OSError, UnsafeName):
                _safe.delete_file(dst, rel)
    # drop directories left empty
    for dirpath, dirnames, filenames in os.walk(dst, topdown=False):
        path = Path(dirpath)
        if path != dst and not dirnames and not filenames:
            with contextlib.suppress(OSError):
                path.rmdir()

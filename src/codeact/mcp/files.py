"""Workspace files for ``codeact mcp``'s list_files / read_file / write_file tools.

The host does these itself (no kernel needed), so it must not be fooled by what model code
left in the workspace. Path safety (no escape through ``..`` or links, the ``O_NOFOLLOW``
walk, writes by atomic replace) is the runtime's one implementation,
:mod:`codeact.runtime.workspace`; this module adds the tools' policy: paths are relative
(``/workspace/...``, the kernel's view, is accepted too) and never contain ``..``, hidden
names are neither listed nor written, the size limits, and what a read returns (text,
or an image).
"""

from __future__ import annotations

import itertools
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from codeact.errors import CodeactError
from codeact.runtime import workspace as _safe
from codeact.runtime.workspace import UnsafeName

__all__ = ["IMAGE_TYPES", "KERNEL_ROOT", "MAX_LIST", "MAX_READ", "MAX_WRITE", "WorkspaceError",
           "list_files", "read_file", "relative_parts", "write_file"]

KERNEL_ROOT = "/workspace"  # where the sandboxed kernel sees the workspace
MAX_LIST = 500
MAX_READ = 1 << 20  # bytes of text returned by read_file
MAX_WRITE = 10 << 20
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}


class WorkspaceError(CodeactError, ValueError):
    """A path that is not allowed, or a file that cannot be read or written."""


def relative_parts(path: str) -> list[str]:
    """The components of ``path`` inside the workspace; WorkspaceError if it leaves it."""
    text = (path or "").strip()
    if "\x00" in text:
        raise WorkspaceError("the path contains a NUL character")
    if text in ("", ".", "/", KERNEL_ROOT, KERNEL_ROOT + "/"):
        return []
    if text.startswith(KERNEL_ROOT + "/"):
        text = text[len(KERNEL_ROOT) + 1:]
    if text.startswith("/"):
        raise WorkspaceError(f"{path!r}: give a path relative to the workspace "
                             f"(or under {KERNEL_ROOT}/)")
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if ".." in parts:
        raise WorkspaceError(f"{path!r}: '..' is not allowed")
    return parts


def list_files(root: Path, path: str = "", limit: int = MAX_LIST) -> dict[str, Any]:
    """Files under ``path`` (recursively), as ``{"files": [{"path", "size"}], "truncated"}``;
    hidden names and links are skipped."""
    rel = "/".join(relative_parts(path))
    try:
        found = [{"path": f.path, "size": f.size}
                 for f in itertools.islice(_safe.walk_files(root, rel), limit + 1)]
    except FileNotFoundError:
        raise WorkspaceError(f"{path!r}: no such directory in the workspace") from None
    except (UnsafeName, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WorkspaceError(f"{rel!r} is not a directory of the workspace ({why})") from None
    files = sorted(found[:limit], key=lambda f: f["path"])
    return {"files": files, "truncated": len(found) > limit}


def read_file(root: Path, path: str, max_bytes: int = MAX_READ) -> tuple[str, Any]:
    """``("text", str)``, ``("image", (bytes, mime))`` or a WorkspaceError."""
    parts = relative_parts(path)
    if not parts:
        raise WorkspaceError("give the path of a file")
    try:
        f = _safe.open_file(root, "/".join(parts))
    except FileNotFoundError:
        raise WorkspaceError(f"{path!r}: no such file in the workspace") from None
    except UnsafeName as exc:
        raise WorkspaceError(str(exc)) from None
    except OSError as exc:
        raise WorkspaceError(f"{path!r}: cannot open it ({exc.strerror})") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        mime = IMAGE_TYPES.get(Path(parts[-1]).suffix.lower())
        if mime is not None:
            if size > MAX_WRITE:
                raise WorkspaceError(f"{path!r}: the image is {size:,} bytes; the limit is "
                                     f"{MAX_WRITE:,}")
            return "image", (f.read(), mime)
        data = f.read(max_bytes + 1)
    if b"\x00" in data[:8192]:
        raise WorkspaceError(f"{path!r} is a binary file of {size:,} bytes; read it with "
                             "run_python")
    text = data[:max_bytes].decode("utf-8", errors="replace")
    if len(data) > max_bytes:
        text += f"\n[... truncated: the file has {size:,} bytes; showing the first {max_bytes:,}]"
    return "text", text


def write_file(root: Path, path: str, content: str,
               owner: tuple[int, int] | None = None) -> int:
    """Write ``content`` (UTF-8) to ``path`` by atomic replace, creating directories; the
    bytes written. An existing file must be a regular one without other hard links.

    ``owner``: uid/gid the sandboxed kernel runs as, so it can change the file later.
    """
    parts = relative_parts(path)
    if not parts or any(p.startswith(".") for p in parts):
        raise WorkspaceError(f"{path!r}: give a file path without hidden ('.') names")
    data = content.encode("utf-8")
    if len(data) > MAX_WRITE:
        raise WorkspaceError(f"the content is {len(data):,} bytes; the limit is {MAX_WRITE:,}")
    rel = "/".join(parts)
    try:
        st = _safe.stat_file(root, rel)
        if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_nlink > 1):
            raise WorkspaceError(f"{path!r} is not a regular file (or has other hard links)")
        _safe.write_bytes(root, rel, data, mode=0o644, owner=owner)
    except UnsafeName as exc:
        raise WorkspaceError(str(exc)) from None
    except OSError as exc:
        raise WorkspaceError(f"{path!r}: cannot write it ({exc.strerror})") from None
    return len(data)

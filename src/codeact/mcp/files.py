"""Workspace files for ``codeact mcp``'s list_files / read_file / write_file tools.

The host does these itself (no kernel needed), so it must not be fooled by what model code
left in the workspace: paths are relative (``/workspace/...``, the kernel's view, is
accepted too), ``..`` is refused, and every component is opened relative to its parent
directory with ``O_NOFOLLOW``, so a symbolic link planted in the workspace (even one
swapped in between a check and the open) never leads the host outside it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from codeact.runtime.workspace import UnsafeName, open_dir

KERNEL_ROOT = "/workspace"  # where the sandboxed kernel sees the workspace
MAX_LIST = 500
MAX_READ = 1 << 20  # bytes of text returned by read_file
MAX_WRITE = 10 << 20
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC


class WorkspaceError(ValueError):
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


@contextlib.contextmanager
def _dir_fd(root: Path, parts: list[str], create: bool = False,
            owner: tuple[int, int] | None = None) -> Iterator[int]:
    """A descriptor of ``root/parts...``, each step opened without following links (the
    runtime's one implementation, :func:`codeact.runtime.workspace.open_dir`)."""
    rel = "/".join(parts)
    try:
        fd = open_dir(root, tuple(parts), rel, create=create, owner=owner)
    except FileNotFoundError:
        raise
    except (UnsafeName, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WorkspaceError(f"{rel!r} is not a directory of the workspace ({why})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def list_files(root: Path, path: str = "", limit: int = MAX_LIST) -> dict[str, Any]:
    """Files under ``path`` (recursively), as ``{"files": [{"path", "size"}], "truncated"}``;
    hidden names and links are skipped."""
    parts = relative_parts(path)
    files: list[dict[str, Any]] = []
    truncated = False
    try:
        with _dir_fd(root, parts) as top:
            stack: list[tuple[int, str]] = [(os.dup(top), "/".join(parts))]
            while stack:
                fd, prefix = stack.pop()
                try:
                    names = sorted(os.listdir(fd))
                    for name in names:
                        if name.startswith("."):
                            continue
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        rel = f"{prefix}/{name}" if prefix else name
                        if stat.S_ISDIR(st.st_mode):
                            with contextlib.suppress(OSError):
                                stack.append((os.open(name, _DIR_FLAGS, dir_fd=fd), rel))
                        elif stat.S_ISREG(st.st_mode):
                            if len(files) >= limit:
                                truncated = True
                                break
                            files.append({"path": rel, "size": st.st_size})
                finally:
                    os.close(fd)
                if truncated:
                    break
            for fd, _ in stack:
                os.close(fd)
    except FileNotFoundError:
        raise WorkspaceError(f"{path!r}: no such directory in the workspace") from None
    files.sort(key=lambda f: f["path"])
    return {"files": files, "truncated": truncated}


def read_file(root: Path, path: str, max_bytes: int = MAX_READ) -> tuple[str, Any]:
    """``("text", str)``, ``("image", (bytes, mime))`` or a WorkspaceError."""
    parts = relative_parts(path)
    if not parts:
        raise WorkspaceError("give the path of a file")
    try:
        with _dir_fd(root, parts[:-1]) as d:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC,
                         dir_fd=d)
    except FileNotFoundError:
        raise WorkspaceError(f"{path!r}: no such file in the workspace") from None
    except OSError as exc:
        raise WorkspaceError(f"{path!r}: cannot open it ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise WorkspaceError(f"{path!r} is not a regular file")
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
    """Write ``content`` (UTF-8) to ``path``, creating directories; the bytes written.

    ``owner``: uid/gid the sandboxed kernel runs as, so it can change the file later.
    """
    parts = relative_parts(path)
    if not parts or any(p.startswith(".") for p in parts):
        raise WorkspaceError(f"{path!r}: give a file path without hidden ('.') names")
    data = content.encode("utf-8")
    if len(data) > MAX_WRITE:
        raise WorkspaceError(f"the content is {len(data):,} bytes; the limit is {MAX_WRITE:,}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
    try:
        with _dir_fd(root, parts[:-1], create=True, owner=owner) as d:
            fd = os.open(parts[-1], flags, 0o644, dir_fd=d)
            with os.fdopen(fd, "wb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
                    raise WorkspaceError(f"{path!r} is not a regular file (or has other "
                                         "hard links)")
                f.truncate(0)
                f.write(data)
                if owner is not None:
                    os.fchown(f.fileno(), *owner)
    except WorkspaceError:
        raise
    except OSError as exc:
        raise WorkspaceError(f"{path!r}: cannot write it ({exc.strerror})") from None
    return len(data)

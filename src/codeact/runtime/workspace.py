"""Workspace files: the one path-safety implementation for the runtime and the server.

A workspace is a host directory the kernel sees as its working directory; model code
can put anything there, symbolic links included. Every host-side read or write of a
workspace file goes through here, with two guarantees:

* no escape: a path must be relative, and once ``..`` and links are resolved it must
  still be inside the workspace (:func:`resolve_inside`); the file is then reached by
  walking the resolved path one directory at a time with ``O_NOFOLLOW``, so a link swapped
  in after the check is refused rather than followed;
* atomic writes: data goes to a temporary file in the target's directory, then
  ``os.replace`` puts it in place, so a reader (the kernel, a download) sees the old file
  or the new one, never half of one; a link at the target is replaced, not followed.

Name policy on top (hidden names, odd characters, depth) belongs to the caller: the
server applies its own in ``codeact.server.workspace``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import CodeactError

__all__ = ["UnsafeName", "chown_tree", "copy_file", "list_files", "open_dir", "read_bytes",
           "resolve_inside", "write_bytes"]

log = logging.getLogger("codeact.runtime")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_TMP_PREFIX = ".codeact-tmp-"  # hidden: scans and listings of the server skip it


class UnsafeName(CodeactError, ValueError):
    """A file name that could escape the workspace or is otherwise unusable."""


def resolve_inside(root: Path | str, relpath: str | os.PathLike[str]) -> Path:
    """The absolute path of ``relpath`` inside ``root`` (links resolved), or raise
    :class:`UnsafeName` when it is absolute or would lead outside."""
    rel = Path(relpath)
    if rel.is_absolute():
        raise UnsafeName(f"path {str(relpath)!r} must be relative to the workspace")
    base = Path(root).resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise UnsafeName(f"path {str(relpath)!r} escapes the workspace")
    return target


def open_dir(root: Path | str, parts: tuple[str, ...], relpath: object, *, create: bool,
             owner: tuple[int, int] | None = None) -> int:
    """An fd of ``root/parts...``, reached without following any link (made if asked,
    then handed to ``owner``, the uid/gid the sandboxed kernel runs as)."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, *owner, dir_fd=fd, follow_symlinks=False)
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, fd):
                    raise UnsafeName(f"path {str(relpath)!r} passes through a symbolic "
                                     "link") from None
                raise
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _split(root: Path | str, relpath: str | os.PathLike[str]) -> tuple[Path, Path, str]:
    """(resolved root, resolved target, target's name); the target may not be the root."""
    base = Path(root).resolve()
    target = resolve_inside(base, relpath)
    if target == base:
        raise IsADirectoryError(errno.EISDIR, "the workspace itself is not a file", str(relpath))
    return base, target, target.name


def read_bytes(root: Path | str, relpath: str | os.PathLike[str]) -> bytes:
    """The content of a workspace file; links are never followed out of the workspace."""
    base, target, name = _split(root, relpath)
    dfd = open_dir(base, target.parent.relative_to(base).parts, relpath, create=False)
    try:
        # O_NONBLOCK: a FIFO planted by model code must not hang the host on open
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=dfd)
    finally:
        os.close(dfd)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise UnsafeName(f"path {str(relpath)!r} is not a regular file")
        os.set_blocking(f.fileno(), True)
        return f.read()


def _atomic_write(root: Path | str, relpath: str | os.PathLike[str],
                  fill: Callable[[int], None], mode: int) -> Path:
    """Create the parents, ``fill`` a temporary file beside the target, then replace it.

    An existing regular file's permission bits are kept; a new one gets ``mode`` (less
    the umask)."""
    base, target, name = _split(root, relpath)
    parts = target.parent.relative_to(base).parts
    dfd = open_dir(base, parts, relpath, create=True)
    try:
        resolve_inside(base, relpath)  # re-check now that the parents exist
        keep: int | None = None
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                keep = stat.S_IMODE(st.st_mode)
        tmp = _TMP_PREFIX + secrets.token_hex(6)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     mode, dir_fd=dfd)
        try:
            try:
                if keep is not None:
                    os.fchmod(fd, keep)
                fill(fd)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
    finally:
        os.close(dfd)
    return target


def write_bytes(root: Path | str, relpath: str | os.PathLike[str], data: bytes | str, *,
                mode: int = 0o666) -> Path:
    """Write ``data`` (str: UTF-8) to a workspace file by atomic replace; return its path."""
    payload = data.encode() if isinstance(data, str) else data

    def fill(fd: int) -> None:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]

    return _atomic_write(root, relpath, fill, mode)


def copy_file(root: Path | str, relpath: str | os.PathLike[str], src: Path | str, *,
              keep_times: bool = True) -> Path:
    """Copy the regular file ``src`` (not followed if a link) into the workspace by atomic
    replace, keeping its modification time when ``keep_times``."""
    sfd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(sfd, "rb") as sf:
        st = os.fstat(sf.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(src))

        def fill(fd: int) -> None:
            with os.fdopen(os.dup(fd), "wb") as df:
                shutil.copyfileobj(sf, df, 1 << 20)
            if keep_times:
                os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))

        return _atomic_write(root, relpath, fill, 0o666)


def list_files(root: Path | str) -> list[str]:
    """Files in the workspace, relative paths, sorted (symlinks are not followed)."""
    base = Path(root)
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(base):
        for f in files:
            out.append(str((Path(dirpath) / f).relative_to(base)))
    return sorted(out)


def chown_tree(root: Path, owner: tuple[int, int]) -> None:
    """(host root only) Make the workspace writable by the sandbox user."""
    uid, gid = owner
    try:
        st = os.lstat(root)
        if (st.st_uid, st.st_gid) != owner:
            os.chown(root, uid, gid)
        for dirpath, dirs, files in os.walk(root):
            for name in dirs + files:
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                if (st.st_uid, st.st_gid) != owner:
                    os.chown(p, uid, gid, follow_symlinks=False)
    except OSError as exc:
        log.warning("cannot hand the workspace %s to the sandbox user: %s", root, exc)

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

The operations: :func:`read_bytes` / :func:`open_file`, :func:`write_bytes` /
:func:`copy_file` (atomic), :func:`delete_file`, :func:`stat_file`, :func:`walk_files` (the
walk behind every listing) and :func:`list_files`. Name policy on top (hidden names, odd
characters, depth) and size limits belong to the caller: the server applies its own in
``codeact.server.workspace``, ``codeact mcp`` its own in ``codeact.mcp.files``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import CodeactError

__all__ = ["FileInfo", "UnsafeName", "chown_tree", "copy_file", "delete_file", "list_files",
           "open_dir", "open_file", "read_bytes", "resolve_inside", "stat_file", "walk_files",
           "write_bytes"]

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


def _parent_fd(root: Path | str, relpath: str | os.PathLike[str], *, create: bool = False,
               owner: tuple[int, int] | None = None) -> tuple[Path, Path, str, int]:
    """(resolved root, resolved target, target's name, an fd of the target's directory)."""
    base, target, name = _split(root, relpath)
    dfd = open_dir(base, target.parent.relative_to(base).parts, relpath, create=create,
                   owner=owner)
    return base, target, name, dfd


def open_file(root: Path | str, relpath: str | os.PathLike[str]) -> BinaryIO:
    """A workspace file opened for reading (the caller closes it); :class:`UnsafeName` if
    it is not a regular file. Links are never followed out of the workspace."""
    _base, _target, name, dfd = _parent_fd(root, relpath)
    try:
        # O_NONBLOCK: a FIFO planted by model code must not hang the host on open
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=dfd)
    finally:
        os.close(dfd)
    try:  # checked before fdopen, which refuses a folder without closing the descriptor
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeName(f"path {str(relpath)!r} is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_bytes(root: Path | str, relpath: str | os.PathLike[str]) -> bytes:
    """The content of a workspace file; links are never followed out of the workspace."""
    with open_file(root, relpath) as f:
        return f.read()


def stat_file(root: Path | str, relpath: str | os.PathLike[str]) -> os.stat_result | None:
    """The ``lstat`` of a workspace path (a link is not followed), or None if it does not
    exist."""
    try:
        _base, _target, name, dfd = _parent_fd(root, relpath)
    except FileNotFoundError:
        return None
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    finally:
        os.close(dfd)


def delete_file(root: Path | str, relpath: str | os.PathLike[str]) -> None:
    """Remove a workspace file (a link itself, never what it points to)."""
    _base, _target, name, dfd = _parent_fd(root, relpath)
    try:
        os.unlink(name, dir_fd=dfd)
    finally:
        os.close(dfd)


def _atomic_write(root: Path | str, relpath: str | os.PathLike[str],
                  fill: Callable[[int], None], mode: int,
                  owner: tuple[int, int] | None = None) -> Path:
    """Create the parents, ``fill`` a temporary file beside the target, then replace it.

    An existing regular file's permission bits are kept; a new one gets ``mode`` (less
    the umask). ``owner``: the uid/gid new directories and the file are handed to."""
    base, target, name, dfd = _parent_fd(root, relpath, create=True, owner=owner)
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
                if owner is not None:
                    os.fchown(fd, *owner)
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
                mode: int = 0o666, owner: tuple[int, int] | None = None) -> Path:
    """Write ``data`` (str: UTF-8) to a workspace file by atomic replace; return its path.

    ``owner``: uid/gid (the sandbox user's) that new parent directories and the file get."""
    payload = data.encode() if isinstance(data, str) else data

    def fill(fd: int) -> None:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]

    return _atomic_write(root, relpath, fill, mode, owner)


def copy_file(root: Path | str, relpath: str | os.PathLike[str], src: Path | str | BinaryIO,
              *, keep_times: bool = True) -> Path:
    """Copy the regular file ``src`` (a host path, not followed if a link, or a file opened
    with :func:`open_file`) into the workspace by atomic replace, keeping its modification
    time when ``keep_times``."""
    if not isinstance(src, (str, os.PathLike)):
        return _copy_from(root, relpath, src, keep_times)
    sfd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(sfd, "rb") as sf:
        if not stat.S_ISREG(os.fstat(sf.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(src))
        return _copy_from(root, relpath, sf, keep_times)


def _copy_from(root: Path | str, relpath: str | os.PathLike[str], sf: BinaryIO,
               keep_times: bool) -> Path:
    st = os.fstat(sf.fileno())

    def fill(fd: int) -> None:
        with os.fdopen(os.dup(fd), "wb") as df:
            shutil.copyfileobj(sf, df, 1 << 20)
        if keep_times:
            os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))

    return _atomic_write(root, relpath, fill, 0o666)


@dataclass(frozen=True)
class FileInfo:
    """A file found by :func:`walk_files`: its path relative to the workspace (POSIX)."""

    path: str
    size: int
    mtime_ns: int


def walk_files(root: Path | str, relpath: str | os.PathLike[str] = "", *,
               hidden: bool = False, skip_dirs: Collection[str] = (),
               links: bool = False) -> Iterator[FileInfo]:
    """The regular files under ``relpath`` (default: the whole workspace), recursively.

    Order: a directory's files (sorted by name), then its sub-directories (sorted), depth
    first. Every directory is reached by the ``O_NOFOLLOW`` walk; links are never
    followed. ``hidden``: include names starting with ``.`` (files and directories);
    ``skip_dirs``: directory names not entered; ``links``: also yield symbolic links (and
    other non-directories) that do not point to a directory, with their own ``lstat``.
    Raises ``FileNotFoundError`` / ``NotADirectoryError`` / :class:`UnsafeName` for a bad
    ``relpath``; a sub-directory that cannot be read is skipped."""
    base = Path(root).resolve()
    start = resolve_inside(base, relpath).relative_to(base).parts
    os.close(open_dir(base, start, relpath, create=False))  # a bad start raises here
    stack: list[tuple[str, ...]] = [start]
    while stack:
        parts = stack.pop()
        files: list[FileInfo] = []
        subdirs: list[str] = []
        prefix = "/".join(parts)
        try:
            fd = open_dir(base, parts, prefix, create=False)
        except (OSError, UnsafeName):
            continue  # gone, or swapped for a link since it was listed
        try:
            for name in sorted(os.listdir(fd)):
                if not hidden and name.startswith("."):
                    continue
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    continue
                rel = f"{prefix}/{name}" if prefix else name
                if stat.S_ISDIR(st.st_mode):
                    if name not in skip_dirs:
                        subdirs.append(name)
                elif stat.S_ISREG(st.st_mode) or (links and not _points_to_dir(name, fd)):
                    files.append(FileInfo(rel, st.st_size, st.st_mtime_ns))
        except OSError:
            continue
        finally:
            os.close(fd)
        yield from files
        stack.extend(parts + (name,) for name in reversed(subdirs))


def _points_to_dir(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def list_files(root: Path | str) -> list[str]:
    """Every file in the workspace, hidden ones and links (not followed) included, as
    sorted relative paths."""
    try:
        return sorted(f.path for f in walk_files(root, hidden=True, links=True))
    except (FileNotFoundError, NotADirectoryError):
        return []


def chown_tree(root: Path, owner: tuple[int, int]) -> None:
    """(host root only) Make the workspace writable by the sandbox user.

    Every change goes through a descriptor of a directory opened without following links
    (``os.fwalk``): a live kernel may swap a directory for a link to ``/etc`` while the walk
    is inside it, and a walk by path would then hand host files to the sandbox user."""
    uid, gid = owner
    try:
        st = os.lstat(root)
        if (st.st_uid, st.st_gid) != owner:
            os.chown(root, uid, gid, follow_symlinks=False)
        for _dirpath, dirs, files, dir_fd in os.fwalk(root):
            for name in dirs + files:
                try:
                    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                    if (st.st_uid, st.st_gid) != owner:
                        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
                except FileNotFoundError:  # gone since the listing
                    continue
    except OSError as exc:
        log.warning("cannot hand the workspace %s to the sandbox user: %s", root, exc)

"""Workspace files of a remote kernel, sent as a silent cell: defines ``__codeact_files``.

A kernel on a gateway has its workspace on the gateway's machine, so the host reads and
writes it through the kernel itself (neither Kernel Gateway nor Enterprise Gateway serves
the contents API). ``__codeact_files(root)`` makes ``root`` (``$CODEACT_WORKSPACE`` when the
kernelspec sets one, else a fresh temporary directory) the kernel's working directory and
installs a ``codeact_files`` module whose functions the host calls as user expressions:
``state()`` (relative path -> [size, mtime_ns], regular files only, symlinks not
followed), ``read(paths)`` (path -> base64), both as JSON text (IPython shortens the
repr of a dict past 1000 items, never a string's), ``write(path, b64)``, ``delete(path)`` and
``read_part`` / ``write_part`` (a big file in parts) and ``drop()`` (remove a temporary
workspace at the end). Standard library only.
"""


def __codeact_files(root, max_bytes):
    import base64
    import json
    import os
    import shutil
    import stat
    import sys
    import tempfile
    import types

    own = False
    if not root:
        root = os.environ.get("CODEACT_WORKSPACE") or ""
    if not root:
        root = tempfile.mkdtemp(prefix="codeact-ws-")
        own = True
    os.makedirs(root, exist_ok=True)
    root = os.path.realpath(root)
    os.chdir(root)

    def inside(rel):
        parts = [p for p in str(rel).replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or any(p == ".." for p in parts):
            raise ValueError(f"unsafe workspace path: {rel!r}")
        return os.path.join(root, *parts)

    def state():
        out = {}
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and not name.endswith(".codeact-tmp"):
                    out[os.path.relpath(path, root)] = [st.st_size, st.st_mtime_ns]
        return json.dumps(out)  # a string: IPython abbreviates the repr of a long dict

    def read(paths):
        out = {}
        for rel in paths:
            path = inside(rel)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as f:
                data = f.read(max_bytes + 1)
            if len(data) <= max_bytes:
                out[rel] = base64.b64encode(data).decode()
        return json.dumps(out)

    def write(rel, b64):
        path = inside(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".codeact-tmp"
        with open(tmp, "wb") as f:
            f.write(base64.b64decode(b64))
        os.replace(tmp, path)
        st = os.lstat(path)
        return [st.st_size, st.st_mtime_ns]

    def read_part(rel, offset, size):
        """Part of a file, base64 (big files travel in parts: a gateway drops a WebSocket
        message over 10 MB)."""
        fd = os.open(inside(rel), os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            f.seek(offset)
            return base64.b64encode(f.read(size)).decode()

    def write_part(rel, b64, first, last):
        """Append a part to the file being written; the last one puts it in place."""
        path = inside(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".codeact-tmp"
        with open(tmp, "wb" if first else "ab") as f:
            f.write(base64.b64decode(b64))
        if not last:
            return None
        os.replace(tmp, path)
        st = os.lstat(path)
        return [st.st_size, st.st_mtime_ns]

    def delete(rel):
        try:
            os.unlink(inside(rel))
        except FileNotFoundError:
            pass

    def drop():
        if own:
            os.chdir("/")
            shutil.rmtree(root, ignore_errors=True)

    mod = types.ModuleType("codeact_files")
    vars(mod).update(root=root, state=state, read=read, write=write, read_part=read_part,
                     write_part=write_part, delete=delete, drop=drop)
    sys.modules["codeact_files"] = mod
    return root

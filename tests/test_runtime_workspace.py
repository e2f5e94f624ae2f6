"""codeact.runtime.workspace: the one path-safety implementation (no escape, no link
followed, writes by atomic replace), used by Session and by the server."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from codeact.runtime import workspace as w
from codeact.server import workspace as server_ws


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "ws"
    r.mkdir()
    return r


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    o = tmp_path / "outside"
    o.mkdir()
    (o / "secret").write_text("s")
    return o


def test_write_read_and_list(root: Path) -> None:
    p = w.write_bytes(root, "data/in.csv", b"a,b\n")
    assert p == root / "data" / "in.csv" and p.read_bytes() == b"a,b\n"
    w.write_bytes(root, "note.txt", "héllo")
    assert w.read_bytes(root, "note.txt") == "héllo".encode()
    assert w.list_files(root) == ["data/in.csv", "note.txt"]
    assert w.read_bytes(root, "data/../note.txt") == "héllo".encode()  # stays inside


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "data/../../x", "a/../../b"])
def test_absolute_and_dotdot_escapes_are_refused(root: Path, bad: str) -> None:
    with pytest.raises(w.UnsafeName):
        w.write_bytes(root, bad, b"x")
    with pytest.raises(w.UnsafeName):
        w.read_bytes(root, bad)
    assert not (root.parent / "x").exists() and not (root.parent / "b").exists()


def test_unsafe_name_is_a_value_error_and_the_servers(root: Path) -> None:
    assert server_ws.UnsafeName is w.UnsafeName
    with pytest.raises(ValueError):
        w.resolve_inside(root, "../x")


def test_symlinks_out_are_never_followed(root: Path, outside: Path) -> None:
    os.symlink(outside / "secret", root / "file-link")
    os.symlink(outside, root / "dir-link")
    for name in ("file-link", "dir-link/secret"):
        with pytest.raises(w.UnsafeName):
            w.read_bytes(root, name)
    for name in ("file-link", "dir-link/evil", "dir-link/new/evil"):
        with pytest.raises(w.UnsafeName):
            w.write_bytes(root, name, b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_text() == "s"


def test_a_link_swapped_in_after_the_check_is_refused(root: Path, outside: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The containment check passed, then the kernel replaced a directory with a link:
    the O_NOFOLLOW walk refuses it instead of writing outside."""
    (root / "d").mkdir()
    checked = {name: w.resolve_inside(root, name) for name in ("d/f", "d")}
    os.rmdir(root / "d")
    os.symlink(outside, root / "d")
    monkeypatch.setattr(w, "resolve_inside", lambda _root, rel: checked[str(rel)])
    with pytest.raises(w.UnsafeName, match="symbolic link"):
        w.write_bytes(root, "d/f", b"x")
    with pytest.raises(w.UnsafeName, match="symbolic link"):
        w.read_bytes(root, "d/f")
    assert not (outside / "f").exists()


def test_a_link_at_the_target_is_replaced_not_followed(root: Path, outside: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    os.symlink(outside / "secret", root / "f")
    monkeypatch.setattr(w, "resolve_inside", lambda _root, rel: root / str(rel))
    w.write_bytes(root, "f", b"mine")
    assert not (root / "f").is_symlink() and (root / "f").read_bytes() == b"mine"
    assert (outside / "secret").read_text() == "s"
    os.symlink(outside / "secret", root / "g")
    with pytest.raises(OSError):  # O_NOFOLLOW on the last part too
        w.read_bytes(root, "g")


def test_links_inside_the_workspace_still_work(root: Path) -> None:
    (root / "real").mkdir()
    os.symlink(root / "real", root / "alias")
    w.write_bytes(root, "alias/f", b"x")
    assert (root / "real" / "f").read_bytes() == b"x"
    assert w.read_bytes(root, "alias/f") == b"x"


def test_atomic_replace_a_reader_never_sees_a_half_written_file(root: Path) -> None:
    versions = [bytes([65 + i]) * (4 << 20) for i in range(3)]  # 4 MiB each
    w.write_bytes(root, "big.bin", versions[0])
    stop = threading.Event()
    seen: list[bytes] = []
    bad: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            data = (root / "big.bin").read_bytes()
            if data not in versions:
                bad.append(len(data))
            elif not seen or seen[-1] != data[:1]:
                seen.append(data[:1])

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(12):
            w.write_bytes(root, "big.bin", versions[i % 3])
    finally:
        stop.set()
        t.join()
    assert bad == []
    assert w.list_files(root) == ["big.bin"]  # no temporary file left behind


def test_failed_write_leaves_no_temporary_file(root: Path) -> None:
    (root / "adir").mkdir()
    with pytest.raises(OSError):
        w.write_bytes(root, "adir", b"x")  # cannot replace a directory
    with pytest.raises(IsADirectoryError):
        w.write_bytes(root, ".", b"x")
    assert sorted(os.listdir(root)) == ["adir"] and os.listdir(root / "adir") == []


def test_replace_keeps_an_existing_files_mode(root: Path) -> None:
    p = w.write_bytes(root, "run.sh", b"#!/bin/sh\n", mode=0o644)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644 & ~_umask()
    os.chmod(p, 0o750)
    w.write_bytes(root, "run.sh", b"#!/bin/sh\necho\n")
    assert stat.S_IMODE(p.stat().st_mode) == 0o750


def test_copy_file_keeps_times_and_refuses_a_link_source(root: Path, tmp_path: Path,
                                                          outside: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_bytes(b"copy me")
    os.utime(src, ns=(1_000_000_000, 2_000_000_000))
    p = w.copy_file(root, "sub/c.txt", src)
    assert p.read_bytes() == b"copy me" and p.stat().st_mtime_ns == 2_000_000_000
    os.symlink(outside / "secret", tmp_path / "src-link")
    with pytest.raises(OSError):
        w.copy_file(root, "leak.txt", tmp_path / "src-link")
    assert not (root / "leak.txt").exists()


def test_chown_tree_hands_files_to_an_owner(root: Path) -> None:
    w.write_bytes(root, "a/b.txt", b"x")
    if os.geteuid() != 0:
        pytest.skip("changing owners needs root")
    w.chown_tree(root, (65534, 65534))
    for p in (root, root / "a", root / "a" / "b.txt"):
        assert (p.stat().st_uid, p.stat().st_gid) == (65534, 65534)


def test_chown_tree_keeps_to_the_folder_it_opened(root: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # a live kernel swaps a folder for a link to a host folder while the walk is inside it
    if os.geteuid() != 0:
        pytest.skip("changing owners needs root")
    names = [f"{i}.txt" for i in range(5)]
    for name in names:
        w.write_bytes(root, f"a/{name}", b"x")
    host = tmp_path / "host-etc"
    host.mkdir()
    for name in names:
        (host / name).write_bytes(b"secret")
    real_chown = os.chown
    swapped = []

    def chown_then_swap(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        real_chown(path, *args, **kwargs)
        if os.path.basename(path) in names and not swapped:
            os.rename(root / "a", root / "moved")
            os.symlink(host, root / "a")
            swapped.append(path)

    monkeypatch.setattr(os, "chown", chown_then_swap)
    w.chown_tree(root, (65534, 65534))
    assert swapped
    for name in names:
        assert (host / name).stat().st_uid == 0, name
        assert (root / "moved" / name).stat().st_uid == 65534, name


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_fifo_is_refused_without_blocking_the_host(root: Path) -> None:
    # model code can plant a FIFO; opening it for reading would block forever
    os.mkfifo(root / "pipe")
    done = threading.Event()

    def read() -> None:
        with pytest.raises(w.UnsafeName, match="not a regular file"):
            w.read_bytes(root, "pipe")
        done.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    assert done.is_set()


def test_open_dir_creates_parents_for_an_owner(root: Path) -> None:
    fd = w.open_dir(root, ("a", "b"), "a/b", create=True, owner=(os.getuid(), os.getgid()))
    os.close(fd)
    assert (root / "a" / "b").is_dir()
    (root / "a" / "link").symlink_to(root)
    with pytest.raises(w.UnsafeName, match="symbolic link"):
        w.open_dir(root, ("a", "link"), "a/link", create=False)


def test_walk_files_order_filters_and_sizes(root: Path, outside: Path) -> None:
    for rel in ("b.txt", "a/z.txt", "a/b/y.txt", "c/x.txt", ".hidden", ".dot/h.txt",
                "__pycache__/m.pyc", "a.txt"):
        w.write_bytes(root, rel, rel.encode())
    os.symlink(outside, root / "link-dir")
    os.symlink(outside / "secret", root / "link-file")
    os.mkfifo(root / "pipe")
    # a directory's files first (sorted), then its sub-directories, depth first: the
    # order os.walk gives, which decides what a limited listing keeps
    paths = [f.path for f in w.walk_files(root)]
    assert paths == ["a.txt", "b.txt", "__pycache__/m.pyc", "a/z.txt", "a/b/y.txt",
                     "c/x.txt"]
    assert [f.path for f in w.walk_files(root, skip_dirs=("__pycache__",))][:3] == [
        "a.txt", "b.txt", "a/z.txt"]
    assert {f.path for f in w.walk_files(root, hidden=True)} >= {".hidden", ".dot/h.txt"}
    assert [(f.path, f.size) for f in w.walk_files(root, "a/b")] == [("a/b/y.txt", 9)]
    # list_files: everything but directories, links and FIFOs included, nothing followed
    assert w.list_files(root) == sorted([*paths, ".dot/h.txt", ".hidden", "link-file",
                                         "pipe"])
    with pytest.raises(FileNotFoundError):
        list(w.walk_files(root, "missing"))
    with pytest.raises(NotADirectoryError):
        list(w.walk_files(root, "a.txt"))
    with pytest.raises(w.UnsafeName):
        list(w.walk_files(root, "link-dir"))
    assert w.list_files(root / "missing") == []


def test_walk_files_skips_a_directory_swapped_for_a_link(root: Path, outside: Path) -> None:
    w.write_bytes(root, "d/f.txt", b"x")
    w.write_bytes(root, "e.txt", b"x")
    walk = w.walk_files(root)
    assert next(walk).path == "e.txt"  # "d" is listed, not yet entered
    (root / "d" / "f.txt").unlink()
    os.rmdir(root / "d")
    os.symlink(outside, root / "d")
    assert list(walk) == []  # the link is not entered: "secret" is never listed


def test_open_stat_and_delete(root: Path, outside: Path) -> None:
    w.write_bytes(root, "d/f.txt", b"hello")
    with w.open_file(root, "d/f.txt") as f:
        assert f.read(2) == b"he"
    st = w.stat_file(root, "d/f.txt")
    assert st is not None and stat.S_ISREG(st.st_mode) and st.st_size == 5
    assert w.stat_file(root, "d/none") is None and w.stat_file(root, "none/x") is None
    os.symlink(root / "d" / "f.txt", root / "d" / "alias")
    alias = w.stat_file(root, "d/alias")  # resolved inside the workspace: the file itself
    assert alias is not None and stat.S_ISREG(alias.st_mode)
    w.delete_file(root, "d/f.txt")
    assert not (root / "d" / "f.txt").exists()
    with pytest.raises(FileNotFoundError):
        w.delete_file(root, "d/f.txt")
    os.symlink(outside / "secret", root / "out")
    with pytest.raises(w.UnsafeName):
        w.delete_file(root, "out")
    assert (outside / "secret").exists()


def test_write_for_an_owner_and_copy_from_an_open_file(root: Path, tmp_path: Path) -> None:
    me = (os.getuid(), os.getgid())
    p = w.write_bytes(root, "new/dir/f.txt", b"x", owner=me)
    assert (p.stat().st_uid, p.parent.stat().st_uid) == (me[0], me[0])
    src = tmp_path / "src"
    src.mkdir()
    w.write_bytes(src, "s.txt", b"copied")
    os.utime(src / "s.txt", ns=(1_000_000_000, 3_000_000_000))
    with w.open_file(src, "s.txt") as f:
        q = w.copy_file(root, "c/s.txt", f)
    assert q.read_bytes() == b"copied" and q.stat().st_mtime_ns == 3_000_000_000

"""Tests for codeact.server.workspace: names that cannot escape, writes, scans, mirroring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeact.server import workspace as ws


@pytest.mark.parametrize("name", ["a.txt", "data/a.csv", "résumé.pdf", "x y.txt",
                                  "deep/er/file.bin"])
def test_safe_names_pass(name: str) -> None:
    assert ws.safe_relative_name(name) == name


@pytest.mark.parametrize("name", ["", "  ", "../x", "a/../../x", "/etc/passwd", "\\\\server\\x",
                                  "C:\\x", "c:x", ".", "..", "a//b", ".env", "a/.ssh/k",
                                  "bad\x00name", "tab\tname", "a\\b", "x" * 300,
                                  "/".join(["d"] * 20)])
def test_unsafe_names_refused(name: str) -> None:
    with pytest.raises(ws.UnsafeName):
        ws.safe_relative_name(name)


def test_write_and_download_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "w"
    root.mkdir()
    assert ws.write_file(root, "sub/a.txt", b"hi") == ("sub/a.txt", 2)
    assert (root / "sub/a.txt").read_bytes() == b"hi"
    with ws.open_for_download(root, "sub/a.txt") as f:
        assert f.read() == b"hi"
    with pytest.raises(FileNotFoundError):
        ws.open_for_download(root, "sub")  # a directory is not a file
    with pytest.raises(ws.UnsafeName):
        ws.open_for_download(root, "../w/sub/a.txt")


def test_symlinks_cannot_lead_out(tmp_path: Path) -> None:
    root = tmp_path / "w"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    os.symlink(outside, root / "link")
    os.symlink(outside / "secret", root / "secret-link")
    with pytest.raises(ws.UnsafeName):
        ws.write_file(root, "link/evil.txt", b"x")
    assert not (outside / "evil.txt").exists()
    with pytest.raises(ws.UnsafeName):
        ws.open_for_download(root, "link/secret")
    with pytest.raises(ws.UnsafeName):
        ws.open_for_download(root, "secret-link")
    assert ws.scan(root) == {}


def test_download_reads_the_file_it_opened(tmp_path: Path) -> None:
    # a kernel swapping the file for a link to a host file after it was opened
    root = tmp_path / "w"
    root.mkdir()
    (tmp_path / "secret").write_bytes(b"host secret")
    ws.write_file(root, "out.txt", b"made by the agent")
    with ws.open_for_download(root, "out.txt") as f:
        os.rename(root / "out.txt", root / "old.txt")
        os.symlink(tmp_path / "secret", root / "out.txt")
        assert f.read() == b"made by the agent"
    with pytest.raises(ws.UnsafeName):
        ws.open_for_download(root, "out.txt")
    os.unlink(root / "out.txt")
    os.mkfifo(root / "out.txt")  # a FIFO must not hang the server
    with pytest.raises(ws.UnsafeName):
        ws.open_for_download(root, "out.txt")


def test_scan_skips_hidden_and_limits(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.txt").write_text("x" * i)
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "m.pyc").write_text("c")
    assert ws.scan(tmp_path) == {f"f{i}.txt": i for i in range(5)}
    assert len(ws.scan(tmp_path, limit=2)) == 2
    assert ws.scan(tmp_path / "missing") == {}


def test_mirror_copies_changes_and_removals(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "a.txt").write_text("one")
    (src / "d").mkdir()
    (src / "d" / "b.txt").write_text("two")
    ws.mirror(src, dst)
    assert ws.scan(dst) == {"a.txt": 3, "d/b.txt": 3}
    (src / "a.txt").write_text("changed!")
    (src / "d" / "b.txt").unlink()
    ws.mirror(src, dst)
    assert ws.scan(dst) == {"a.txt": 8}
    assert (dst / "a.txt").read_text() == "changed!"
    assert not (dst / "d").exists()


def test_mirror_never_follows_a_link_in_the_source(tmp_path: Path) -> None:
    src, dst, outside = tmp_path / "src", tmp_path / "dst", tmp_path / "outside"
    for d in (src, outside):
        d.mkdir()
    (outside / "secret").write_text("s")
    os.symlink(outside, src / "d")
    os.symlink(outside / "secret", src / "s.txt")
    (src / "ok.txt").write_text("ok")
    ws.mirror(src, dst)
    assert ws.scan(dst) == {"ok.txt": 2} and not (dst / "d").exists()
    os.symlink(outside / "secret", dst / "gone.txt")  # a link in dst: left, never followed
    (dst / "old.txt").write_text("x")
    ws.mirror(src, dst)
    assert sorted(os.listdir(dst)) == ["gone.txt", "ok.txt"] and (outside / "secret").exists()

"""Workspace file access for `codeact mcp`: never outside the workspace, links or not."""

import os

import pytest

from codeact.mcp.files import (
    WorkspaceError,
    list_files,
    read_file,
    relative_parts,
    write_file,
)


def test_relative_parts():
    assert relative_parts("") == [] and relative_parts("/workspace") == []
    assert relative_parts("a/./b.txt") == ["a", "b.txt"]
    assert relative_parts("/workspace/a/b") == ["a", "b"]
    for bad in ("../x", "a/../../x", "/etc/passwd", "a\x00b"):
        with pytest.raises(WorkspaceError):
            relative_parts(bad)


def test_write_read_list(tmp_path):
    assert write_file(tmp_path, "d/e/f.txt", "héllo") == 6
    assert read_file(tmp_path, "d/e/f.txt") == ("text", "héllo")
    write_file(tmp_path, "d/e/f.txt", "x")  # replaced, not appended
    assert read_file(tmp_path, "/workspace/d/e/f.txt") == ("text", "x")
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / "pic.png").write_bytes(b"\x89PNG")
    assert list_files(tmp_path) == {"files": [{"path": "d/e/f.txt", "size": 1},
                                              {"path": "pic.png", "size": 4}],
                                    "truncated": False}
    assert list_files(tmp_path, "d")["files"] == [{"path": "d/e/f.txt", "size": 1}]
    assert read_file(tmp_path, "pic.png") == ("image", (b"\x89PNG", "image/png"))
    assert list_files(tmp_path, limit=1)["truncated"] is True
    with pytest.raises(WorkspaceError, match="hidden"):
        write_file(tmp_path, ".bashrc", "x")


def test_big_and_binary_files(tmp_path):
    (tmp_path / "big.txt").write_text("a" * 100)
    kind, text = read_file(tmp_path, "big.txt", max_bytes=10)
    assert text.startswith("a" * 10 + "\n[... truncated: the file has 100 bytes")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(WorkspaceError, match="binary file"):
        read_file(tmp_path, "blob.bin")
    with pytest.raises(WorkspaceError, match="no such file"):
        read_file(tmp_path, "missing.txt")


def test_links_out_of_the_workspace_are_never_followed(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, ws / "link.txt")
    os.symlink(tmp_path, ws / "up")
    with pytest.raises(WorkspaceError):
        read_file(ws, "link.txt")
    with pytest.raises(WorkspaceError):
        read_file(ws, "up/secret.txt")
    with pytest.raises(WorkspaceError):
        write_file(ws, "link.txt", "pwned")
    with pytest.raises(WorkspaceError):
        write_file(ws, "up/new.txt", "pwned")
    assert outside.read_text() == "secret" and not (tmp_path / "new.txt").exists()
    assert list_files(ws)["files"] == []  # links are not listed
    os.mkfifo(ws / "fifo")
    with pytest.raises(WorkspaceError):
        read_file(ws, "fifo")  # and does not block
    os.link(outside, ws / "hard.txt")
    with pytest.raises(WorkspaceError, match="hard links"):
        write_file(ws, "hard.txt", "pwned")
    assert outside.read_text() == "secret"


def test_written_files_belong_to_the_sandbox_user(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown")
    write_file(tmp_path, "sub/x.txt", "x", owner=(65534, 65534))
    assert (tmp_path / "sub").stat().st_uid == 65534
    assert (tmp_path / "sub" / "x.txt").stat().st_uid == 65534


def test_writes_replace_the_file_atomically(tmp_path):
    write_file(tmp_path, "f.txt", "one")
    before = os.stat(tmp_path / "f.txt").st_ino
    with open(tmp_path / "f.txt", "rb") as reader:  # a reader keeps the old content
        write_file(tmp_path, "f.txt", "two")
        assert reader.read() == b"one"
    assert (tmp_path / "f.txt").read_text() == "two"
    assert os.stat(tmp_path / "f.txt").st_ino != before
    assert os.listdir(tmp_path) == ["f.txt"]  # no temporary file left


def test_errors_are_codeact_errors_and_value_errors():
    from codeact.errors import CodeactError

    assert issubclass(WorkspaceError, CodeactError) and issubclass(WorkspaceError, ValueError)


def test_limits(tmp_path, monkeypatch):
    from codeact.mcp import files

    monkeypatch.setattr(files, "MAX_WRITE", 4)
    with pytest.raises(WorkspaceError, match="the content is 5 bytes; the limit is 4"):
        write_file(tmp_path, "a.txt", "12345")
    (tmp_path / "big.png").write_bytes(b"\x89PNG1")
    with pytest.raises(WorkspaceError, match="the image is 5 bytes; the limit is 4"):
        read_file(tmp_path, "big.png")
    with pytest.raises(WorkspaceError, match="no such directory"):
        list_files(tmp_path, "missing")
    with pytest.raises(WorkspaceError, match="is not a directory of the workspace"):
        list_files(tmp_path, "big.png")

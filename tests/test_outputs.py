"""grader.outputs: what an output path may be, how it is written, and formula-safe CSV.

Device nodes are made in a temporary folder (as root; skipped otherwise): the machine's own
/dev/null is never touched.
"""

from __future__ import annotations

import csv
import os
import socket
import stat
from pathlib import Path

import pytest

from grader import outputs
from grader.outputs import OutputError

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making device nodes needs root")


def null_device(folder: Path) -> Path:
    """A character device node with /dev/null's numbers (1, 3), made in ``folder``."""
    path = folder / "null"
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


@needs_root
@pytest.mark.parametrize("write", [
    lambda p: outputs.write_text(p, "one\n"),
    lambda p: outputs.write_csv(p, [["a", "=1+1"]]),
    lambda p: outputs.append_text(p, "one\n"),
])
def test_a_character_device_is_written_in_place_never_replaced(tmp_path, write):
    dev = null_device(tmp_path)
    before = os.lstat(dev)
    write(dev)
    after = os.lstat(dev)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary file left behind


def special_files(folder: Path) -> dict[str, Path]:
    """A FIFO, a socket, a folder and a symbolic link pointing out of ``folder``."""
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    sock_path = folder / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    (folder / "dir").mkdir()
    outside = folder.parent / f"{folder.name}-outside.txt"
    outside.write_text("precious")
    (folder / "link").symlink_to(outside)
    return {"FIFO": fifo, "socket": sock_path, "folder": folder / "dir", "symbolic link": folder / "link"}


@pytest.mark.parametrize("kind, says", [
    ("FIFO", "is a FIFO"), ("socket", "is a socket"), ("folder", "is a folder"), ("symbolic link", "is a symbolic link"),
])
@pytest.mark.parametrize("write", ["check", "write_text", "append_text", "write_csv"])
def test_anything_but_a_file_or_device_is_refused_and_left_alone(tmp_path, kind, says, write):
    path = special_files(tmp_path)[kind]
    before = os.lstat(path)
    with pytest.raises(OutputError, match=says) as exc:
        if write == "check":
            outputs.check_file(path)
        elif write == "write_csv":
            outputs.write_csv(path, [["x"]])
        else:
            getattr(outputs, write)(path, "x\n")
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)
    after = os.lstat(path)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert (tmp_path.parent / f"{tmp_path.name}-outside.txt").read_text() == "precious"


def test_a_link_is_not_followed_even_to_a_file(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old")
    (tmp_path / "alias.csv").symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"):
        outputs.write_text(tmp_path / "alias.csv", "new")
    assert target.read_text() == "old" and (tmp_path / "alias.csv").is_symlink()


@pytest.mark.parametrize("where, says", [
    ("nowhere/out.txt", "the folder .*nowhere does not exist"),
    ("afile/out.txt", "is a file, not a folder"),
])
def test_the_folder_must_exist_and_be_a_folder(tmp_path, where, says):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match=says):
        outputs.check_file(tmp_path / where)
    with pytest.raises(OutputError, match=says):
        outputs.check_dir(tmp_path / where)
    assert not (tmp_path / "nowhere").exists()


def test_an_output_folder_must_not_be_a_file_or_a_link(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        outputs.make_dir(tmp_path / "afile")
    with pytest.raises(OutputError, match="symbolic link"):
        outputs.make_dir(tmp_path / "alias")
    assert outputs.make_dir(tmp_path / "new").is_dir() and outputs.make_dir(tmp_path / "new").is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o500)
    with pytest.raises(OutputError, match="not writable"):
        outputs.check_file(tmp_path / "ro" / "out.txt")


def test_a_file_is_replaced_whole_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    path.chmod(0o640)
    outputs.write_text(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    # a failure while writing leaves the old file as it was, and no temporary file
    with pytest.raises(RuntimeError):
        with outputs.open_output(path) as fh:
            fh.write("half")
            raise RuntimeError("stopped")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_planted_link_under_a_temporary_name_is_never_written_through(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    monkeypatch.setattr(outputs.secrets, "token_hex", lambda n: "fixed")
    (tmp_path / ".out.txt.fixed.tmp").symlink_to(victim)
    with pytest.raises(FileExistsError):
        outputs.write_text(tmp_path / "out.txt", "x")
    assert victim.read_text() == "precious"


def test_append_creates_then_appends(tmp_path):
    path = tmp_path / "r.jsonl"
    outputs.append_text(path, "a\n")
    outputs.append_text(path, "b\n")
    assert path.read_text() == "a\nb\n"


@pytest.mark.parametrize("cell, safe", [
    ("=2+5", "'=2+5"), ("+1+1", "'+1+1"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-0.5", "-0.5"), ("+3", "+3"), ("1e-3", "1e-3"), ("ada", "ada"), ("", ""), (2.5, 2.5), (-1, -1),
])
def test_safe_cell(cell, safe):
    assert outputs.safe_cell(cell) == safe


def test_every_cell_of_a_csv_is_kept_from_running_as_a_formula(tmp_path):
    rows = [["student", "score"], ["=HYPERLINK(\"http://x\")", "-2"], ["ok", "@cmd"]]
    path = outputs.write_csv(tmp_path / "g.csv", rows)
    got = list(csv.reader(path.open(newline="")))
    assert got == [["student", "score"], ["'=HYPERLINK(\"http://x\")", "-2"], ["ok", "'@cmd"]]
    assert all(not cell.startswith(outputs.FORMULA_STARTS) or cell == "-2" for row in got for cell in row)

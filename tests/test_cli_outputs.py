"""Every command x every bad output path: one sentence, exit 2, nothing graded, nothing touched.

The rule (grader/outputs.py): the folder an output goes into must exist; a regular file is
replaced whole; a character device is written in place; a folder where a file is needed (or a
file where a folder is needed), a FIFO, a socket or a symbolic link is refused before any work.
Device nodes are made in the test's own folder (as root), never the machine's /dev/null.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
from pathlib import Path

import pytest

import grader.batch
from grader.cli import main
from grader.nbgrader_bridge.course import GENERATED_NAME, config_text, instructor_config_text
from grader.results import SubmissionResult, TestResult

QUIZ = 'forward = "H = D*Y"\n'

# {out} is the bad path; {tmp} the test's folder (holding subs/quiz.py and r.jsonl).
FILE_COMMANDS = {
    "grade --json": ["grade", "--assignment", "quiz", "{tmp}/subs", "--json", "{out}"],
    "report -o": ["report", "{tmp}/r.jsonl", "-o", "{out}"],
    "report --csv": ["report", "{tmp}/r.jsonl", "-o", "{tmp}/report.html", "--csv", "{out}"],
    "gradescope -o": ["gradescope", "--assignment", "quiz", "-o", "{out}"],
    "canvas -o": ["canvas", "{tmp}/r.jsonl", "-o", "{out}"],
}
FOLDER_COMMANDS = {
    "grade --feedback": ["grade", "--assignment", "quiz", "{tmp}/subs", "--feedback", "{out}"],
    "release --course": ["release", "--course", "{out}"],
}


def make_bad(tmp: Path, kind: str) -> Path:
    """A bad output path of ``kind`` in ``tmp``."""
    if kind == "missing folder":
        return tmp / "nowhere" / "out"
    if kind == "file as folder":
        (tmp / "afile").write_text("mine")
        return tmp / "afile" / "out"
    if kind == "folder":
        (tmp / "adir").mkdir()
        return tmp / "adir"
    if kind == "file":
        (tmp / "afile").write_text("mine")
        return tmp / "afile"
    if kind == "FIFO":
        os.mkfifo(tmp / "fifo")
        return tmp / "fifo"
    if kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(tmp / "sock"))
        return tmp / "sock"
    if kind == "symlink out":
        outside = tmp.parent / f"{tmp.name}-outside"
        outside.mkdir()
        (outside / "precious").write_text("precious")
        (tmp / "link").symlink_to(outside / "precious")
        return tmp / "link"
    if kind == "symlink to a folder out":
        outside = tmp.parent / f"{tmp.name}-outside"
        outside.mkdir()
        (tmp / "link").symlink_to(outside)
        return tmp / "link"
    if kind == "unwritable":
        (tmp / "ro").mkdir(mode=0o500)
        return tmp / "ro" / "out"
    raise AssertionError(kind)


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` (and its outside twin): (type and mode, size), links not followed."""
    found = {}
    for root in (folder, folder.parent / f"{folder.name}-outside"):
        if root.exists():
            for path in [root, *root.rglob("*")]:
                st = os.lstat(path)
                found[str(path)] = (st.st_mode, st.st_size if stat.S_ISREG(st.st_mode) else 0)
    return found


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    """The test's folder, with a submission and a results file; grading is watched."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "quiz.py").write_text(QUIZ)
    record = SubmissionResult("subs/ann/quiz.py", "quiz", tests=[TestResult("forward: H", 1.0, 1.0, "passed")])
    (tmp_path / "r.jsonl").write_text(record.to_json() + "\n")
    return tmp_path


@pytest.fixture
def graded(monkeypatch):
    """The submissions graded during the test (grading itself is the real one)."""
    calls = []
    real = grader.batch.grade_submission
    monkeypatch.setattr(grader.batch, "grade_submission", lambda *a, **k: calls.append(a) or real(*a, **k))
    return calls


def run(argv: list[str], tmp: Path, out: Path, capsys) -> tuple[int, str]:
    status = main([a.format(tmp=tmp, out=out) for a in argv])
    return status, capsys.readouterr().err


def assert_refused(status: int, err: str, tmp: Path, before: dict, graded: list) -> None:
    assert status == 2, err
    assert err.startswith("grader: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert graded == [], "graded before refusing the output"
    assert tree(tmp) == before  # nothing created, replaced or written through


FILE_KINDS = ["missing folder", "file as folder", "folder", "FIFO", "socket", "symlink out", "unwritable"]


@pytest.mark.parametrize("kind", FILE_KINDS)
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_bad_output_files_are_refused_before_any_work(tmp, graded, capsys, command, kind):
    if kind == "unwritable" and os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    out = make_bad(tmp, kind)
    before = tree(tmp)
    status, err = run(FILE_COMMANDS[command], tmp, out, capsys)
    assert_refused(status, err, tmp, before, graded)
    assert str(out) in err or str(out.parent) in err


FOLDER_KINDS = ["missing folder", "file as folder", "file", "FIFO", "symlink to a folder out"]


@pytest.mark.parametrize("kind", FOLDER_KINDS)
@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_bad_output_folders_are_refused_before_any_work(tmp, graded, capsys, command, kind):
    out = make_bad(tmp, kind)
    before = tree(tmp)
    status, err = run(FOLDER_COMMANDS[command], tmp, out, capsys)
    assert_refused(status, err, tmp, before, graded)


def fake_course(tmp: Path) -> Path:
    """A folder that passes the commands' course checks (a gradebook with this course's
    assignments, the grader's config): enough to reach the output checks, which come first."""
    course = tmp / "course"
    course.mkdir()
    (course / GENERATED_NAME).write_text(config_text())
    (course / "nbgrader_config.py").write_text(instructor_config_text())
    con = sqlite3.connect(course / "gradebook.db")
    con.executescript("CREATE TABLE assignment (name TEXT); CREATE TABLE student (id TEXT);"
                      "CREATE TABLE submitted_assignment (id TEXT); INSERT INTO assignment VALUES ('quiz');")
    con.commit()
    con.close()
    return course


@pytest.mark.parametrize("command, output, kind", [
    ("autograde", "grades.csv", "folder"), ("autograde", "grades.csv", "FIFO"),
    ("autograde", "grades.csv", "symlink out"),
    ("feedback", "feedback", "file"), ("feedback", "feedback", "FIFO"), ("feedback", "feedback", "symlink to a folder out"),
    ("release", "nbgrader_config.py", "symlink out"), ("release", "gradebook.db", "FIFO"),
])
def test_course_outputs_are_checked_before_nbgrader_runs(tmp, graded, capsys, command, output, kind):
    course = fake_course(tmp)
    bad = make_bad(tmp, kind)
    if (course / output).exists():
        (course / output).unlink()
    bad.rename(course / output)
    before = tree(tmp)
    status, err = run([command, "--course", "{out}"], tmp, course, capsys)
    assert_refused(status, err, tmp, before, graded)
    assert str(course / output) in err and not (course / "autograded").exists()


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making device nodes needs root")


@needs_root
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_device_output_is_written_in_place_and_stays_a_device(tmp, graded, capsys, command):
    dev = tmp / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    before = os.lstat(dev)
    status, err = run(FILE_COMMANDS[command], tmp, dev, capsys)
    assert status == 0, err
    after = os.lstat(dev)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not [p for p in tmp.iterdir() if p.name.startswith(".")]  # no temporary file left
    if command == "grade --json":
        assert len(graded) == 1 and "graded 1 of 1 submission;" in err


@needs_root
def test_a_device_is_no_feedback_folder(tmp, graded, capsys):
    dev = tmp / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    before = tree(tmp)
    status, err = run(FOLDER_COMMANDS["grade --feedback"], tmp, dev, capsys)
    assert_refused(status, err, tmp, before, graded)


def test_dev_stdout_is_this_process_stdout(tmp, graded, capfd):
    assert main(["grade", "--assignment", "quiz", str(tmp / "subs"), "--json", "/dev/stdout"]) == 0
    out, err = capfd.readouterr()
    assert '"submission": "' in out and "records in /dev/stdout" in err


def test_an_existing_results_file_is_resumed_not_replaced_by_a_link(tmp, graded, capsys):
    results = tmp / "r2.jsonl"
    assert main(["grade", "--assignment", "quiz", str(tmp / "subs"), "--json", str(results)]) == 0
    first = results.read_text()
    assert main(["grade", "--assignment", "quiz", str(tmp / "subs"), "--json", str(results)]) == 0
    assert results.read_text() == first and len(graded) == 1
    assert ": 1 of 1 submission; grading the other 0" in capsys.readouterr().err

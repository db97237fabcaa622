"""The bad-usage cells test_cli.py and test_cli_outputs.py leave out: odd arguments, inputs that
are folders, FIFOs or garbage, broken or unknown course definitions, and Ctrl-C in the nbgrader
commands. Each ends in one sentence on stderr, no traceback, a sensible exit status, and nothing
already graded is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.cli import main
from grader.nbgrader_bridge import autograde as bridge
from grader.nbgrader_bridge import course as course_module
from grader.nbgrader_bridge import feedback as feedback_module
from grader.nbgrader_bridge.course import GENERATED_NAME, config_text, instructor_config_text
from grader.nbgrader_bridge.gradebook import db_url
from grader.results import SubmissionResult, TestResult

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tmp(tmp_path):
    """A folder with a submission, a results file, a file, an empty folder, a FIFO and broken
    course definitions."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "quiz.py").write_text('forward = "H = D*Y"\n')
    record = SubmissionResult("subs/ann/quiz/quiz.py", "quiz", tests=[TestResult("forward: H", 1.0, 1.0, "passed")])
    (tmp_path / "r.jsonl").write_text(record.to_json() + "\n")
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "empty").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "baddef").mkdir()
    (tmp_path / "baddef" / "course.toml").write_text("[[[ not toml")
    (tmp_path / "nodefs").mkdir()
    (tmp_path / "nodefs" / "course.toml").write_text("")
    return tmp_path


def one_sentence(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: "), err
    return lines[0]


CASES = [
    (["grade", "--assignment", "quiz", "{tmp}/subs", "--scheduler", "nonsense"], "is not a Dask scheduler address"),
    (["check-solutions", "--repeats", "0"], "--repeats must be at least 1"),
    (["new", "good"], "grader new needs --definition DIR"),
    (["new", "class", "--definition", "{tmp}/def"], "not a keyword"),
    (["new", "good", "--definition", "{tmp}/afile"], "is a file, not a folder"),
    (["new", "good", "--definition", "{tmp}/nowhere/def"], "the folder {tmp}/nowhere does not exist"),
    (["report", "{tmp}/empty", "-o", "{tmp}/r.html"], "{tmp}/empty is not a regular file"),
    (["report", "{tmp}/fifo", "-o", "{tmp}/r.html"], "{tmp}/fifo is not a regular file"),
    (["canvas", "{tmp}/fifo", "-o", "{tmp}/c.csv"], "{tmp}/fifo is not a regular file"),
    (["autograde", "--course", "{tmp}/afile"], "{tmp}/afile is a file, not a course folder"),
    (["feedback", "--course", "{tmp}/afile"], "{tmp}/afile is a file, not a course folder"),
    (["canvas", "--course", "{tmp}/afile", "-o", "{tmp}/c.csv"], "{tmp}/afile is a file, not a course folder"),
    (["autograde", "--course", "{tmp}/empty"], "is not a released course"),
    (["canvas", "{tmp}/r.jsonl", "-o", "{tmp}/c.csv", "--column", "nope=X"], "nope"),
]
DEFINITION_COMMANDS = [
    ["grade", "--assignment", "quiz", "{tmp}/subs"],
    ["report", "{tmp}/r.jsonl", "-o", "{tmp}/r.html"],
    ["canvas", "{tmp}/r.jsonl", "-o", "{tmp}/c.csv"],
    ["gradescope", "--assignment", "quiz", "-o", "{tmp}/a.zip"],
    ["release", "--course", "{tmp}/course"],
    ["autograde", "--course", "{tmp}/empty"],
    ["feedback", "--course", "{tmp}/empty"],
    ["check-solutions"],
]
for argv in DEFINITION_COMMANDS:
    CASES += [
        (argv + ["--definition", "{tmp}/nowhere"], "course definition {tmp}/nowhere is not a folder"),
        (argv + ["--definition", "{tmp}/baddef"], "{tmp}/baddef/course.toml is not valid TOML"),
        (argv + ["--definition", "{tmp}/nodefs"], "declares no assignment"),
    ]


@pytest.mark.parametrize("argv, says", CASES, ids=[" ".join(a).replace("{tmp}/", "") for a, _ in CASES])
def test_bad_usage_is_one_sentence_and_exit_2(tmp, capsys, argv, says):
    before = sorted(p.name for p in tmp.rglob("*"))
    assert main([a.format(tmp=tmp) for a in argv]) == 2
    assert says.format(tmp=tmp) in one_sentence(capsys.readouterr().err)
    assert sorted(p.name for p in tmp.rglob("*")) == before  # nothing written


def test_lines_that_are_not_records_are_said_not_silently_dropped(tmp, capsys):
    results = tmp / "r.jsonl"
    results.write_text(results.read_text() + "garbage\n[1, 2]\n")
    assert main(["report", str(results), "-o", str(tmp / "r.html")]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{results}: skipped 2 line(s) that are not result records" in err


# --- Ctrl-C in the nbgrader commands ---------------------------------------------------------


def interrupted(*args, **kwargs):
    """nbgrader as it is while Ctrl-C arrives: subprocess.run raises KeyboardInterrupt."""
    raise KeyboardInterrupt


def course_with_a_new_submission(tmp: Path) -> Path:
    from nbgrader.api import Gradebook

    course = tmp / "course"
    course.mkdir()
    (course / GENERATED_NAME).write_text(config_text())
    (course / "nbgrader_config.py").write_text(instructor_config_text())
    with Gradebook(db_url(course)) as gb:
        gb.add_assignment("dropout")
    folder = course / "submitted" / "ann" / "dropout"
    folder.mkdir(parents=True)
    (folder / "dropout.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (course / "grades.csv").write_text("assignment,student_id,score\ndropout,bo,7.0\n")  # an earlier export
    (course / "autograded" / "bo" / "dropout").mkdir(parents=True)
    return course


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("command, module, says", [
    ("autograde", bridge, "grader: interrupted; the grades already in the gradebook are kept; the same command grades the rest"),
    ("feedback", feedback_module, "grader: interrupted; the pages already written are kept; the same command writes the rest"),
    ("release", course_module, "grader: interrupted; run the same command again to finish the release"),
])
def test_ctrl_c_in_an_nbgrader_command_is_one_line_and_exit_130(tmp, capsys, monkeypatch, command, module, says):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))  # alembic
    course = course_with_a_new_submission(tmp)
    before = (course / "grades.csv").read_text()
    monkeypatch.setattr(module, "run_nbgrader", interrupted)
    assert main([command, "--course", str(course)]) == 130
    assert one_sentence(capsys.readouterr().err) == says
    assert (course / "grades.csv").read_text() == before  # the last export stands
    assert (course / "autograded" / "bo" / "dropout").is_dir()


@pytest.mark.e2e
def test_ctrl_c_during_a_real_release_then_the_same_command_finishes_it(tmp_path):
    """SIGINT to the whole process group (a terminal's Ctrl-C) while nbgrader generate_assignment
    runs: one line, exit 130, and running release again completes the course."""
    course = tmp_path / "course"
    argv = [sys.executable, "-m", "grader.cli", "release", "--course", str(course)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=REPO)
    try:
        # the source notebooks are written before nbgrader starts: wait for them, then interrupt
        while not (course / "source" / "quiz").is_dir():
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)  # polling for the folder; no time bound is asserted
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode == 0:  # nbgrader finished before the signal arrived: nothing to judge
        pytest.skip("release finished before Ctrl-C arrived")
    assert proc.returncode == 130, err
    said = [line for line in err.strip().splitlines() if not line.startswith("grader: release: ")]  # progress lines
    assert said == ["grader: interrupted; run the same command again to finish the release"], err
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (course / "release").iterdir()) == ["conv", "dropout", "quiz"]


# --- empty inputs in a course -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_a_course_with_no_submissions_says_so(tmp, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))  # alembic
    course = course_with_a_new_submission(tmp)
    (course / "submitted" / "ann" / "dropout" / "dropout.ipynb").unlink()
    (course / "submitted" / "ann" / "dropout").rmdir()
    monkeypatch.setattr(bridge, "run_nbgrader", interrupted)  # must not be started
    monkeypatch.setattr(bridge, "export_grades", lambda course_dir, csv_path, ungraded=(): csv_path)
    assert main(["autograde", "--course", str(course)]) == 0
    assert one_sentence(capsys.readouterr().err) == (
        f"grader: no submissions to grade in {course.resolve() / 'submitted'} (each goes at "
        "submitted/<student>/<assignment>/<assignment>.ipynb, as nbgrader collect puts them)")


@pytest.mark.parametrize("files, says", [
    ({}, "no dropout.ipynb in submitted/ann/dropout/ (found: no notebook)"),
    ({"Dropout.ipynb": "{}"}, "no dropout.ipynb in submitted/ann/dropout/ (found: Dropout.ipynb)"),
    ({"dropout.ipynb": ""}, "dropout.ipynb is empty"),
])
def test_a_submission_folder_without_its_notebook_is_named_not_nbgraders_glob(tmp_path, files, says):
    folder = tmp_path / "submitted" / "ann" / "dropout"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    why = bridge.unreadable(tmp_path, "ann", "dropout")
    assert why is not None and why.startswith(says) and ".grader-submitted" not in why


@pytest.mark.skipif(os.geteuid() != 0, reason="making device nodes needs root")
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_a_device_where_the_feedback_folder_goes_is_refused_and_left_alone(tmp, capsys, monkeypatch):
    import stat

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))  # alembic
    course = course_with_a_new_submission(tmp)
    os.mknod(course / "feedback", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # in the test's folder, never /dev
    before = os.lstat(course / "feedback")
    monkeypatch.setattr(feedback_module, "run_nbgrader", interrupted)  # must not be started
    assert main(["feedback", "--course", str(course)]) == 2
    assert f"{course / 'feedback'} is a file, not a folder" in one_sentence(capsys.readouterr().err)
    after = os.lstat(course / "feedback")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_json_file_that_is_not_a_results_file_is_never_rewritten(tmp, capsys):
    notes = tmp / "notes.txt"
    notes.write_text("my notes\nnot a record\n")
    assert main(["grade", "--assignment", "quiz", str(tmp / "subs"), "--json", str(notes)]) == 2
    assert "holds no result records, so it is not a results file" in one_sentence(capsys.readouterr().err)
    assert notes.read_text() == "my notes\nnot a record\n"


def test_a_torn_line_in_a_results_file_is_said_and_the_records_kept(tmp, capsys):
    results = tmp / "r2.jsonl"
    assert main(["grade", "--assignment", "quiz", str(tmp / "subs"), "--json", str(results)]) == 0
    kept = results.read_text()
    results.write_text('{"submission": "subs/x.py", "assi' + '{"a": 1}\n' + kept)  # a killed run, appended to
    capsys.readouterr()
    assert main(["grade", "--assignment", "quiz", str(tmp / "subs"), "--json", str(results)]) == 0
    err = capsys.readouterr().err
    assert f"{results}: dropping 1 line(s) that are not result records" in err and "Traceback" not in err
    assert results.read_text() == kept  # the record stands; nothing was regraded


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("argv", [[], ["--assignment", "quiz"]])
def test_feedback_with_nothing_autograded_says_so_without_starting_nbgrader(tmp, capsys, monkeypatch, argv):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))  # alembic
    course = course_with_a_new_submission(tmp)
    (course / "autograded" / "bo" / "dropout").rmdir()
    monkeypatch.setattr(feedback_module, "run_nbgrader", interrupted)  # must not be started
    assert main(["feedback", "--course", str(course), *argv]) == 0
    said = one_sentence(capsys.readouterr().err)
    assert said.startswith("grader: nothing autograded") and "run grader autograde --course" in said

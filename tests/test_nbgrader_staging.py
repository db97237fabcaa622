"""What ``grader autograde`` shows nbgrader of ``submitted/``: a checked copy (staging.py), and the
bounds on the nbgrader run. Fast unit tests; the real nbgrader run is in test_nbgrader_hostile.py."""

import os
import subprocess
from pathlib import Path

import pytest

from grader.extract import MAX_SUBMISSION_BYTES
from grader.nbgrader_bridge import autograde as autograde_module
from grader.nbgrader_bridge.autograde import AutogradeIncomplete, autograde, limit_options, run_seconds
from grader.nbgrader_bridge.commands import nbgrader_env
from grader.nbgrader_bridge.gradebook import db_url
from grader.nbgrader_bridge.preprocessor import SandboxGrade
from grader.nbgrader_bridge.staging import MAX_DEPTH, MAX_ENTRIES, MAX_FOLDER_BYTES, STAGING, staged
from grader.nbgrader_bridge.student_ids import refusal
from support import nested
from grader.sandbox.limits import Limits


def _submit(course, student, name="dropout", files=None):
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    default = {f"{name}.ipynb": b'{"cells": []}', "timestamp.txt": b"2026-01-01 10:00:00"}
    for file, data in (default if files is None else files).items():
        (folder / file).write_bytes(data)
    return folder


def _class(course, secret):
    """An honest student (ada) and hostile ones, each with one kind of attack."""
    _submit(course, "ada")
    _submit(course, "*")
    _submit(course, "=2+5")
    linked = _submit(course, "mallory", files={})
    (linked / "dropout.ipynb").symlink_to(secret)
    leaky = _submit(course, "leaky")
    (leaky / "notes.txt").symlink_to(secret)  # nbgrader would copy the file it names into autograded/
    (course / "submitted" / "linked-student").symlink_to(course / "submitted" / "ada", target_is_directory=True)
    (course / "submitted" / "linker").mkdir()
    (course / "submitted" / "linker" / "dropout").symlink_to(course / "submitted" / "ada" / "dropout")
    big = _submit(course, "big", files={})
    with (big / "dropout.ipynb").open("wb") as fh:
        fh.truncate(MAX_SUBMISSION_BYTES + 1)
    piped = _submit(course, "piped", files={})
    os.mkfifo(piped / "dropout.ipynb")
    nested = _submit(course, "nested")
    (nested / "sub").mkdir()
    (nested / "sub" / "link").symlink_to(course / "submitted", target_is_directory=True)


def test_only_checked_submissions_are_staged_and_each_refusal_names_its_folder(tmp_path):
    course = tmp_path / "course"
    secret = tmp_path / "source.ipynb"
    secret.write_text("the course's source notebook")
    _class(course, secret)
    found = {"dropout": sorted(p.name for p in (course / "submitted").iterdir())}
    with staged(course, found) as stage:
        assert stage.folder == course / STAGING
        assert stage.accepted == {"dropout": ["ada"]}
        copied = sorted(p.relative_to(stage.folder).as_posix() for p in stage.folder.rglob("*"))
        assert copied == ["ada", "ada/dropout", "ada/dropout/dropout.ipynb", "ada/dropout/timestamp.txt"]
        for path in stage.folder.rglob("*"):
            assert not path.is_symlink()
            if path.is_file():
                assert path.read_bytes() == (course / "submitted" / path.relative_to(stage.folder)).read_bytes()
        refused = "\n".join(stage.refused)
        assert len(stage.refused) == 9
    assert not (course / STAGING).exists(), "the staging folder goes when grading is done"
    assert refusal("*") in stage.refused and refusal("=2+5") in stage.refused
    for student, why in [
        ("mallory", "dropout.ipynb is a symbolic link, not a file"),
        ("leaky", "notes.txt is a symbolic link, not a file"),
        ("linker", "dropout is a symbolic link, not a file"),
        ("linked-student", "linked-student is a symbolic link, not a file"),
        ("big", "dropout.ipynb is too large (5.0 MB; submissions are limited to 5 MB)"),
        ("piped", "dropout.ipynb is not a regular file"),
        ("nested", "link is a symbolic link, not a file"),
    ]:
        assert f"submitted/{student}/dropout was not graded: {why}" in refused
    assert secret.read_text() == "the course's source notebook"  # nothing was written through a link


def test_a_refused_student_id_is_named_once_whatever_it_submitted(tmp_path):
    course = tmp_path / "course"
    _submit(course, "*", "dropout")
    _submit(course, "*", "conv")
    with staged(course, {"dropout": ["*"], "conv": ["*"]}) as stage:
        assert stage.accepted == {} and stage.refused == [refusal("*")]


def test_the_nbgrader_run_is_bounded_per_submission_never_for_the_class():
    default = Limits()
    # 30 endless loops use their whole budget each; the run must outlast them all.
    assert run_seconds(30) > 30 * default.submission_seconds
    assert run_seconds(60) - run_seconds(30) >= 30 * default.submission_seconds
    small = Limits(load_seconds=2.0, submission_seconds=4.0)
    assert run_seconds(5, small) < run_seconds(5)
    options = limit_options(small)
    assert "--SandboxGrade.submission_seconds=4.0" in options and "--SandboxGrade.load_seconds=2.0" in options
    assert limit_options(None) == []


def test_sandbox_grade_takes_its_limits_from_nbgrader_config():
    from traitlets.config import Config

    config = Config()
    config.SandboxGrade.submission_seconds = 4.0
    config.SandboxGrade.load_seconds = 2.0
    limits = SandboxGrade(config=config).limits()
    assert limits == Limits(load_seconds=2.0, submission_seconds=4.0)
    assert SandboxGrade().limits() is None  # nothing configured: the grader's defaults


def test_a_run_stopped_by_its_bound_keeps_the_grades_and_says_so(tmp_path, monkeypatch):
    """nbgrader killed at its bound (as 30 endless loops once did at the old class-wide 1800 s):
    no traceback, grades.csv is written and the command says which submissions were not graded."""
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    course.mkdir()
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])  # nbgrader runs alembic to make a gradebook
    with Gradebook(db_url(course)) as gb:
        gb.add_assignment("dropout")
    _submit(course, "ada")
    _submit(course, "ben")
    calls = []

    def fake_nbgrader(args, course_dir, check=True, timeout=None):
        calls.append((args, timeout))
        if args[0] == "autograde":  # ada was graded, then the run hit its bound
            (course_dir / "autograded" / "ada" / "dropout").mkdir(parents=True)
            raise subprocess.TimeoutExpired(args, timeout, stderr=b"partial log")
        raise AssertionError(f"unexpected nbgrader call {args}")

    monkeypatch.setattr(autograde_module, "run_nbgrader", fake_nbgrader)
    with pytest.raises(AutogradeIncomplete) as caught:
        autograde(course)
    assert caught.value.failed == [("ben", "dropout")]
    assert "did not finish within" in str(caught.value) and caught.value.csv_path.is_file()
    ((autograde_args, timeout),) = calls  # grades.csv is written by the grader, not by `nbgrader export`
    assert timeout == run_seconds(2) and f"--CourseDirectory.submitted_directory={course / STAGING}" in autograde_args


def test_a_submission_nested_too_deep_is_refused_and_the_class_is_staged(tmp_path):
    """1,100 nested folders in one submission once raised RecursionError in the copy and in the
    clean-up of the staging folder: the class's autograde stopped with a traceback."""
    import sys

    course = tmp_path / "course"
    _submit(course, "ada")
    deep = _submit(course, "deep")
    levels = sys.getrecursionlimit() + 100
    with nested(deep, levels):
        if sys.version_info < (3, 12):  # positive control: the recursive walk the copy used breaks on it
            with pytest.raises(RecursionError):
                list(os.walk(deep))
        with staged(course, {"dropout": ["ada", "deep"]}) as stage:
            assert stage.accepted == {"dropout": ["ada"]}
            assert stage.refused == ["submitted/deep/dropout was not graded: dropout holds folders nested "
                                     f"more than {MAX_DEPTH} deep"]
        assert not (course / STAGING).exists()
    shallow = _submit(course, "shallow")  # the honest twin: folders within the bound are copied
    (shallow / Path(*["d"] * MAX_DEPTH)).mkdir(parents=True)
    with staged(course, {"dropout": ["shallow"]}) as stage:
        assert stage.accepted == {"dropout": ["shallow"]}
        assert (stage.folder / "shallow" / "dropout" / Path(*["d"] * MAX_DEPTH)).is_dir()


def test_a_submission_of_too_many_or_too_large_files_is_refused(tmp_path):
    """Each file within the size limit, but together enough to fill the disk through the copies."""
    course = tmp_path / "course"
    _submit(course, "ada")
    many = _submit(course, "many")
    for n in range(MAX_ENTRIES):
        (many / f"f{n}.txt").write_bytes(b"")
    chunk = b"x" * MAX_SUBMISSION_BYTES
    _submit(course, "heavy", files={f"part{n}.bin": chunk for n in range(MAX_FOLDER_BYTES // MAX_SUBMISSION_BYTES + 1)})
    _submit(course, "twin", files={f"part{n}.bin": chunk for n in range(MAX_FOLDER_BYTES // MAX_SUBMISSION_BYTES)})
    with staged(course, {"dropout": ["ada", "heavy", "many", "twin"]}) as stage:
        assert stage.accepted == {"dropout": ["ada", "twin"]}
        assert stage.refused == [
            f"submitted/heavy/dropout was not graded: dropout holds more than {MAX_FOLDER_BYTES / 1e6:g} MB of "
            "files in all: submit the notebook and the files it needs only",
            f"submitted/many/dropout was not graded: dropout holds more than {MAX_ENTRIES} files and folders",
        ]
        assert sorted(p.name for p in (stage.folder / "twin" / "dropout").iterdir())[:2] == ["part0.bin", "part1.bin"]

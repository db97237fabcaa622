"""Progress on the long nbgrader steps, and a re-run of autograde with nothing new that does not
start nbgrader at all."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader import grading_version
from grader.nbgrader_bridge import autograde as bridge
from grader.nbgrader_bridge import course as course_module
from grader.nbgrader_bridge import rerun
from grader.nbgrader_bridge.autograde import GRADES_CSV, autograde
from grader.nbgrader_bridge.gradebook import db_url, read_gradebook
from grader.nbgrader_bridge.progress import fresh_files, watch

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _wait_for(predicate, what: str) -> None:
    """Wait for the watcher thread to have done something (never a timing assertion: the bound
    only keeps a broken watcher from hanging the suite)."""
    event = threading.Event()
    for _ in range(2000):
        if predicate():
            return
        event.wait(0.01)
    pytest.fail(f"never happened: {what}")


def test_plain_lines_when_not_a_terminal(tmp_path):
    stream = io.StringIO()
    counter = fresh_files(tmp_path, "*/*/*.ipynb", 0.0)
    with watch("autograde", "submission", 3, counter, stream=stream, every=0.01):
        for student in ("ann", "bo"):
            (tmp_path / student / "dropout").mkdir(parents=True)
            (tmp_path / student / "dropout" / "dropout.ipynb").write_text("{}")
        _wait_for(lambda: "2/3" in stream.getvalue(), "a line saying 2 of 3 are done")
    line = next(line for line in stream.getvalue().splitlines() if "2/3" in line)
    assert line.startswith("grader: autograde: 2/3 submission(s) done (")
    assert "\r" not in stream.getvalue()  # no bar drawing in a log


def test_a_bar_on_a_terminal(tmp_path):
    stream = Terminal()
    with watch("release", "assignment", 2, fresh_files(tmp_path, "*/*.ipynb", 0.0), stream=stream, every=60.0):
        (tmp_path / "dropout").mkdir()
        (tmp_path / "dropout" / "dropout.ipynb").write_text("{}")
        _wait_for(lambda: "1/2" in stream.getvalue(), "the bar at 1/2")
    assert "release" in stream.getvalue() and "grader: release" not in stream.getvalue()


def test_nothing_shown_for_nothing_to_do():
    stream = io.StringIO()
    with watch("autograde", "submission", 0, lambda: pytest.fail("not counted"), stream=stream, every=0.0):
        pass
    assert stream.getvalue() == ""


def test_fresh_files_counts_only_new_visible_files(tmp_path):
    old = tmp_path / "ann" / "dropout" / "dropout.ipynb"
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    os.utime(old, (1_000_000, 1_000_000))
    hidden = tmp_path / "bo" / ".ipynb_checkpoints" / "x.ipynb"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("{}")
    new = tmp_path / "bo" / "dropout" / "dropout.ipynb"
    new.parent.mkdir(parents=True)
    new.write_text("{}")
    assert fresh_files(tmp_path, "*/*/*.ipynb", 2_000_000)() == 1


def test_release_shows_progress_over_the_assignments(tmp_path, monkeypatch):
    """release wraps nbgrader generate_assignment in the progress watcher, counting the
    released notebooks."""
    seen = {}

    def fake_nbgrader(args, course_dir, **kwargs):
        for name in ("dropout", "conv", "quiz"):
            (course_dir / "release" / name).mkdir(parents=True, exist_ok=True)
            (course_dir / "release" / name / f"{name}.ipynb").write_text("{}")
        return subprocess.CompletedProcess(args, 0, "", "")

    real_watch = course_module.watch

    def spy(what, unit, total, count, **kwargs):
        seen.update(what=what, total=total, count=count)
        return real_watch(what, unit, total, count, **kwargs)

    monkeypatch.setattr(course_module, "run_nbgrader", fake_nbgrader)
    monkeypatch.setattr(course_module, "watch", spy)
    course_module.release(tmp_path / "course")
    assert seen["what"] == "release" and seen["total"] == 3 and seen["count"]() == 3


# --- a re-run of autograde -------------------------------------------------------------------


@pytest.fixture
def graded_course(tmp_path, monkeypatch):
    """A course where ann and bo submitted dropout and both were autograded, by this grading
    code, and grades.csv was exported after; nbgrader calls are recorded, never run."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    course = tmp_path / "course"
    course.mkdir()
    with Gradebook(db_url(course)) as gb:
        gb.add_assignment("dropout")
        for student in ("ann", "bo"):
            gb.add_student(student)
    for student in ("ann", "bo"):
        for root in ("submitted", "autograded"):
            folder = course / root / student / "dropout"
            folder.mkdir(parents=True)
            (folder / "dropout.ipynb").write_text("{}")
            (folder / "timestamp.txt").write_text("2026-01-10 10:00:00.000000 UTC")
    rerun.stamp(course)
    (course / GRADES_CSV).write_text("assignment,...\n")
    calls = []

    def fake_nbgrader(args, course_dir, **kwargs):
        # the staged copy of submitted/ and the sandbox limits are other tests' business
        shown = [a for a in args if not a.startswith(("--CourseDirectory.submitted_directory=", "--SandboxGrade."))]
        calls.append(" ".join(shown))
        return subprocess.CompletedProcess(args, 0, "", "")

    def fake_export(course_dir, csv_path, ungraded=()):
        calls.append("export")
        Path(csv_path).write_text("assignment,...\n")
        return csv_path

    monkeypatch.setattr(bridge, "run_nbgrader", fake_nbgrader)
    monkeypatch.setattr(bridge, "export_grades", fake_export)
    return course, calls


def test_a_rerun_with_nothing_new_starts_no_nbgrader(graded_course):
    course, calls = graded_course
    assert autograde(course) == course / GRADES_CSV
    assert calls == []


def test_hand_grading_since_the_export_exports_again_without_autograding(graded_course):
    course, calls = graded_course
    os.utime(course / GRADES_CSV, (1_000_000, 1_000_000))  # older than the gradebook
    autograde(course)
    assert calls == ["export"]
    calls.clear()
    autograde(course)
    assert calls == []


def test_a_resubmission_is_graded(graded_course):
    course, calls = graded_course
    (course / "submitted" / "bo" / "dropout" / "timestamp.txt").write_text("2026-01-11 09:00:00.000000 UTC")
    autograde(course)
    assert calls == ["autograde *", "export"]


def test_a_new_student_is_graded(graded_course):
    course, calls = graded_course
    (course / "submitted" / "cy" / "dropout").mkdir(parents=True)
    (course / "submitted" / "cy" / "dropout" / "dropout.ipynb").write_text("{}")
    with pytest.raises(bridge.AutogradeIncomplete):  # the fake nbgrader graded nothing
        autograde(course)
    assert calls[0] == "autograde *"
    assert "cy" in {s.id for s in read_gradebook(course).students}


def test_force_always_runs_nbgrader(graded_course):
    course, calls = graded_course
    autograde(course, force=True)
    assert calls[0] == "autograde * --force"


def test_changed_grading_code_is_said_but_not_regraded_without_force(graded_course, capsys):
    course, calls = graded_course
    (course / rerun.STAMP).write_text("0.0+older\n")
    autograde(course)
    assert calls == []
    assert "--force regrades every submission" in capsys.readouterr().err
    autograde(course, force=True)
    assert calls[0] == "autograde * --force"
    assert (course / rerun.STAMP).read_text().strip() == grading_version()


def test_pending_follows_nbgraders_rule(tmp_path):
    def place(root, student, stamp):
        folder = tmp_path / root / student / "quiz"
        folder.mkdir(parents=True)
        if stamp is not None:
            (folder / "timestamp.txt").write_text(stamp)

    place("submitted", "same", "2026-01-10 10:00:00 UTC")
    place("autograded", "same", "2026-01-10 10:00:00 UTC")
    place("submitted", "newer", "2026-01-10 10:00:01 UTC")
    place("autograded", "newer", "2026-01-10 10:00:00 UTC")
    place("submitted", "never", None)
    place("submitted", "untimed", None)  # placed by hand: nbgrader keeps the autograded copy
    place("autograded", "untimed", None)
    found = {"quiz": ["same", "newer", "never", "untimed"]}
    assert rerun.pending(tmp_path, found) == [("never", "quiz"), ("newer", "quiz")]


@pytest.mark.parametrize("text", [
    "2026-01-10 10:00:00.000000 UTC", "2026-01-10 10:00:00 America/New_York", "2026-01-10 10:00:00",
    "2026-01-10T10:00:00+02:00", "2026-01-10 10:00:00 3600",
])
def test_timestamps_are_read_as_nbgrader_reads_them(text):
    from nbgrader.utils import parse_utc

    assert rerun.parse_utc(text) == parse_utc(text)

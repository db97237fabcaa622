"""Canvas grades CSV: layout, students, and clear errors for the wrong inputs."""

from __future__ import annotations

import csv
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.nbgrader_bridge.gradebook import db_url
from grader.platforms import PlatformError
from grader.platforms.canvas import (
    HEADER,
    POINTS_ROW,
    canvas_csv_from_course,
    canvas_csv_from_results,
    looks_like_download_name,
    student_of,
)
from grader.results import SubmissionResult, TestResult

# nbgrader's own add_submission (test set-up only) trips SQLAlchemy autoflush warnings.
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def read(path):
    return list(csv.reader(path.open(newline="")))


def test_student_from_submission_path():
    assert student_of("course/submitted/alice/dropout/dropout.ipynb", "dropout") == "alice"
    assert student_of("subs/bob/quiz.py", "quiz") == "bob"
    assert student_of("subs/carol.ipynb", "conv") == "carol"
    assert student_of(r"C:\subs\dave\conv\conv.ipynb", "conv") == "dave"


def test_csv_from_results_file(tmp_path, capsys):
    results = [
        SubmissionResult("sub/alice/dropout/dropout.ipynb", "dropout", tests=[TestResult("a", 7.5, 10, "passed")]),
        SubmissionResult("sub/bob/dropout/dropout.ipynb", "dropout", status="error", message="bad", max_score_if_error=10),
        SubmissionResult("sub/alice/quiz/quiz.ipynb", "quiz", tests=[TestResult("b", 3, 12, "failed")]),
    ]
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("".join(r.to_json() + "\n" for r in results))
    out = canvas_csv_from_results(jsonl, tmp_path / "grades.csv", columns={"quiz": "Quiz 8 (1234)"})
    rows = read(out)
    assert rows[0] == [*HEADER, "dropout", "Quiz 8 (1234)"]
    assert rows[1] == [POINTS_ROW, "", "", "", "", "10", "12"]
    assert rows[2] == ["alice", "", "", "alice", "", "7.5", "3"]
    assert rows[3] == ["bob", "", "", "bob", "", "", ""]  # ungradable: not a grade; no quiz: left empty
    err = capsys.readouterr().err
    assert "1 submission(s) could not be graded" in err and "bob/dropout" in err and "--ungraded zero" in err
    assert "alice" not in err
    zero = read(canvas_csv_from_results(jsonl, tmp_path / "zero.csv", ungraded="zero"))
    assert zero[3] == ["bob", "", "", "bob", "", "0", ""]  # the instructor's choice: 0, still named
    assert "bob/dropout" in capsys.readouterr().err


def test_two_submissions_of_one_student_is_an_error(tmp_path):
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(
        SubmissionResult("a/alice/dropout/x.ipynb", "dropout").to_json() + "\n"
        + SubmissionResult("a/alice/dropout/y.ipynb", "dropout").to_json() + "\n"
    )
    with pytest.raises(PlatformError, match="both belong to student 'alice'"):
        canvas_csv_from_results(jsonl, tmp_path / "g.csv")
    with pytest.raises(PlatformError, match="does not exist"):
        canvas_csv_from_results(tmp_path / "missing.jsonl", tmp_path / "g.csv")


@pytest.fixture(autouse=True)
def alembic_on_path(monkeypatch):
    # nbgrader runs the `alembic` executable from PATH when it creates a new gradebook.
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))


def make_gradebook(course, assignment="dropout"):
    course.mkdir()
    with Gradebook(db_url(course)) as gb:
        gb.add_assignment(assignment)
        gb.add_notebook(assignment, assignment)
        gb.add_grade_cell("c1", assignment, assignment, max_score=6, cell_type="code")
        gb.add_grade_cell("c2", assignment, assignment, max_score=4, cell_type="code")
        gb.add_student("alice", first_name="Alice", last_name="Liddell", lms_user_id="9001")
        gb.add_student("bob")
        gb.add_student("=cmd")  # a hostile id must not become a spreadsheet formula
        gb.add_submission(assignment, "alice")
        gb.find_grade("c1", assignment, assignment, "alice").auto_score = 6
        gb.find_grade("c2", assignment, assignment, "alice").auto_score = 1.5
        gb.add_submission(assignment, "=cmd")
        gb.db.commit()


def test_csv_from_course_gradebook(tmp_path, capsys):
    course = tmp_path / "course"
    make_gradebook(course)
    rows = read(canvas_csv_from_course(course, tmp_path / "g.csv"))
    assert rows[0] == [*HEADER, "dropout"]
    assert rows[1][0] == POINTS_ROW and rows[1][5] == "10"
    assert rows[2] == ["'=cmd", "", "", "'=cmd", "", ""]  # submitted, never scored: not a 0
    assert rows[3] == ["Liddell, Alice", "9001", "", "alice", "", "7.5"]
    assert rows[4] == ["bob", "", "", "bob", "", ""]
    err = capsys.readouterr().err
    assert "1 submission(s) could not be graded" in err and "=cmd/dropout" in err
    assert "alice" not in err and "bob" not in err  # a student who did not submit is no warning
    zero = read(canvas_csv_from_course(course, tmp_path / "z.csv", ungraded="zero"))
    assert zero[2][5] == "0" and zero[3][5] == "7.5" and zero[4][5] == ""


def test_course_errors_are_one_sentence(tmp_path):
    with pytest.raises(PlatformError, match="does not exist; create it with: grader release"):
        canvas_csv_from_course(tmp_path / "nope", tmp_path / "g.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlatformError, match="has no gradebook.db"):
        canvas_csv_from_course(tmp_path / "empty", tmp_path / "g.csv")
    other = tmp_path / "other"
    make_gradebook(other, assignment="hw1")
    with pytest.raises(PlatformError, match=r"none of this course's assignments .*it holds: hw1"):
        canvas_csv_from_course(other, tmp_path / "g.csv")
    junk = tmp_path / "junk"
    junk.mkdir()
    con = sqlite3.connect(junk / "gradebook.db")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = (junk / "gradebook.db").read_bytes()
    with pytest.raises(PlatformError, match="is not an nbgrader gradebook"):
        canvas_csv_from_course(junk, tmp_path / "g.csv")
    assert (junk / "gradebook.db").read_bytes() == before  # never written to
    (junk / "gradebook.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(PlatformError, match="is not an nbgrader gradebook"):
        canvas_csv_from_course(junk, tmp_path / "g.csv")


def test_bad_id_column(tmp_path):
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(SubmissionResult("a.py", "quiz").to_json() + "\n")
    with pytest.raises(PlatformError, match="unknown student id column"):
        canvas_csv_from_results(jsonl, tmp_path / "g.csv", id_column="Email")


def test_a_column_name_for_an_assignment_without_grades_is_refused(tmp_path):
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(SubmissionResult("a.py", "quiz").to_json() + "\n")
    with pytest.raises(PlatformError, match="no grades for droput to name a column for; the grades are for: quiz"):
        canvas_csv_from_results(jsonl, tmp_path / "g.csv", columns={"droput": "Dropout (4321)"})
    assert not (tmp_path / "g.csv").exists()


def test_ids_from_lms_downloads_are_named_in_a_warning(tmp_path, capsys):
    results = [
        SubmissionResult("downloads/Ben Smith - dropout (2).ipynb", "dropout", tests=[TestResult("a", 1, 1, "passed")]),
        SubmissionResult("downloads/ada_dropout.ipynb", "dropout", tests=[TestResult("a", 1, 1, "passed")]),
        SubmissionResult("submitted/carol/dropout/dropout.ipynb", "dropout", tests=[TestResult("a", 1, 1, "passed")]),
    ]
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("".join(r.to_json() + "\n" for r in results))
    rows = read(canvas_csv_from_results(jsonl, tmp_path / "g.csv"))
    assert [r[3] for r in rows[2:]] == ["Ben Smith - dropout (2)", "ada_dropout", "carol"]  # written, but...
    err = capsys.readouterr().err
    assert "2 student id(s) look like file names from an LMS download" in err
    assert "'Ben Smith - dropout (2)'" in err and "'ada_dropout'" in err and "carol" not in err
    assert "could not be graded" not in err


def test_ids_from_lms_downloads_in_a_gradebook_are_named(tmp_path, capsys):
    course = tmp_path / "course"
    make_gradebook(course)
    with Gradebook(db_url(course)) as gb:
        gb.add_student("ada_dropout")
        gb.add_submission("dropout", "ada_dropout")
        gb.find_grade("c1", "dropout", "dropout", "ada_dropout").auto_score = 6
        gb.db.commit()
    rows = read(canvas_csv_from_course(course, tmp_path / "g.csv"))
    assert ["ada_dropout", "", "", "ada_dropout", "", "6"] in rows  # scored: a grade, c2 unscored counts 0
    err = capsys.readouterr().err
    assert "1 student id(s) look like file names" in err and "'ada_dropout'" in err
    assert "ada_dropout/dropout" not in err  # it was graded


@pytest.mark.parametrize("student, odd", [
    ("alice", False), ("ben.smith", False), ("o-neil_2", False), ("dropout", False),
    ("ada_dropout", True), ("Ben Smith - dropout (2)", True), ("bob (1)", True), ("smithben_1234_5678_conv", True),
    ("carol\t", True),
])
def test_download_name_heuristic(student, odd):
    assert looks_like_download_name(student, ["dropout", "conv", "quiz"]) is odd


def test_cli_ungraded_choice(tmp_path, capsys):
    from grader.cli import main

    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(SubmissionResult("s/bob/dropout/dropout.ipynb", "dropout", status="error", message="x",
                                      max_score_if_error=10).to_json() + "\n")
    assert main(["canvas", str(jsonl), "-o", str(tmp_path / "z.csv"), "--ungraded", "zero"]) == 0
    assert read(tmp_path / "z.csv")[2][5] == "0"
    assert main(["canvas", str(jsonl), "-o", str(tmp_path / "b.csv")]) == 0
    assert read(tmp_path / "b.csv")[2][5] == ""
    assert capsys.readouterr().err.count("bob/dropout") == 2

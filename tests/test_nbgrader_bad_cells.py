"""Duplicated and deleted nbgrader cells through the real ``grader autograde`` and gradebook.

Stock nbgrader stops the whole run at a notebook with a duplicated grade cell (its issue #1083:
the students after it are never graded) and gives a deleted autograder cell no points. Here one
``grader autograde`` run grades a class with such notebooks, a file that is not a notebook at all
(nbgrader fails on it: the command must exit 1 naming it) and a correct student sorted last.
"""

import contextlib
import copy
import io
import uuid

import nbformat
import pytest

from grader import assignments
from grader.cli import main
from grader.grading import grade_submission
from grader.nbgrader_bridge.autograde import read_scores
from grader.nbgrader_cells import grade_id, is_grade, is_solution, metadata, points
from support import cell_grades, digest, feedback_secrets, page_leaks, reference_notebook, submit_notebook

pytestmark = pytest.mark.e2e

NAME = "dropout"
BROKEN = "e-not-json"
CORRECT = "z-correct"


def _index(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def _copy(cell):
    """A copy of a cell as Jupyter pastes it (a new cell id)."""
    new = copy.deepcopy(cell)
    new["id"] = uuid.uuid4().hex[:8]
    return new


def _students(course):
    """student id -> notebook (or bytes), each with one kind of damage to its nbgrader cells."""
    released = nbformat.read(str(course / "release" / NAME / f"{NAME}.ipynb"), as_version=4)
    good = reference_notebook(course, NAME)
    tests = [grade_id(c) for c in good.cells if is_grade(c) and not is_solution(c)]
    solutions = [grade_id(c) for c in good.cells if is_solution(c)]

    dup_test = copy.deepcopy(good)
    first = _index(dup_test, tests[0])
    dup_test.cells.insert(first + 1, _copy(dup_test.cells[first]))
    dup_test.cells.append(_copy(dup_test.cells[_index(dup_test, tests[-1])]))

    del_test = copy.deepcopy(good)
    del del_test.cells[_index(del_test, tests[1])]

    # the untouched placeholder first, the student's working copy after it: both are graded in order
    dup_solution = copy.deepcopy(good)
    at = _index(dup_solution, solutions[0])
    dup_solution.cells.insert(at, _copy(released.cells[_index(released, solutions[0])]))

    del_solution = copy.deepcopy(good)
    del del_solution.cells[_index(del_solution, solutions[1])]

    return {
        "a-duplicated-test": dup_test,
        "b-deleted-test": del_test,
        "c-duplicated-solution": dup_solution,
        "d-deleted-solution": del_solution,
        BROKEN: b"{ this is not a notebook",
        CORRECT: good,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("badcells")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the commands as an instructor types them
        assert main(["release", "--course", str(course)]) == 0
    assert f"into {course / 'release'}" in out.getvalue() and "dropout" in out.getvalue()
    paths = {}
    for student, nb in _students(course).items():
        paths[student] = submit_notebook(course, student, NAME, nb)
    before = {s: digest(p) for s, p in paths.items()}
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["autograde", "--course", str(course)])
        assert main(["feedback", "--course", str(course)]) == 0
    return course, paths, before, status, out.getvalue(), err.getvalue()


def test_every_readable_submission_is_graded_and_the_failure_named(graded):
    course, paths, _, status, out, err = graded
    assert status == 1, err
    assert f"could not grade 1 submission(s): {BROKEN}/{NAME}." in err
    # the same sentence grader grade gives for that file, not nbgrader's traceback
    assert f"{BROKEN}/{NAME}: {NAME}.ipynb is not a valid notebook: it is not JSON" in err and "Traceback" not in err, err
    assert "grades.csv (incomplete)" in out
    autograded = {p.name for p in (course / "autograded").iterdir()}
    assert autograded == set(paths) - {BROKEN}
    rows = (course / "grades.csv").read_text().splitlines()
    assert any(f",{CORRECT}," in r and r.endswith(",10.0,0.0,10.0,10.0") for r in rows), rows
    assert any(f",{BROKEN}," in r and r.endswith(",,,,10.0") for r in rows), rows  # no grade, not a 0


def test_scores_equal_grader_grade_cell_by_cell(graded):
    course, paths, _, _, _, _ = graded
    scores = {s.student: s.score for s in read_scores(course) if s.assignment == NAME}
    for student, path in paths.items():
        if student == BROKEN:
            continue
        direct = grade_submission(path, NAME)
        assert direct.status == "graded", (student, direct.message)
        in_gradebook = cell_grades(course, student, NAME)
        expected = {g: score for g, (score, _) in direct.cell_scores().items()}
        assert {g: score for g, (score, _) in in_gradebook.items()} == pytest.approx(expected), student
        assert scores[student] == pytest.approx(direct.score), student
    top = sum(points(c) for c in nbformat.read(str(assignments.get(NAME).notebook), as_version=4).cells)
    assert scores[CORRECT] == scores["a-duplicated-test"] == scores["b-deleted-test"] == pytest.approx(top)
    assert scores["c-duplicated-solution"] == pytest.approx(top), "the later copy of the solution counts"
    assert scores["d-deleted-solution"] < top


def test_repairs_are_explained_and_submitted_files_are_untouched(graded):
    course, paths, before, _, _, _ = graded
    assert {s: digest(p) for s, p in paths.items()} == before

    def report(student):
        nb = nbformat.read(str(course / "autograded" / student / NAME / f"{NAME}.ipynb"), as_version=4)
        ids = [grade_id(c) for c in nb.cells if metadata(c)]
        text = "".join(o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", []))
        return ids, text

    correct_ids, _ = report(CORRECT)
    for student in ("a-duplicated-test", "b-deleted-test"):
        ids, text = report(student)
        assert ids == correct_ids, student  # one of each nbgrader cell, in the source's order
        assert ("appears 2 times" if student.startswith("a-") else "was missing from the notebook") in text
    ids, text = report("c-duplicated-solution")
    assert ids == correct_ids and "appears more than once; all copies were graded in order" in text
    assert "is missing from the notebook (deleted?)" in report("d-deleted-solution")[1]


def test_feedback_pages_say_what_was_restored_and_hide_the_restored_tests(graded):
    course, paths, _, _, _, _ = graded
    pages = {p.parts[-3]: p for p in (course / "feedback").glob(f"*/{NAME}/{NAME}.html")}
    assert set(pages) == set(paths) - {BROKEN}
    assert "appears 2 times" in pages["a-duplicated-test"].read_text()
    assert "was missing from the notebook" in pages["b-deleted-test"].read_text()
    secrets = feedback_secrets()
    assert not {s: found for s, page in pages.items() if (found := page_leaks(course, page, secrets))}

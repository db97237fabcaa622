"""End to end through the real nbgrader commands and the real SQLite gradebook.

One course is built per module (release, the sample class, a student submitting the reference
solutions), autograded and given feedback once; the tests read the results back.
"""

import importlib
import inspect
import re

import nbformat
import pytest

from grader import assignments
from grader.grading import grade_submission
from grader.nbgrader_bridge.autograde import autograde, gradebook, read_scores
from grader.nbgrader_bridge.course import release
from grader.nbgrader_bridge.feedback import feedback
from grader.nbgrader_bridge.fill import fill_solutions
from grader.nbgrader_bridge.sample_class import place_class

pytestmark = pytest.mark.e2e

NAMES = list(assignments.ASSIGNMENTS)


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _reference_notebook(course, name):
    """The released notebook with every solution cell filled by the reference / answer key."""
    nb = nbformat.read(str(course / "release" / name / f"{name}.ipynb"), as_version=4)
    a = assignments.get(name)
    key = {_meta(c).get("grade_id"): c.source for c in nbformat.read(str(a.notebook), as_version=4).cells}
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if _meta(cell).get("solution"):
            if a.kind == "code":
                cell.source = inspect.getsource(getattr(importlib.import_module(a.reference_module), gid))
            else:
                cell.source = key[gid]
    return nb


def _mutant_students(course):
    """student id -> (assignment, notebook): per code assignment, one catalogued mutant per
    autograder cell (the first whose named check belongs to it), so every cell is exercised."""
    out = {}
    for a in assignments.ASSIGNMENTS.values():
        if a.kind != "code":
            continue
        released = nbformat.read(str(course / "release" / a.name / f"{a.name}.ipynb"), as_version=4)
        battery, seen = a.battery(), set()
        for m in a.mutants().MUTANTS:
            group = battery.by_id(m.caught_by).group
            if group not in seen:
                seen.add(group)
                out[f"mutant-{m.name.replace('_', '-')}"] = (a.name, fill_solutions(released, m.source(a.reference()), a.functions))
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    release(course)
    place_class(course)
    for name in NAMES:
        dest = course / "submitted" / "reference" / name
        dest.mkdir(parents=True)
        nbformat.write(_reference_notebook(course, name), str(dest / f"{name}.ipynb"))
    for student, (name, nb) in _mutant_students(course).items():
        dest = course / "submitted" / student / name
        dest.mkdir(parents=True)
        nbformat.write(nb, str(dest / f"{name}.ipynb"))
    csv_path = autograde(course)
    pages = feedback(course)
    return course, csv_path, pages


def _scores(course):
    return {(s.student, s.assignment): (s.score, s.max_score) for s in read_scores(course)}


def _cell_grades(course, student, name):
    with gradebook(course) as gb:
        nb = gb.find_submission_notebook(name, name, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades if g.cell_type == "code"}


def _solution_and_hidden_lines(source_nb):
    """Non-trivial lines inside solution and hidden-test regions of a source notebook."""
    lines = set()
    for cell in source_nb.cells:
        for begin, end in (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
            for region in re.findall(re.escape(begin) + r"(.*?)" + re.escape(end), cell.source, re.S):
                lines |= {line.strip() for line in region.splitlines() if len(line.strip()) > 8}
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_release_has_no_solutions_and_no_hidden_tests(course, name):
    course_dir = course[0]
    released = (course_dir / "release" / name / f"{name}.ipynb").read_text()
    source = nbformat.read(str(assignments.get(name).notebook), as_version=4)
    secret = _solution_and_hidden_lines(source)
    assert secret, "the source notebook should have solution and hidden regions"
    assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released
    leaked = [line for line in secret if line in released]
    assert not leaked


def test_gradebook_has_the_assignments_with_the_notebook_points(course):
    with gradebook(course[0]) as gb:
        got = {a.name: a.max_score for a in gb.assignments}
    for name in NAMES:
        nb = nbformat.read(str(assignments.get(name).notebook), as_version=4)
        assert got[name] == pytest.approx(sum(float(_meta(c).get("points", 0)) for c in nb.cells if _meta(c).get("grade")))


@pytest.mark.parametrize("name", NAMES)
def test_reference_gets_full_marks_and_untouched_release_zero(course, name):
    scores = _scores(course[0])
    score, top = scores[("reference", name)]
    assert top > 0 and score == pytest.approx(top)
    assert scores[("dan", name)] == (0.0, top)
    assert scores[("ada", name)] == pytest.approx((top, top)), "the correct sample student"


# (student, assignment) -> autograder cells that must lose points; every other cell keeps all.
EXPECTED_LOSSES = {
    ("ben", "dropout"): {"test_train_mode"},
    ("ben", "conv"): set(),
    ("ben", "quiz"): {"test_dropout_inverted", "test_moments"},
    ("chloe", "dropout"): set(),
    ("chloe", "conv"): {"test_forward_values"},
    ("chloe", "quiz"): {"test_conv_outputs"},
    ("finn", "dropout"): {"test_train_mode"},
    ("finn", "conv"): {"test_forward_values"},
    ("finn", "quiz"): {"test_dropout_inverted", "test_moments"},
    ("eve", "quiz"): {"test_output_size", "test_moments"},
    ("mallory", "dropout"): {"test_train_mode"},
}
# Cells whose checks may also notice the bug, depending on how they probe: a conv backward pass
# that disagrees with its own forward pass; an identity "dropout" that ignores p and the seed.
MAY_ALSO_LOSE = {
    ("chloe", "conv"): {"test_backward_values"},
    ("finn", "conv"): {"test_backward_values"},
    ("mallory", "dropout"): {"test_backward", "test_seed"},
}


@pytest.mark.parametrize("key", sorted(EXPECTED_LOSSES), ids=lambda k: "/".join(k))
def test_buggy_students_lose_points_where_expected(course, key):
    student, name = key
    grades = _cell_grades(course[0], student, name)
    lost = {gid for gid, (score, top) in grades.items() if score < top - 1e-9}
    assert EXPECTED_LOSSES[key] <= lost
    assert lost <= EXPECTED_LOSSES[key] | MAY_ALSO_LOSE.get(key, set())


def test_syntax_error_scores_zero_and_says_so_in_feedback(course):
    course_dir, _, pages = course
    assert _scores(course_dir)[("eve", "dropout")][0] == 0
    page = course_dir / "feedback" / "eve" / "dropout" / "dropout.html"
    assert page in pages
    assert "syntax" in page.read_text().lower()


def test_missing_submission_is_not_graded(course):
    assert ("eve", "conv") not in _scores(course[0])


def test_cheating_patches_do_not_raise_the_score(course):
    score, top = _scores(course[0])[("mallory", "dropout")]
    assert score < top


def test_grades_csv_and_feedback_pages(course):
    course_dir, csv_path, pages = course
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("assignment,") and any(r.startswith("dropout,") and ",reference," in r for r in rows)
    assert len(pages) == len([p for p in (course_dir / "submitted").glob("*/*/*.ipynb")])
    html = (course_dir / "feedback" / "reference" / "conv" / "conv.html").read_text()
    assert html.count('class="check passed"') == 10 and "BEGIN HIDDEN TESTS" not in html
    # the quiz answers as understood (MathML) and the misconception named, as on grader's own pages
    quiz = (course_dir / "feedback" / "finn" / "quiz" / "quiz.html").read_text()
    assert "<math" in quiz and "Recognised misconception: p used as the drop probability" in quiz


def test_nbgrader_autograde_and_grader_grade_agree_cell_by_cell(course):
    """Both paths, on every submission (sample class, reference, one mutant per cell): the same
    per-cell scores. The batteries' outcomes are deterministic, so two gradings must agree."""
    course_dir = course[0]
    compared = 0
    for path in sorted((course_dir / "submitted").glob("*/*/*.ipynb")):
        student, name = path.parts[-3], path.parts[-2]
        direct = grade_submission(path, name)
        in_gradebook = _cell_grades(course_dir, student, name)
        if direct.status == "error":
            assert all(score == 0 for score, _ in in_gradebook.values()), path
        else:
            got = {g: score for g, (score, _) in direct.group_scores().items()}
            assert set(got) == set(in_gradebook), path
            for g, (score, _) in in_gradebook.items():
                assert score == pytest.approx(got[g], abs=1e-9), (path, g)
        compared += 1
    assert compared >= 3 * 3 + 9  # reference, ada, dan on every assignment, plus the mutants
    assert sum(p.parts[-3].startswith("mutant-") for p in (course_dir / "submitted").glob("*/*/*.ipynb")) >= 9

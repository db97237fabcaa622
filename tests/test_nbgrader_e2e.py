"""End to end through the real nbgrader commands and the real SQLite gradebook.

One course is built per module (release, the sample class, a student submitting the reference
solutions), autograded and given feedback once; the tests read the results back.
"""

import html
import importlib
import re

import nbformat
import pytest

from grader import assignments
from grader.grading import grade_submission
from grader.nbgrader_bridge.autograde import autograde, read_scores
from grader.nbgrader_bridge.course import release
from grader.nbgrader_bridge.feedback import feedback
from grader.nbgrader_bridge.fill import fill_solutions
from grader.nbgrader_bridge.gradebook import read_gradebook
from grader.nbgrader_bridge.sample_class import place_class
from grader.nbgrader_cells import is_grade, points
from support import (
    cell_grades,
    check_code_lines,
    feedback_secrets,
    flat,
    page_leaks,
    reference_notebook,
    solution_and_hidden_lines,
    submit_notebook,
)

pytestmark = pytest.mark.e2e

NAMES = list(assignments.ASSIGNMENTS)


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
            cell = battery.by_id(m.caught_by).cell
            if cell not in seen:
                seen.add(cell)
                out[f"mutant-{m.name.replace('_', '-')}"] = (a.name, fill_solutions(released, m.source(a.reference()), a.functions))
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    release(course)
    place_class(course)
    for name in NAMES:
        submit_notebook(course, "reference", name, reference_notebook(course, name))
    for student, (name, nb) in _mutant_students(course).items():
        submit_notebook(course, student, name, nb)
    csv_path = autograde(course)
    pages = feedback(course)
    return course, csv_path, pages


def _scores(course):
    return {(s.student, s.assignment): (s.score, s.max_score) for s in read_scores(course)}


@pytest.mark.parametrize("name", NAMES)
def test_release_has_no_solutions_and_no_hidden_tests(course, name):
    course_dir = course[0]
    released_nb = nbformat.read(str(course_dir / "release" / name / f"{name}.ipynb"), as_version=4)
    # Cell sources as text (not the JSON file, where quotes and backslashes are escaped).
    released = "\n".join(cell.source for cell in released_nb.cells)
    source = nbformat.read(str(assignments.get(name).notebook), as_version=4)
    secret = solution_and_hidden_lines(source)
    assert secret, "the source notebook should have solution and hidden regions"
    assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released
    leaked = [line for line in secret if line in released]
    assert not leaked


def test_gradebook_has_the_assignments_with_the_notebook_points(course):
    got = {a.name: a.max_score for a in read_gradebook(course[0]).assignments}
    for name in NAMES:
        nb = nbformat.read(str(assignments.get(name).notebook), as_version=4)
        assert got[name] == pytest.approx(sum(points(c) for c in nb.cells if is_grade(c)))


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
    ("finn", "dropout"): {"test_train_mode", "test_backward"},  # his backward scales by 1/(1 - p), not 1/p
    ("finn", "conv"): {"test_forward_values"},
    ("finn", "quiz"): {"test_dropout_inverted", "test_moments"},
    ("eve", "quiz"): {"test_output_size", "test_moments"},
    ("mallory", "dropout"): {"test_train_mode", "test_seed", "test_backward"},  # no mask, no mask points
}
# Cells whose checks may also notice the bug (none: gradients are judged against the reference, so
# a forward-only mistake costs forward points only).
MAY_ALSO_LOSE: dict[tuple[str, str], set[str]] = {}


@pytest.mark.parametrize("key", sorted(EXPECTED_LOSSES), ids=lambda k: "/".join(k))
def test_buggy_students_lose_points_where_expected(course, key):
    student, name = key
    grades = cell_grades(course[0], student, name)
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
    checks = len(assignments.get("conv").battery().checks)  # every check, passed
    assert html.count('class="check passed"') == checks and "BEGIN HIDDEN TESTS" not in html
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
        in_gradebook = cell_grades(course_dir, student, name)
        if direct.status == "error":
            assert all(score == 0 for score, _ in in_gradebook.values()), path
        else:
            got = {g: score for g, (score, _) in direct.cell_scores().items()}
            assert set(got) == set(in_gradebook), path
            for g, (score, _) in in_gradebook.items():
                assert score == pytest.approx(got[g], abs=1e-9), (path, g)
        compared += 1
    assert compared >= 3 * 3 + 9  # reference, ada, dan on every assignment, plus the mutants
    assert sum(p.parts[-3].startswith("mutant-") for p in (course_dir / "submitted").glob("*/*/*.ipynb")) >= 9


# --- nothing hidden in any feedback page -------------------------------------------------------

def test_no_feedback_page_shows_hidden_tests_solutions_check_code_or_arrays(course):
    course_dir, _, pages = course
    every_page = sorted((course_dir / "feedback").glob("*/*/*.html"))
    assert every_page == sorted(pages)
    assert len(every_page) == len(list((course_dir / "submitted").glob("*/*/*.ipynb")))
    secrets = feedback_secrets()
    assert all(len(lines) > 100 for lines in secrets.values()), "the search must have something to find"
    leaks = {str(page.relative_to(course_dir)): found for page in every_page if (found := page_leaks(course_dir, page, secrets))}
    assert not leaks


def test_the_leak_search_finds_what_is_planted(course, tmp_path):
    """The search above is not vacuous: a copy of a page with a hidden-test line, a line of a
    check and a printed array planted in its output is flagged for each of them."""
    course_dir = course[0]
    secrets = feedback_secrets()
    source = nbformat.read(str(assignments.get("dropout").notebook), as_version=4)
    hidden = sorted(flat(line) for line in solution_and_hidden_lines(source) if "stderr" in line)[0]
    check_lines = sorted(check_code_lines())
    check = check_lines[len(check_lines) // 2]
    page = course_dir / "feedback" / "ben" / "dropout" / "dropout.html"
    assert not page_leaks(course_dir, page, secrets)
    fake = tmp_path / "course"
    for folder in ("release/dropout", "submitted/ben/dropout"):
        (fake / folder).mkdir(parents=True)
        (fake / folder / "dropout.ipynb").write_bytes((course_dir / folder / "dropout.ipynb").read_bytes())
    for plant in (hidden, check, "array([0.25, 0.5 ])"):
        planted = fake / "feedback" / "ben" / "dropout" / "dropout.html"
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.write_text(page.read_text().replace("All good.", f"All good.<pre>{html.escape(plant)}</pre>", 1))
        assert page_leaks(fake, planted, secrets), plant


def test_feedback_pages_show_no_raw_cell_score(course):
    """The autograder cells' score output (nbgrader reads it during autograde) is not shown
    under the check table as a stray ``Out[ ]: 2``."""
    course_dir, _, pages = course
    autograded = nbformat.read(str(course_dir / "autograded" / "reference" / "conv" / "conv.ipynb"), as_version=4)
    assert any(o.get("output_type") == "execute_result" for c in autograded.cells for o in c.get("outputs", []))
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text()))
        assert not re.search(r"Out\s*\[", text), page


def test_a_rerun_with_nothing_new_starts_no_nbgrader(course, monkeypatch):
    """The real autograded tree of the run above: nothing new, so no nbgrader, same grades."""
    from grader.nbgrader_bridge import autograde as bridge

    course_dir, csv_path, _ = course
    before = csv_path.read_bytes()
    monkeypatch.setattr(bridge, "run_nbgrader", lambda *a, **k: pytest.fail(f"nbgrader started: {a[0]}"))
    assert autograde(course_dir) == csv_path
    assert csv_path.read_bytes() == before

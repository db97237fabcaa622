"""Hostile submissions with honest twins through the real ``grader autograde`` and ``grader feedback``.

One class, one autograde run, one feedback run: honest students and, beside them, a notebook that
is a link to the course's source notebook, student folders named ``*`` and ``=2+5`` (holding a
correct notebook), a notebook over the size limit, a notebook with student cells claiming points
and carrying hidden-test markers, one with script in its markdown, one carrying an SVG and an HTML
file of its own (nbgrader copies them into its feedback folder), one with folders nested too deep,
one whose notebook metadata nbconvert cannot render (``"widgets": 5``: feedback fails for it alone),
and endless loops (run with a
small load limit so the suite stays fast). Every honest student is graded, every attack scores no
more than its twin, ``grades.csv`` is written and holds no refused folder, and every feedback page
is free of live markup.
"""

import copy
import os
from pathlib import Path

import nbformat
import pytest

from grader.extract import MAX_SUBMISSION_BYTES
from grader.nbgrader_bridge.autograde import autograde, read_scores
from grader.nbgrader_bridge.commands import NbgraderFailed
from grader.nbgrader_bridge.course import release
from grader.nbgrader_bridge.feedback import feedback
from grader.nbgrader_bridge.staging import MAX_DEPTH, STAGING
from grader.nbgrader_bridge.student_ids import refusal
from grader.nbgrader_cells import grade_id, is_grade, is_solution
from grader.sandbox.limits import Limits
from support import (
    HOSTILE_MARKDOWN,
    digest,
    hostile_cells,
    live_markup,
    processes,
    reference_notebook,
    submit_notebook,
)

pytestmark = pytest.mark.e2e

NAME = "dropout"
LOOPS = ("loop-1", "loop-2", "loop-3")
#: The loops never finish loading; honest code loads in a fraction of this.
LIMITS = Limits(load_seconds=5.0)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import contextlib
    import io

    course = tmp_path_factory.mktemp("hostile")
    release(course, [NAME])
    good = reference_notebook(course, NAME)
    released = nbformat.read(str(course / "release" / NAME / f"{NAME}.ipynb"), as_version=4)
    submit_notebook(course, "ada", NAME, good)  # the honest twin of every attack that carries a correct notebook
    submit_notebook(course, "dan", NAME, released)  # the honest twin of the attacks that carry none (0 points)
    submit_notebook(course, "zz-last", NAME, good)  # graded after every attack
    source = course / "source" / NAME / f"{NAME}.ipynb"
    link = course / "submitted" / "mallory" / NAME
    link.mkdir(parents=True)
    (link / f"{NAME}.ipynb").symlink_to(source)
    submit_notebook(course, "*", NAME, good)
    submit_notebook(course, "=2+5", NAME, good)
    big = copy.deepcopy(good)
    big.cells.append(nbformat.v4.new_markdown_cell("x" * (MAX_SUBMISSION_BYTES + 1)))
    submit_notebook(course, "big", NAME, big)
    marked = copy.deepcopy(good)
    hostile_cells(marked, [grade_id(c) for c in good.cells
                            if is_grade(c) and not is_solution(c)])
    submit_notebook(course, "marker", NAME, marked)
    xss = copy.deepcopy(good)
    xss.cells.insert(1, nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN))
    submit_notebook(course, "xss", NAME, xss)
    files = submit_notebook(course, "svgfiles", NAME, good).parent  # files nbgrader copies into autograded/ and feedback/
    (files / "evil.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (files / "evil.html").write_text("<script>alert(1)</script>")
    widgets = copy.deepcopy(good)
    widgets.metadata["widgets"] = 5  # valid nbformat; nbconvert's HTML template fails on it
    submit_notebook(course, "widgets", NAME, widgets)
    (submit_notebook(course, "deep", NAME, good).parent / Path(*["d"] * (MAX_DEPTH + 1))).mkdir(parents=True)
    for student in LOOPS:
        loop = copy.deepcopy(good)
        answer = next(c for c in loop.cells if is_solution(c))
        answer.source = "while True:\n    pass\n" + answer.source
        submit_notebook(course, student, NAME, loop)
    before = digest(source)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        csv_path = autograde(course, limits=LIMITS)
    # One notebook nbconvert cannot render fails nbgrader's feedback run: the rest of the class's
    # pages must still be written and made safe, and the failure named.
    with pytest.raises(NbgraderFailed, match="could not write the feedback of widgets/dropout"):
        feedback(course)
    pages = sorted((course / "feedback").glob(f"*/{NAME}/*.html"))
    return course, csv_path, pages, err.getvalue(), before


def _scores(course):
    return {s.student: s.score for s in read_scores(course)}


def test_every_honest_student_is_graded_and_every_attack_scores_no_more_than_its_twin(graded):
    course = graded[0]
    scores = _scores(course)
    full = scores["ada"]
    assert full > 0 and scores["zz-last"] == full and scores["dan"] == 0
    assert scores["marker"] == full and scores["xss"] == full, "the same solutions as ada, nothing more"
    assert scores["svgfiles"] == full and scores["widgets"] == full
    for loop in LOOPS:
        assert scores[loop] == 0 <= scores["dan"]
    for refused in ("mallory", "*", "=2+5", "big", "deep"):
        assert refused not in scores  # never shown to nbgrader: no grade, no row, no student
    assert set(scores) == {"ada", "dan", "zz-last", "marker", "xss", "svgfiles", "widgets", *LOOPS}


def test_refusals_are_one_sentence_each_naming_the_folder(graded):
    said = graded[3]
    assert f"grader: {refusal('*')}" in said and f"grader: {refusal('=2+5')}" in said
    assert "grader: submitted/mallory/dropout was not graded: dropout.ipynb is a symbolic link, not a file" in said
    assert "grader: submitted/big/dropout was not graded: dropout.ipynb is too large (" in said
    assert f"grader: submitted/deep/dropout was not graded: dropout holds folders nested more than {MAX_DEPTH} deep" in said


def test_grades_csv_is_written_without_refused_folders_and_nothing_escaped(graded):
    course, csv_path, _, _, before = graded
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("assignment,")
    students = {row.split(",")[3] for row in rows[1:]}  # assignment,duedate,timestamp,student_id,...
    assert {"ada", "dan", "zz-last", "marker", "xss", "svgfiles", "widgets", *LOOPS} <= students
    assert not any(s.startswith(("=", "+", "-", "@")) or "*" in s for s in students)
    assert digest(course / "source" / NAME / f"{NAME}.ipynb") == before
    assert not (course / STAGING).exists()
    assert sorted(p.name for p in (course / "autograded").iterdir()) == sorted(["ada", "dan", "zz-last", "marker", "xss", "svgfiles", "widgets", *LOOPS])
    assert not [p for p in course.rglob("*") if p.is_symlink() and "submitted" not in p.parts]


def test_feedback_for_the_class_has_no_live_markup_and_math_offline(graded):
    course, _, pages, _, _ = graded
    by_student = {p.parts[-3]: p for p in pages}
    assert set(by_student) == {"ada", "dan", "zz-last", "marker", "xss", "svgfiles", *LOOPS}  # not widgets
    for student, page in by_student.items():
        text = page.read_text(encoding="utf-8")
        assert live_markup(text) == [], student
        assert "<math" in text and "$\\frac" not in text and "mathjax" not in text.lower()
    assert "BEGIN_HIDDEN TESTS" in by_student["marker"].read_text()
    # nbgrader copies a submission's files along (the positive control); only the page stays.
    assert (course / "autograded" / "svgfiles" / NAME / "evil.svg").is_file()
    assert sorted(p.name for p in (course / "feedback" / "svgfiles" / NAME).iterdir()) == [f"{NAME}.html"]
    assert "hidden-test markers" in by_student["marker"].read_text()


def test_no_process_of_the_class_is_left_running(graded):
    """nbgrader, the sandbox's zygote and workers (the endless loops included) are all gone:
    nothing is left with its working folder in the course or the course in its command line."""
    import time

    course = str(graded[0])

    def left():
        return sorted(f"{pid} {name} {cwd}" for pid, (_, name, cwd, cmdline) in processes().items()
                      if pid != os.getpid() and (cwd.startswith(course) or course.encode() in cmdline))

    deadline = time.monotonic() + 30  # a bound on the wait for reaping, not on how fast it is
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left() == []


def test_bare_nbgrader_autograde_scores_the_link_zero_with_grader_grades_message(graded):
    """Run by nbgrader itself (e.g. the formgrader's Autograde button), without ``grader autograde``
    before it: the link to the source notebook is refused inside the pipeline, with 0 points."""
    from grader.grading import grade_submission
    from grader.nbgrader_bridge.commands import run_nbgrader

    course = graded[0]
    link = course / "submitted" / "mallory" / NAME / f"{NAME}.ipynb"
    run_nbgrader(["autograde", NAME, "--student=mallory"], course)
    assert _scores(course)["mallory"] == 0
    message = grade_submission(link, NAME).message
    assert "is a symbolic link, not a file" in message
    autograded = nbformat.read(str(course / "autograded" / "mallory" / NAME / f"{NAME}.ipynb"), as_version=4)
    outputs = [o for c in autograded.cells for o in c.get("outputs", []) if o.get("output_type") == "display_data"]
    assert outputs and all(message in o["data"]["text/plain"] for o in outputs)

"""Feedback leads with what stopped the code: a syntax error or a failed import is the first note,
and the checks it broke say so in a few words instead of repeating "does not define a function"."""

from __future__ import annotations

from pathlib import Path

from grader.grading import grade_submission, lead_with_the_cause
from grader.paths import REPO_ROOT
from grader.reports.feedback import render_feedback
from grader.results import SubmissionResult, TestResult

REFERENCE = (REPO_ROOT / "solutions" / "dropout.py").read_text()


def _grade(tmp_path: Path, source: str) -> SubmissionResult:
    path = tmp_path / "dropout.py"
    path.write_text(source)
    return grade_submission(path, "dropout")


def test_a_syntax_error_is_shown_first_and_alone(tmp_path):
    result = _grade(tmp_path, REFERENCE + "\ndef helper(:\n    pass\n")
    assert result.notes and "SyntaxError" in result.notes[0]
    assert result.score == 0 and result.tests
    assert not any("does not define a function" in t.output for t in result.tests)
    assert all(t.output.startswith("not checked: your code stopped") for t in result.tests)
    page = render_feedback(result)
    assert page.index("SyntaxError") < page.index("checks passed")  # the cause comes before the table


def test_an_unavailable_import_at_the_top_is_the_first_note(tmp_path):
    result = _grade(tmp_path, "import surely_missing_module\n" + REFERENCE)
    assert "ModuleNotFoundError" in result.notes[0] and "surely_missing_module" in result.notes[0]
    assert all("does not define" not in t.output for t in result.tests)


def test_an_import_inside_a_function_gets_one_note_and_the_checks_keep_their_messages(tmp_path):
    source = REFERENCE.replace("def dropout_forward(x, dropout_param):",
                               "def dropout_forward(x, dropout_param):\n    import surely_missing_module", 1)
    assert source != REFERENCE
    result = _grade(tmp_path, source)
    assert any("a module the grader does not provide" in n for n in result.notes[:1])
    assert any("ModuleNotFoundError" in t.output for t in result.tests)


def test_code_that_loads_gets_no_lead_note_and_untouched_messages():
    result = SubmissionResult("x.py", "dropout", tests=[
        TestResult("a", 0.0, 1.0, "error", "the submission does not define a function named dropout_forward")],
        notes=["cell 7 was not graded"])
    lead_with_the_cause(result, [])
    assert result.notes == ["cell 7 was not graded"]
    assert "does not define a function named" in result.tests[0].output  # nothing stopped the code: it is missing

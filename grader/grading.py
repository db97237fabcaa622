"""Grading one submission: extract, run the checks against the sandboxed student, collect results."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from grader import assignments
from grader.checks.base import run_battery
from grader.extract import (
    ExtractionError,
    Extracted,
    answers_from_notebook,
    code_from_notebook,
    extract_answers,
    extract_code,
    read_submission,
    nbformat,  # imported there, without the slow grammar build (see grader.extract)
)
from grader.nbgrader_bridge.student_ids import refused_path
from grader.results import SubmissionResult
from grader.student import MISSING_FUNCTION


def content_hash(data: bytes) -> str:
    """Stable digest of a submission's bytes (used to skip unchanged submissions on re-runs)."""
    return hashlib.sha256(data).hexdigest()


def max_points(assignment: assignments.Assignment) -> float:
    """Total points of an assignment."""
    if assignment.kind == "quiz":
        from grader.quiz import quiz_of

        return sum(q.points for q in quiz_of(assignment).questions.values())
    return sum(c.points for c in assignment.battery().checks)


def grade_extracted(extracted: Extracted, assignment: assignments.Assignment, label: str, limits=None) -> SubmissionResult:
    """Grade already-extracted student code or answers."""
    result = SubmissionResult(submission=label, assignment=assignment.name, notes=list(extracted.notes))
    if assignment.kind == "quiz":
        from grader.quiz import quiz_of
        from grader.quiz.grade import grade_answers

        result.tests = grade_answers(quiz_of(assignment), extracted.answers)
        result.isolation = "not needed: quiz answers are read as text, never executed"
        return result
    from grader.sandbox.judge import SandboxedStudent, SandboxUnavailable

    try:
        with SandboxedStudent(extracted.blocks, limits) as student:
            result.tests = run_battery(assignment.battery().checks, student, np.random.default_rng())
            result.isolation = student.isolation
            load_notes = list(student.load_notes)
    except SandboxUnavailable as exc:  # at the start or at a restart after a crash: nothing is scored
        return fault_result(label, assignment.name, str(exc))
    lead_with_the_cause(result, load_notes)
    return result


#: Exceptions that mean the code imports something the grader does not provide.
_IMPORT_ERRORS = ("raised ModuleNotFoundError", "raised ImportError")


def lead_with_the_cause(result: SubmissionResult, load_notes: list[str]) -> None:
    """Put what stopped the code first, and not again under every check it broke.

    A syntax error or a failed import (``scipy``, say) in a cell leaves the functions after it
    undefined, and each check would otherwise say "does not define a function named ...": the
    load failures become the first notes, and those checks say in a few words that the code did
    not load. An import that fails only when a function runs gets one note of its own as well.
    """
    lead = list(load_notes)
    if load_notes:
        for test in result.tests:
            if test.status == "error" and MISSING_FUNCTION in test.output:
                test.output = "not checked: your code stopped with an error before defining this function (see the first note)"
    imports = sorted({t.output for t in result.tests if any(e in t.output for e in _IMPORT_ERRORS)})
    if imports:
        lead.append("your code imports a module the grader does not provide (only numpy and Python's standard "
                    f"library are available): {imports[0][:200]}")
    result.notes = lead + [n for n in result.notes if n not in lead]


def error_result(label: str, assignment: assignments.Assignment, message: str, digest: str = "") -> SubmissionResult:
    """A record for a submission that could not be graded at all."""
    return SubmissionResult(
        submission=label,
        assignment=assignment.name,
        status="error",
        message=message,
        content_hash=digest,
        max_score_if_error=max_points(assignment),
    )


def fault_result(label: str, assignment_name: str, reason: str) -> SubmissionResult:
    """An ``error`` record for a submission the grader failed on (no sandbox, a crash, a lost
    cluster task): marked ``grader_fault`` and without a content hash, so ``grader grade`` exits
    non-zero and a re-run with the same results file grades it again."""
    result = error_result(
        label, assignments.get(assignment_name),
        f"could not be graded: {reason}. This is a fault of the grader or its machine, not of the "
        "submission; it is graded again when the same command is run again",
    )
    result.grader_fault = True
    return result


def _extract(source: Path | nbformat.NotebookNode, assignment: assignments.Assignment) -> Extracted:
    if assignment.kind == "quiz":
        from grader.quiz import quiz_of

        names = quiz_of(assignment).names  # the assignment's questions
        if isinstance(source, Path):
            return extract_answers(source, names)
        return answers_from_notebook(source, names)
    if isinstance(source, Path) and source.suffix != ".ipynb":
        return extract_code(source, None)  # a .py module: no trusted setup cells to add
    from grader.notebooks import ensure_notebook  # generated from the definition's prose, if it has some

    notebook = ensure_notebook(assignment)
    if isinstance(source, Path):
        return extract_code(source, notebook)
    return code_from_notebook(source, notebook)


def grade_submission(
    source: Path | nbformat.NotebookNode, assignment_name: str, label: str | None = None, limits=None
) -> SubmissionResult:
    """Grade a notebook / ``.py`` file, or an in-memory notebook (the nbgrader path).

    Never raises for anything the submission contains: unreadable input becomes an ``error``
    record, broken code becomes failed or errored checks.
    """
    assignment = assignments.get(assignment_name)
    label = label if label is not None else str(source if isinstance(source, Path) else "<notebook>")
    try:
        # A link, a pipe or an oversized file is refused here, before anything reads it.
        data = read_submission(source) if isinstance(source, Path) else nbformat.writes(source).encode()
    except ExtractionError as exc:
        return error_result(label, assignment, str(exc))
    refused = refused_path(source) if isinstance(source, Path) else None
    if refused:  # an nbgrader submitted/ tree: the same refusal as in `grader autograde`
        return error_result(label, assignment, refused)
    digest = content_hash(data)
    try:
        extracted = _extract(source, assignment)
    except ExtractionError as exc:
        return error_result(label, assignment, str(exc), digest)
    result = grade_extracted(extracted, assignment, label, limits)
    if result.status == "graded":  # an error here is the grader's (no sandbox): regrade on a re-run
        result.content_hash = digest
    return result

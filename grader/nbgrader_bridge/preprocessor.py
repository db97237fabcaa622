"""The autograde step that replaces nbgrader's ``Execute``: grade in the sandbox, write scores.

Nothing of the submission runs in a Jupyter kernel. The notebook as the student submitted it
(kept by :class:`~grader.nbgrader_bridge.sanitize.RestoreGradeCells`, the first sanitizing step)
goes to :func:`grader.grading.grade_submission`, exactly as ``grader grade`` would read the file,
and each autograder cell of nbgrader's sanitized copy receives two outputs that stock nbgrader's
``SaveAutoGrades`` understands:

* a ``display_data`` listing the cell's checks, as text and as the feedback pages' HTML table
  (never a stderr stream, which would make nbgrader give zero);
* an ``execute_result`` whose ``text/plain`` is the cell's score (nbgrader's partial credit).
"""

from __future__ import annotations

import copy
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float

from grader.nbgrader_bridge.sanitize import take
from grader.nbgrader_cells import grade_id, is_autograder, points
from grader.reports.feedback import checks_fragment, esc
from grader.results import SubmissionResult, TestResult
from grader.sandbox.limits import Limits

#: The sandbox limits :class:`SandboxGrade` takes from nbgrader's configuration or command line.
LIMIT_TRAITS = ("call_seconds", "load_seconds", "submission_seconds", "cpu_seconds")

MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


def autograder_cells(nb: Any) -> list[Any]:
    """Code cells nbgrader scores automatically (grade cells that are not solution cells)."""
    return [cell for cell in nb.cells if is_autograder(cell)]


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _indent(text: str, prefix: str = "        ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def check_lines(tests: list[TestResult]) -> str:
    """One line per check (status, points, name) plus its student-facing message."""
    lines = []
    for t in tests:
        lines.append(f"{MARKS.get(t.status, t.status.upper()):7} {_number(t.score)}/{_number(t.max_score)}  {t.name}")
        if t.output and t.status != "passed":
            lines.append(_indent(t.output))
    return "\n".join(lines)


def cell_score(cell_points: float, got: float, top: float) -> float:
    """The cell's share of its points, within [0, points] (nbgrader rejects more than max)."""
    if top <= 0 or cell_points <= 0:
        return 0.0
    return min(cell_points, max(0.0, cell_points * got / top))


def set_outputs(cell: Any, text: str, score: float, html: str = "") -> None:
    """Replace a cell's outputs with the check report and the score (execute_result).

    The report is a ``display_data`` with the plain text and, when given, its HTML table (which
    nbgrader's feedback page shows); never a stderr stream, which would make nbgrader give zero.
    """
    data = {"text/plain": text.rstrip("\n") + "\n"}
    if html:
        data["text/html"] = html
    cell.outputs = [
        nbformat.v4.new_output("display_data", data=data),
        nbformat.v4.new_output("execute_result", data={"text/plain": _number(score)}, execution_count=None),
    ]


def _notes_text(notes: list[str]) -> str:
    return "Notes on your submission:\n" + "\n".join(f"  - {n}" for n in notes) + "\n\n" if notes else ""


def _notes_html(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f"<p><strong>Notes on your submission:</strong></p><ul>{items}</ul>"


def write_result(nb: Any, result: SubmissionResult) -> None:
    """Write ``result`` into the notebook's autograder cells (see the module docstring)."""
    cells = autograder_cells(nb)
    if result.status == "error":
        write_failure(nb, result.message, result.notes)
        return
    by_cell: dict[str, list[TestResult]] = {}
    for t in result.tests:
        by_cell.setdefault(t.cell, []).append(t)
    cell_ids = {grade_id(c) or "" for c in cells}
    notes = list(result.notes)
    orphans = [t.name for g, ts in by_cell.items() if g not in cell_ids for t in ts]
    if orphans:  # a course set-up problem, never a student's: say so rather than drop points silently
        notes.append("these checks belong to no autograder cell of this notebook and were not counted: " + "; ".join(orphans))
    for index, cell in enumerate(cells):
        gid = grade_id(cell) or ""
        tests = by_cell.get(gid, [])
        got, top = sum(t.score for t in tests), sum(t.max_score for t in tests)
        score = cell_score(points(cell), got, top)
        header = _notes_text(notes) if index == 0 else ""
        if tests:
            summary = f"Course grader: {_number(score)} / {_number(points(cell))} points for this cell"
            html = _notes_html(notes if index == 0 else []) + checks_fragment(tests, summary)
            set_outputs(cell, header + summary + "\n" + check_lines(tests), score, html)
        else:
            body = "Course grader: no checks are defined for this cell (a course set-up problem); 0 points"
            set_outputs(cell, header + body, score)


def write_failure(nb: Any, message: str, notes: list[str] | None = None) -> None:
    """Zero points in every autograder cell, with ``message`` in each."""
    for index, cell in enumerate(autograder_cells(nb)):
        header = _notes_text(list(notes or [])) if index == 0 else ""
        set_outputs(cell, f"{header}Course grader: 0 / {_number(points(cell))} points: {message}", 0.0)


def grade_submission(nb: Any, assignment: str, label: str, limits: Limits | None = None) -> SubmissionResult:
    """Indirection so unit tests can replace the grading engine (imported lazily: it is heavy)."""
    from grader.grading import grade_submission as grade

    return grade(nb, assignment, label=label, limits=limits)


class GraderFault(RuntimeError):
    """The grader, not the submission, failed. Raised out of the preprocessor on purpose: nbgrader
    then writes no score for this student's cells, removes the autograded copy, goes on with the
    other students and exits non-zero (``grader autograde`` then exits 1 naming the student); a
    re-run grades it."""


class SandboxGrade(NbGraderPreprocessor):
    """nbgrader preprocessor: score the submission with the course grader's sandboxed judge.

    Each submission is bounded by the sandbox's limits (nothing runs in a Jupyter kernel, so no
    ``ExecutePreprocessor`` timeout applies); ``grader autograde`` may set them per run, e.g.
    ``--SandboxGrade.submission_seconds=20`` (0 keeps the grader's default)."""

    call_seconds = Float(0.0, help="wall-clock seconds per call of a student function").tag(config=True)
    load_seconds = Float(0.0, help="wall-clock seconds to load the student's code").tag(config=True)
    submission_seconds = Float(0.0, help="wall-clock seconds for loading plus every call").tag(config=True)
    cpu_seconds = Float(0.0, help="CPU seconds of each worker process").tag(config=True)

    def limits(self) -> Limits | None:
        """The configured limits over the grader's defaults, or ``None`` if none is configured."""
        given = {name: getattr(self, name) for name in LIMIT_TRAITS}
        given = {name: value for name, value in given.items() if value > 0}
        return Limits(**given) if given else None

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        info = resources.get("nbgrader", {})
        student, assignment = info.get("student", "?"), info.get("assignment", "?")
        label = f"{student}/{assignment}"
        # The notebook as submitted (kept by RestoreGradeCells, which runs first), so the judge
        # grades what `grader grade` grades; nbgrader's sanitized copy only receives the results.
        submitted = take(resources)
        graded = submitted.notebook if submitted is not None else copy.deepcopy(nb)
        if submitted is not None and submitted.refused:  # as `grader grade` refuses the same file
            write_failure(nb, submitted.refused)
            self.log.warning("%s: not graded: %s", label, submitted.refused)
            return nb, resources
        try:
            result = grade_submission(graded, assignment, label, self.limits())
        except Exception as exc:
            raise GraderFault(f"{label}: the grader failed ({type(exc).__name__}: {str(exc)[:300]})") from exc
        if result.grader_fault:
            raise GraderFault(f"{label}: {result.message}")
        if submitted is not None:
            result.notes = submitted.notes + list(result.notes)
        write_result(nb, result)
        self.log.info("%s: %s / %s points (%s)", label, result.score, result.max_score, result.status)
        return nb, resources

"""``grades.csv``: the gradebook's scores in ``nbgrader export``'s layout, safe for spreadsheets.

The columns are nbgrader's own (``assignment, duedate, timestamp, student_id, last_name,
first_name, email, raw_score, late_submission_penalty, score, max_score``), so scripts written for
``nbgrader export`` keep working. Two differences: a student without a graded submission of an
assignment (never given it, did not hand it in, or nbgrader could not grade it) gets empty score
cells instead of nbgrader's 0, so a missing grade is never read as a grade; and every cell goes
through :func:`grader.outputs.write_csv` (a student id such as ``=2+5`` stays text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Collection

from grader.nbgrader_bridge.gradebook import read_gradebook
from grader.outputs import write_csv

COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
           "raw_score", "late_submission_penalty", "score", "max_score")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def export_grades(course_dir: Path, csv_path: Path, ungraded: Collection[tuple[str, str]] = ()) -> Path:
    """Write ``csv_path`` from ``<course_dir>/gradebook.db``; returns it.

    ``ungraded`` holds (student, assignment) pairs whose gradebook entry is not a grade (nbgrader
    failed on them): their score cells are left empty too.
    """
    book = read_gradebook(course_dir)
    rows: list[list[str]] = [list(COLUMNS)]
    for assignment in book.assignments:
        for student in book.students:
            row = {"assignment": assignment.name, "duedate": assignment.duedate, "student_id": student.id,
                   "last_name": student.last_name, "first_name": student.first_name,
                   "email": student.email, "max_score": assignment.max_score}
            sub = book.submissions.get((student.id, assignment.name))
            if sub is not None:
                row["timestamp"] = sub.timestamp
                if (student.id, assignment.name) not in ungraded:
                    row.update(raw_score=sub.raw_score, late_submission_penalty=sub.late_penalty, score=sub.score)
            rows.append([_text(row.get(key)) for key in COLUMNS])
    return write_csv(csv_path, rows)

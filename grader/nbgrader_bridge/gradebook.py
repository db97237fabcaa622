"""The course gradebook (nbgrader's SQLite ``gradebook.db``): opened and its scores read here (the
sanitizer, running inside nbgrader, reads the recorded cells through the URL nbgrader gives it).

Every command that reports scores from a course (``grades.csv``, the demo's table, the Canvas
CSV) reads them through :func:`read_gradebook`, so they agree on what a submission's score is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from grader.nbgrader_bridge.commands import NbgraderFailed

if TYPE_CHECKING:  # importing nbgrader takes seconds: a re-run with nothing new never does
    from nbgrader.api import Gradebook


def db_url(course_dir: Path) -> str:
    """The SQLAlchemy URL of the course gradebook (nbgrader's default location)."""
    return f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"


def gradebook(course_dir: Path) -> Gradebook:
    """Open the course gradebook; it must exist already (``grader release`` creates it)."""
    from nbgrader.api import Gradebook

    if not (Path(course_dir) / "gradebook.db").is_file():
        raise NbgraderFailed(f"{course_dir} has no gradebook.db; run: grader release --course {course_dir}")
    return Gradebook(db_url(course_dir))


def gradebook_assignments(db: Path) -> list[str] | None:
    """Assignment names in an nbgrader gradebook, read without writing to it; ``None`` if ``db``
    is not an nbgrader gradebook."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"assignment", "student", "submitted_assignment"} <= tables:
                return None
            return [r[0] for r in con.execute("SELECT name FROM assignment")]
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return None


@dataclass(frozen=True)
class GradebookStudent:
    """A student as the gradebook knows them."""

    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None


@dataclass(frozen=True)
class GradebookAssignment:
    """An assignment of the gradebook and the points it is worth."""

    name: str
    duedate: datetime | None
    max_score: float


@dataclass(frozen=True)
class GradebookSubmission:
    """One student's submission of one assignment, with nbgrader's scores."""

    student: str
    assignment: str
    timestamp: datetime | None
    raw_score: float  # the sum of its cells' scores
    late_penalty: float
    max_score: float
    scored: bool  # some cell of it was scored, automatically or by hand (nbgrader did grade it)

    @property
    def score(self) -> float:
        """The score after nbgrader's late penalty (as ``nbgrader export`` gives it)."""
        return max(0.0, self.raw_score - self.late_penalty)


@dataclass
class GradebookScores:
    """What a course's gradebook holds about scores, in the gradebook's own order."""

    assignments: list[GradebookAssignment] = field(default_factory=list)
    students: list[GradebookStudent] = field(default_factory=list)
    submissions: dict[tuple[str, str], GradebookSubmission] = field(default_factory=dict)  # (student, assignment)


def read_gradebook(course_dir: Path) -> GradebookScores:
    """The assignments, students and submission scores of ``<course_dir>/gradebook.db``."""
    out = GradebookScores()
    with gradebook(course_dir) as gb:
        for a in gb.assignments:
            out.assignments.append(GradebookAssignment(a.name, a.duedate, float(a.max_score)))
            for sub in a.submissions:
                scored = any(g.auto_score is not None or g.manual_score is not None
                             for nb in sub.notebooks for g in nb.grades)
                out.submissions[(sub.student.id, a.name)] = GradebookSubmission(
                    sub.student.id, a.name, sub.timestamp, float(sub.score),
                    float(sub.late_submission_penalty or 0.0), float(sub.max_score), scored,
                )
        out.students = [GradebookStudent(s.id, s.first_name, s.last_name, s.email, s.lms_user_id) for s in gb.students]
    return out

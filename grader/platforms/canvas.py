"""Grades as a CSV in Canvas's gradebook import layout.

Canvas imports a CSV laid out like its own gradebook export: the columns ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment (a new column
name creates a new Canvas assignment; ``Name (1234)`` matches Canvas assignment 1234), and a
second row ``Points Possible``. Canvas matches students on ``ID``, ``SIS User ID`` or
``SIS Login ID``; an empty grade cell leaves the Canvas grade as it is.

Two sources: a JSON Lines results file (``grader grade --json``; the student is read from each
submission's path) and a course's nbgrader gradebook (through
:func:`grader.nbgrader_bridge.gradebook.read_gradebook`).

A submission that could not be graded has a 0 that is not a grade: its cell is left empty by
default (``ungraded="zero"`` writes 0), and either way a warning on stderr names it. Student ids
that look like an LMS download's file names (spaces, a copy number, the assignment's name)
cannot match a Canvas login: a warning names them too.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from grader import assignments
from grader.nbgrader_bridge.gradebook import gradebook_assignments, read_gradebook
from grader.outputs import write_csv
from grader.platforms import PlatformError
from grader.results import student_of

HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "    Points Possible"  # exactly as Canvas writes it in its exports
ID_COLUMNS = ("ID", "SIS User ID", "SIS Login ID")
UNGRADED = ("blank", "zero")  # what an ungraded submission's cell holds: nothing, or 0
_LISTED = 10  # names a warning lists before "and N more"


@dataclass
class StudentGrades:
    """One gradebook row: who, and points per assignment id."""

    student: str  # the course's student id (nbgrader id or folder name)
    name: str = ""  # "Last, First" when known
    canvas_id: str = ""  # Canvas user id, when the gradebook has it (nbgrader's lms_user_id)
    scores: dict[str, float] = field(default_factory=dict)
    ungraded: set[str] = field(default_factory=set)  # assignments submitted but never graded


def _fmt(value: float) -> str:
    return f"{round(float(value), 4):g}"


def _listing(names: Sequence[str]) -> str:
    more = f" (and {len(names) - _LISTED} more)" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more


def looks_like_download_name(student: str, assignment_names: Iterable[str]) -> bool:
    """True if a student id looks like a file or folder name from an LMS download rather than a
    login: it has white space, ends in a copy number (``(2)``), or names an assignment among
    its parts (``ada_maxpool``, ``Ben Smith - maxpool (2)``)."""
    if any(c.isspace() for c in student) or re.search(r"\(\d+\)$", student):
        return True
    parts = set(re.split(r"[_\-.]+", student.lower()))
    return bool(parts & {a.lower() for a in assignment_names}) and len(parts) > 1


def warn_about(rows: Sequence[StudentGrades], names: Sequence[str], ungraded: str) -> list[str]:
    """The warnings (also printed on stderr) for the non-grades and unmatched ids in ``rows``."""
    warnings = []
    missing = sorted(f"{r.student}/{a}" for r in rows for a in r.ungraded if a in names)
    if missing:
        what = ("written as 0 (--ungraded blank leaves them empty)" if ungraded == "zero" else
                "left empty and Canvas keeps its grade (--ungraded zero writes 0)")
        warnings.append(f"{len(missing)} submission(s) could not be graded, so their cells are {what}: {_listing(missing)}")
    odd = sorted(repr(r.student) for r in rows if looks_like_download_name(r.student, [*names, *assignments.ASSIGNMENTS]))
    if odd:
        warnings.append(f"{len(odd)} student id(s) look like file names from an LMS download, not Canvas logins, and will "
                        f"match no Canvas student: {_listing(odd)}; name each submission's folder after the student's "
                        "login (<login>/<assignment>/...)")
    for warning in warnings:
        print(f"grader: warning: {warning}", file=sys.stderr)
    return warnings


def _grade(row: StudentGrades, assignment: str, ungraded: str) -> str:
    if assignment in row.ungraded:
        return "0" if ungraded == "zero" else ""
    return _fmt(row.scores[assignment]) if assignment in row.scores else ""


def write_canvas_csv(
    rows: Sequence[StudentGrades],
    points_possible: Mapping[str, float],
    path: Path,
    columns: Mapping[str, str] | None = None,
    id_column: str = "SIS Login ID",
    section: str = "",
    ungraded: str = "blank",
) -> Path:
    """Write the Canvas import CSV.

    ``points_possible`` orders the assignment columns; ``columns`` renames them (e.g.
    ``{"maxpool": "Max pooling (4321)"}`` to match an existing Canvas assignment); ``id_column`` is
    where the course's student id goes (``SIS Login ID`` by default: nbgrader ids are usually
    logins). A known Canvas user id always goes in ``ID``. ``ungraded`` (``blank`` or ``zero``)
    is what a submission that could not be graded gets; see :func:`warn_about` for the warnings.
    """
    if id_column not in ID_COLUMNS:
        raise PlatformError(f"unknown student id column {id_column!r}; choose one of: {', '.join(ID_COLUMNS)}")
    if ungraded not in UNGRADED:
        raise PlatformError(f"unknown choice for ungraded submissions {ungraded!r}; choose one of: {', '.join(UNGRADED)}")
    columns = dict(columns or {})
    names = list(points_possible)
    unknown = sorted(set(columns) - set(names))
    if unknown:  # a typo would otherwise quietly create a new Canvas column under the old name
        raise PlatformError(f"no grades for {', '.join(unknown)} to name a column for; the grades are for: "
                            f"{', '.join(names) or 'no assignment'}")
    warn_about(rows, names, ungraded)
    table = [[*HEADER, *(columns.get(a, a) for a in names)]]
    table.append([POINTS_ROW, "", "", "", "", *(_fmt(points_possible[a]) for a in names)])
    for row in sorted(rows, key=lambda r: r.student):
        ident = {c: "" for c in ID_COLUMNS}
        ident[id_column] = row.student
        if row.canvas_id:
            ident["ID"] = row.canvas_id
        table.append(
            [row.name or row.student, *(ident[c] for c in ID_COLUMNS), section]
            + [_grade(row, a, ungraded) for a in names]
        )
    # Names and ids come from students' folders: write_csv keeps them from running as formulas.
    return write_csv(path, table)


# --- from a results file -----------------------------------------------------------------------


def grades_from_records(records: Iterable[dict[str, Any]]) -> tuple[list[StudentGrades], dict[str, float]]:
    """Rows and points possible from result records; an ungradable submission (status
    ``error``) is marked ungraded.

    Raises :class:`PlatformError` if two submissions map to one student and assignment.
    """
    rows: dict[str, StudentGrades] = {}
    points: dict[str, float] = {}
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        a, label = str(record["assignment"]), str(record["submission"])
        student = student_of(label, a)
        if (student, a) in seen:
            raise PlatformError(
                f"submissions {seen[(student, a)]} and {label} both belong to student {student!r} for {a}; "
                "keep one per student in the results file (folders named after students: <student>/<assignment>/...)"
            )
        seen[(student, a)] = label
        points[a] = max(points.get(a, 0.0), float(record.get("max_score") or 0.0))
        row = rows.setdefault(student, StudentGrades(student))
        if record.get("status") == "error":
            row.ungraded.add(a)
        else:
            row.scores[a] = float(record.get("score") or 0.0)
    return list(rows.values()), points


def canvas_csv_from_results(results_path: Path, out_csv: Path, **options: Any) -> Path:
    """``grader canvas RESULTS.jsonl -o grades.csv``; ``options`` go to :func:`write_canvas_csv`."""
    from grader.reports.class_report import ResultsFileError, load_records

    try:
        records = load_records(results_path)
    except ResultsFileError as exc:
        raise PlatformError(str(exc)) from None
    rows, points = grades_from_records(records)
    return write_canvas_csv(rows, points, out_csv, **options)


# --- from an nbgrader course ---------------------------------------------------------------------


def grades_from_gradebook(course_dir: Path) -> tuple[list[StudentGrades], dict[str, float]]:
    """Rows and points possible from ``<course_dir>/gradebook.db``.

    Every student in the gradebook gets a row; an assignment a student did not submit is left
    empty (Canvas keeps its grade). A submission nbgrader could not grade (no cell of it was
    ever scored, automatically or by hand) is marked ungraded. Scores are after nbgrader's late
    penalty, as in ``nbgrader export``. Only this project's assignments are exported.
    """
    course_dir = Path(course_dir)
    if course_dir.exists() and not course_dir.is_dir():
        raise PlatformError(f"{course_dir} is a file, not a course folder; give the folder grader release wrote")
    if not course_dir.is_dir():
        raise PlatformError(f"course folder {course_dir} does not exist; create it with: grader release --course {course_dir}")
    db = course_dir / "gradebook.db"
    if not db.is_file():
        raise PlatformError(f"{course_dir} has no gradebook.db; run grader release --course {course_dir}, then grader autograde")
    names = gradebook_assignments(db)
    if names is None:
        raise PlatformError(f"{db} is not an nbgrader gradebook; give the course folder made by: grader release")
    ours = [n for n in names if n in assignments.ASSIGNMENTS]
    if not ours:
        held = ", ".join(sorted(names)) or "none"
        raise PlatformError(
            f"{db} has none of this course's assignments ({', '.join(assignments.ASSIGNMENTS)}; it holds: {held}); "
            "check that --course is this course's folder"
        )
    book = read_gradebook(course_dir)
    points = {a.name: a.max_score for a in book.assignments if a.name in ours}
    rows: list[StudentGrades] = []
    for student in book.students:
        name = ", ".join(x for x in (student.last_name, student.first_name) if x)
        row = StudentGrades(student.id, name, student.lms_user_id or "")
        for a in points:
            sub = book.submissions.get((student.id, a))
            if sub is None:
                continue
            if not sub.scored:
                row.ungraded.add(a)
                continue
            row.scores[a] = sub.score
        rows.append(row)
    return rows, {a: points[a] for a in ours if a in points}


def canvas_csv_from_course(course_dir: Path, out_csv: Path, **options: Any) -> Path:
    """``grader canvas --course DIR -o grades.csv``; ``options`` go to :func:`write_canvas_csv`."""
    rows, points = grades_from_gradebook(course_dir)
    return write_canvas_csv(rows, points, out_csv, **options)

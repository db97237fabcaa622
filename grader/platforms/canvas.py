"""Grades as a CSV in Canvas's gradebook import layout.

Canvas imports a CSV laid out like its own gradebook export: the columns ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment (a new column
name creates a new Canvas assignment; ``Name (1234)`` matches Canvas assignment 1234), and a
second row ``Points Possible``. Canvas matches students on ``ID``, ``SIS User ID`` or
``SIS Login ID``; an empty grade cell leaves the Canvas grade as it is.

Two sources: a JSON Lines results file (``grader grade --json``; the student is read from each
submission's path) and a course's nbgrader gradebook (through :class:`nbgrader.api.Gradebook`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from grader import assignments
from grader.nbgrader_bridge.course import gradebook_assignments
from grader.outputs import write_csv
from grader.platforms import PlatformError
from grader.results import student_of  # noqa: F401  (where submissions' students are named)

HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "    Points Possible"  # exactly as Canvas writes it in its exports
ID_COLUMNS = ("ID", "SIS User ID", "SIS Login ID")


@dataclass
class StudentGrades:
    """One gradebook row: who, and points per assignment id."""

    student: str  # the course's student id (nbgrader id or folder name)
    name: str = ""  # "Last, First" when known
    canvas_id: str = ""  # Canvas user id, when the gradebook has it (nbgrader's lms_user_id)
    scores: dict[str, float] = field(default_factory=dict)


def _fmt(value: float) -> str:
    return f"{round(float(value), 4):g}"


def write_canvas_csv(
    rows: Sequence[StudentGrades],
    points_possible: Mapping[str, float],
    path: Path,
    columns: Mapping[str, str] | None = None,
    id_column: str = "SIS Login ID",
    section: str = "",
) -> Path:
    """Write the Canvas import CSV.

    ``points_possible`` orders the assignment columns; ``columns`` renames them (e.g.
    ``{"dropout": "Dropout (4321)"}`` to match an existing Canvas assignment); ``id_column`` is
    where the course's student id goes (``SIS Login ID`` by default: nbgrader ids are usually
    logins). A known Canvas user id always goes in ``ID``.
    """
    if id_column not in ID_COLUMNS:
        raise PlatformError(f"unknown student id column {id_column!r}; choose one of: {', '.join(ID_COLUMNS)}")
    columns = dict(columns or {})
    names = list(points_possible)
    unknown = sorted(set(columns) - set(names))
    if unknown:  # a typo would otherwise quietly create a new Canvas column under the old name
        raise PlatformError(f"no grades for {', '.join(unknown)} to name a column for; the grades are for: "
                            f"{', '.join(names) or 'no assignment'}")
    table = [[*HEADER, *(columns.get(a, a) for a in names)]]
    table.append([POINTS_ROW, "", "", "", "", *(_fmt(points_possible[a]) for a in names)])
    for row in sorted(rows, key=lambda r: r.student):
        ident = {c: "" for c in ID_COLUMNS}
        ident[id_column] = row.student
        if row.canvas_id:
            ident["ID"] = row.canvas_id
        table.append(
            [row.name or row.student, *(ident[c] for c in ID_COLUMNS), section]
            + [_fmt(row.scores[a]) if a in row.scores else "" for a in names]
        )
    # Names and ids come from students' folders: write_csv keeps them from running as formulas.
    return write_csv(path, table)


# --- from a results file -----------------------------------------------------------------------


def grades_from_records(records: Iterable[dict[str, Any]]) -> tuple[list[StudentGrades], dict[str, float]]:
    """Rows and points possible from result records; an ungradable submission scores 0.

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
        score = float(record.get("score") or 0.0) if record.get("status") != "error" else 0.0
        rows.setdefault(student, StudentGrades(student)).scores[a] = score
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
    empty (Canvas keeps its grade). Scores are after nbgrader's late penalty, as in
    ``nbgrader export``. Only this project's assignments are exported.
    """
    course_dir = Path(course_dir)
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
    from nbgrader.api import Gradebook, MissingEntry

    rows: list[StudentGrades] = []
    points: dict[str, float] = {}
    with Gradebook(f"sqlite:///{db.resolve()}") as gb:
        for a in gb.assignments:
            if a.name in ours:
                points[a.name] = float(a.max_score)
        for student in gb.students:
            name = ", ".join(x for x in (student.last_name, student.first_name) if x)
            row = StudentGrades(student.id, name, student.lms_user_id or "")
            for a in points:
                try:
                    sub = gb.find_submission(a, student.id)
                except MissingEntry:
                    continue
                row.scores[a] = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
            rows.append(row)
    return rows, {a: points[a] for a in ours if a in points}


def canvas_csv_from_course(course_dir: Path, out_csv: Path, **options: Any) -> Path:
    """``grader canvas --course DIR -o grades.csv``; ``options`` go to :func:`write_canvas_csv`."""
    rows, points = grades_from_gradebook(course_dir)
    return write_canvas_csv(rows, points, out_csv, **options)

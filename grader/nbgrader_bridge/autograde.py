"""``grader autograde``: grade ``submitted/`` with the real ``nbgrader autograde``, then export."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from nbgrader.api import Gradebook

from grader.nbgrader_bridge.commands import NbgraderFailed, run_nbgrader

GRADES_CSV = "grades.csv"


@dataclass(frozen=True)
class Score:
    """One student's total on one assignment, as stored in the gradebook."""

    student: str
    assignment: str
    score: float
    max_score: float


def db_url(course_dir: Path) -> str:
    """The SQLAlchemy URL of the course gradebook (nbgrader's default location)."""
    return f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"


def gradebook(course_dir: Path) -> Gradebook:
    """Open the course gradebook; it must exist already (``grader release`` creates it)."""
    if not (Path(course_dir) / "gradebook.db").is_file():
        raise NbgraderFailed(f"{course_dir} has no gradebook.db; run: grader release --course {course_dir}")
    return Gradebook(db_url(course_dir))


def subfolders(folder: Path) -> list[Path]:
    """Non-hidden subfolders (``.ipynb_checkpoints`` and the like are not students), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def submissions(course_dir: Path, assignment: str | None = None) -> dict[str, list[str]]:
    """Student ids per assignment, from ``submitted/<student>/<assignment>/`` folders."""
    found: dict[str, list[str]] = {}
    for student in subfolders(Path(course_dir) / "submitted"):
        for folder in subfolders(student):
            if assignment is None or folder.name == assignment:
                found.setdefault(folder.name, []).append(student.name)
    return found


def register_students(course_dir: Path, students: list[str]) -> None:
    """Add the students to the gradebook (existing ones are left as they are)."""
    with gradebook(course_dir) as gb:
        for student in students:
            gb.update_or_create_student(student)


def read_scores(course_dir: Path) -> list[Score]:
    """Every submission's score from the gradebook, sorted by student then assignment."""
    rows = []
    with gradebook(course_dir) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                rows.append(Score(sub.student.id, assignment.name, float(sub.score), float(sub.max_score)))
    return sorted(rows, key=lambda r: (r.student, r.assignment))


@contextmanager
def _progress_of(course_dir: Path, total: int) -> Iterator[None]:
    """A progress bar (on a terminal only) counting ``autograded/<student>/<assignment>/``
    folders that nbgrader writes while it runs; it writes each one when a submission is done."""
    from grader.batch import progress

    bar = progress(total)
    if bar.disable:
        yield
        return
    start, done = time.time() - 1.0, threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            fresh = sum(
                1
                for student in subfolders(course_dir / "autograded")
                for folder in subfolders(student)
                if folder.stat().st_mtime >= start
            )
            bar.update(max(0, min(fresh, total) - bar.n))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        bar.close()


def autograde(course_dir: Path, assignment: str | None = None, force: bool = False) -> Path:
    """Autograde ``submitted/`` into the gradebook and write ``grades.csv`` in the course folder.

    One ``nbgrader autograde`` call grades every student. nbgrader skips submissions already
    in ``autograded/`` unless their ``timestamp.txt`` is newer; ``force`` regrades everything.
    A submission nbgrader itself cannot process (e.g. not a notebook) is reported on stderr and
    the others are kept.
    Returns the CSV path. Raises ``NbgraderFailed`` if the course has not been released.
    """
    course_dir = Path(course_dir).resolve()
    with gradebook(course_dir) as gb:
        known = {a.name for a in gb.assignments}
    found = submissions(course_dir, assignment)
    for name in sorted(set(found) - known):
        print(f"grader: skipping submitted/*/{name}: no such assignment in the gradebook (release it first)", file=sys.stderr)
    students = sorted({s for name, ids in found.items() if name in known for s in ids})
    register_students(course_dir, students)
    if set(found) & known:
        # One call for the whole class ("*" is globbed by nbgrader): start-up costs ~3 s a call.
        target = assignment or "*"
        total = sum(len(ids) for name, ids in found.items() if name in known)
        with _progress_of(course_dir, total):
            proc = run_nbgrader(["autograde", target] + (["--force"] if force else []), course_dir, check=False)
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
            print(f"grader: nbgrader autograde {target} reported problems:", file=sys.stderr)
            for line in errors[-20:] or proc.stderr.splitlines()[-20:]:
                print(f"  {line}", file=sys.stderr)
    csv_path = course_dir / GRADES_CSV
    run_nbgrader(["export", "--to", str(csv_path)], course_dir)
    return csv_path

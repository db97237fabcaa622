"""What a run of ``grader autograde`` has left to do, so a re-run with nothing new skips nbgrader.

nbgrader itself skips a submission whose ``autograded/<student>/<assignment>/`` exists unless the
submission's ``timestamp.txt`` is newer (``nbgrader collect --update`` brings a newer one), but it
takes ~30 s to start and look. :func:`pending` applies the same rule without starting it, and
the stamp file records which grading code graded the class, since a fixed check should be noticed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from grader import grading_version
from grader.outputs import write_text

#: In the course folder: the ``grading_version()`` of the grader that last ran ``nbgrader autograde`` there.
STAMP = ".grader_autograde_version"


def parse_utc(text: str) -> datetime:
    """A ``timestamp.txt`` as naive UTC, read as nbgrader 0.9.6's ``utils.parse_utc`` reads it
    (``2026-01-10 10:00:00.000000 UTC``, or any form dateutil knows). Not imported from nbgrader:
    importing nbgrader takes seconds, the whole cost of a re-run with nothing to do."""
    import dateutil.parser
    import dateutil.tz

    parts = text.split(" ")
    if len(parts) == 3:
        tz: object = parts[2]
        try:
            tz = int(parts[2])
        except ValueError:
            tz = dateutil.tz.gettz(parts[2])
        ts = dateutil.parser.parse(" ".join(parts[:2] + ["TZ"]), tzinfos={"TZ": tz})
    else:
        ts = dateutil.parser.parse(text)
    if ts.tzinfo is not None:
        ts = (ts - ts.utcoffset()).replace(tzinfo=None)
    return ts


def timestamp(folder: Path) -> datetime | None:
    """The folder's ``timestamp.txt`` as nbgrader reads it, or ``None`` (none, empty, unreadable).

    Read as a submission file (the student wrote it): a FIFO there once hung ``grader autograde``
    for the class, and a link to ``/dev/zero`` would have been read without end."""
    from grader.extract import ExtractionError, read_submission

    try:
        text = read_submission(folder / "timestamp.txt").decode("utf-8").strip()
        return parse_utc(text) if text else None
    except (ExtractionError, ValueError, OverflowError):  # UnicodeDecodeError is a ValueError
        return None


def pending(course_dir: Path, found: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(student, assignment) pairs of ``found`` that ``nbgrader autograde`` (without ``--force``)
    would grade: never autograded, or submitted again since (a newer ``timestamp.txt``)."""
    todo = []
    for assignment, students in found.items():
        for student in students:
            dest = course_dir / "autograded" / student / assignment
            if not dest.is_dir():
                todo.append((student, assignment))
                continue
            new, old = timestamp(course_dir / "submitted" / student / assignment), timestamp(dest)
            if new is not None and old is not None and new > old:
                todo.append((student, assignment))
    return sorted(todo)


def code_changed(course_dir: Path) -> bool:
    """True if the class was last autograded by other grading code (or never by this grader)."""
    try:
        return (course_dir / STAMP).read_text(encoding="utf-8").strip() != grading_version()
    except OSError:
        return True


def stamp(course_dir: Path) -> None:
    """Record that this grading code has just run ``nbgrader autograde`` over the class."""
    write_text(course_dir / STAMP, grading_version() + "\n")


def export_is_current(course_dir: Path, csv_path: Path) -> bool:
    """True if ``csv_path`` was written after the gradebook last changed (hand grading in the
    formgrader changes it too), so exporting again would write the same file."""
    try:
        return csv_path.stat().st_mtime > (course_dir / "gradebook.db").stat().st_mtime
    except OSError:
        return False

"""``grader feedback``: per-student HTML feedback from autograded notebooks (``nbgrader generate_feedback``)."""

from __future__ import annotations

from pathlib import Path

from grader.nbgrader_bridge.autograde import folder_progress, subfolders
from grader.nbgrader_bridge.commands import run_nbgrader


def autograded_assignments(course_dir: Path) -> list[str]:
    """Assignment ids that have at least one autograded submission."""
    names = {a.name for s in subfolders(Path(course_dir) / "autograded") for a in subfolders(s)}
    return sorted(names)


def feedback(course_dir: Path, assignment: str | None = None) -> list[Path]:
    """Generate ``feedback/<student>/<assignment>/<assignment>.html``; returns the files written.

    The pages show each autograder cell's check list and score as written by the sandboxed
    autograde step. Raises ``NbgraderFailed`` if nbgrader fails.
    """
    course_dir = Path(course_dir).resolve()
    names = [assignment] if assignment else autograded_assignments(course_dir)
    if names:
        total = sum(1 for s in subfolders(course_dir / "autograded") for a in subfolders(s) if a.name in names)
        # "*" (nbgrader globs it) saves ~3 s of start-up per assignment
        with folder_progress(course_dir / "feedback", total):
            run_nbgrader(["generate_feedback", assignment or "*", "--force"], course_dir)
    return sorted(p for name in names for p in (course_dir / "feedback").glob(f"*/{name}/*.html"))

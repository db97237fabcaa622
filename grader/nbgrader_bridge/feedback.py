"""``grader feedback``: per-student HTML feedback from autograded notebooks (``nbgrader generate_feedback``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from grader.nbgrader_bridge.autograde import subfolders
from grader.nbgrader_bridge.commands import run_nbgrader
from grader.nbgrader_bridge.progress import fresh_files, watch
from grader.reports.sanitize import safe_notebook_page


def _autograded(course_dir: Path) -> list[str]:
    """The assignment id of every autograded submission (one entry per student and assignment)."""
    return [a.name for s in subfolders(course_dir / "autograded") for a in subfolders(s)]


def feedback(course_dir: Path, assignment: str | None = None) -> list[Path]:
    """Generate ``feedback/<student>/<assignment>/<assignment>.html``; returns the files written.

    The pages show each autograder cell's check list and score as written by the sandboxed
    autograde step. Each page nbgrader writes is then rebuilt safe to open offline
    (:func:`~grader.reports.sanitize.safe_notebook_page`: the student's HTML sanitized, math as
    MathML, no script). Raises ``NbgraderFailed`` if nbgrader fails.
    """
    course_dir = Path(course_dir).resolve()
    graded = _autograded(course_dir)
    names = ([assignment] if assignment in graded else []) if assignment else sorted(set(graded))
    if not names:  # nbgrader would stop on its empty glob with a traceback-like log
        print(f"grader: nothing autograded{' for ' + assignment if assignment else ''} in {course_dir} yet, so no "
              f"feedback to write; run grader autograde --course {course_dir} first", file=sys.stderr)
    if names:
        total = sum(name in names for name in graded)
        # "*" (nbgrader globs it) saves ~3 s of start-up per assignment
        counter = fresh_files(course_dir / "feedback", "*/*/*.html", time.time() - 1.0)
        with watch("feedback", "page", total, counter):
            run_nbgrader(["generate_feedback", assignment or "*", "--force"], course_dir)
    pages = sorted(p for name in names for p in (course_dir / "feedback").glob(f"*/{name}/*.html"))
    for page in pages:
        make_safe(page)
    return pages


def make_safe(page: Path) -> None:
    """Rewrite one of nbgrader's feedback pages with :func:`safe_notebook_page` (idempotent)."""
    text = page.read_text(encoding="utf-8", errors="replace")
    page.write_text(safe_notebook_page(text, title=page.stem), encoding="utf-8")

"""``grader feedback``: per-student HTML feedback from autograded notebooks (``nbgrader generate_feedback``)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from grader.nbgrader_bridge.autograde import _FAILED_LINE, subfolders
from grader.nbgrader_bridge.commands import _TAIL, NbgraderFailed, run_nbgrader
from grader.nbgrader_bridge.progress import fresh_files, watch
from grader.outputs import write_text
from grader.reports.sanitize import safe_notebook_page


def _autograded(course_dir: Path) -> list[str]:
    """The assignment id of every autograded submission (one entry per student and assignment)."""
    return [a.name for s in subfolders(course_dir / "autograded") for a in subfolders(s)]


def feedback(course_dir: Path, assignment: str | None = None) -> list[Path]:
    """Generate ``feedback/<student>/<assignment>/<assignment>.html``; returns the files written.

    The pages show each autograder cell's check list and score as written by the sandboxed
    autograde step. Each page nbgrader writes is then rebuilt safe to open offline
    (:func:`~grader.reports.sanitize.safe_notebook_page`: the student's HTML sanitized, math as
    MathML, no script), whether or not nbgrader failed on some notebook. Raises ``NbgraderFailed``
    afterwards, naming the submissions nbgrader could not render, if it failed.
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
            # check=False: one notebook nbconvert cannot render (``"widgets": 5`` in its metadata)
            # failed the run, and the class's pages were left as nbgrader wrote them, script live.
            proc = run_nbgrader(["generate_feedback", assignment or "*", "--force"], course_dir, check=False)
    pages = []
    for student in subfolders(course_dir / "autograded"):  # the folders nbgrader has just written
        for name in names:
            folder = course_dir / "feedback" / student.name / name
            if (student / name).is_dir() and folder.is_dir() and not folder.is_symlink():
                pages += keep_pages(folder, student / name)
    pages.sort()
    for page in pages:
        make_safe(page)
    if names and proc.returncode != 0:
        failed = sorted({f"{m['s']}/{m['a']}" for m in _FAILED_LINE.finditer(proc.stderr or "")})
        said = "\n".join(line for line in (proc.stderr or "").splitlines() if "ERROR" in line)[-_TAIL:]
        raise NbgraderFailed(
            f"nbgrader could not write the feedback of {', '.join(failed) or 'some submissions'} (their notebooks "
            f"could not be rendered); every other page was written and made safe:\n{said}")
    return pages


#: Besides the pages, what stays in a feedback folder (nbgrader writes it from the submission's).
KEPT = {"timestamp.txt"}


def keep_pages(folder: Path, autograded: Path) -> list[Path]:
    """The pages of ``folder`` (``<notebook>.html`` for each autograded notebook); every other file
    is removed. nbgrader copies every file of the submission into its feedback folder: a
    student's ``x.svg`` or ``x.xhtml`` there ran its script when opened, and a page may show only
    embedded (``data:``) images, so nothing else there serves the feedback."""
    pages = {f"{nb.stem}.html" for nb in autograded.glob("*.ipynb")}
    kept = []
    for here, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            path = Path(here, name)
            if here == str(folder) and name in pages:
                kept.append(path)
            elif not (here == str(folder) and name in KEPT):
                path.unlink()
        for name in dirs:
            sub = Path(here, name)
            with contextlib.suppress(OSError):
                sub.unlink() if sub.is_symlink() else sub.rmdir()
    return sorted(kept)


def make_safe(page: Path) -> None:
    """Rewrite one of nbgrader's feedback pages with :func:`safe_notebook_page` (idempotent)."""
    text = page.read_text(encoding="utf-8", errors="replace")
    write_text(page, safe_notebook_page(text, title=page.stem))

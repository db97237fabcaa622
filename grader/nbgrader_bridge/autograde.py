"""``grader autograde``: grade ``submitted/`` with the real ``nbgrader autograde``, then export."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from grader.nbgrader_bridge import rerun
from grader.nbgrader_bridge.commands import NbgraderFailed, run_nbgrader
from grader.nbgrader_bridge.export import export_grades
from grader.nbgrader_bridge.gradebook import gradebook, gradebook_assignments, read_gradebook
from grader.nbgrader_bridge.progress import fresh_files, watch
from grader.nbgrader_bridge.staging import staged
from grader.sandbox.limits import Limits

GRADES_CSV = "grades.csv"


@dataclass(frozen=True)
class Score:
    """One student's total on one assignment, as stored in the gradebook."""

    student: str
    assignment: str
    score: float
    max_score: float


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
    rows = [Score(s.student, s.assignment, s.raw_score, s.max_score) for s in read_gradebook(course_dir).submissions.values()]
    return sorted(rows, key=lambda r: (r.student, r.assignment))


class AutogradeIncomplete(NbgraderFailed):
    """nbgrader graded the class but not every submission; ``grades.csv`` was written anyway.

    ``failed`` holds the (student, assignment) pairs without an autograded notebook."""

    def __init__(self, message: str, failed: list[tuple[str, str]], csv_path: Path) -> None:
        super().__init__(message)
        self.failed = failed
        self.csv_path = csv_path


#: nbgrader's summary line for each submission it could not process (converters/base.py).
_FAILED_LINE = re.compile(r"There was an error processing assignment '(?P<a>[^']*)' for student '(?P<s>[^']*)'")


def failed_submissions(course_dir: Path, found: dict[str, list[str]], stderr: str) -> list[tuple[str, str]]:
    """(student, assignment) pairs nbgrader did not grade: named in its error summary, or
    without ``autograded/<student>/<assignment>/`` (nbgrader removes a failed one; a run it
    stopped early never reached the students after the failure)."""
    failed = {(m["s"], m["a"]) for m in _FAILED_LINE.finditer(stderr)}
    for name, students in found.items():
        failed |= {(s, name) for s in students if not (course_dir / "autograded" / s / name).is_dir()}
    return sorted(failed)


def unreadable(course_dir: Path, student: str, assignment: str) -> str | None:
    """Why ``submitted/<student>/<assignment>/`` holds no readable notebook, in the sentence
    ``grader grade`` gives for the same file; ``None`` if every notebook there reads."""
    from grader.extract import ExtractionError, read_notebook

    folder = Path(course_dir) / "submitted" / student / assignment
    if not (folder / f"{assignment}.ipynb").is_file():  # nbgrader looks for the source's notebook name only
        found = ", ".join(sorted(p.name for p in folder.glob("*.ipynb"))) or "no notebook"
        return (f"no {assignment}.ipynb in submitted/{student}/{assignment}/ (found: {found}); "
                f"each submission is submitted/<student>/{assignment}/{assignment}.ipynb")
    for path in sorted(folder.glob("*.ipynb")):
        try:
            read_notebook(path)
        except ExtractionError as exc:
            return str(exc)
    if (folder / "timestamp.txt").exists() and rerun.timestamp(folder) is None:
        return ("timestamp.txt is not a date nbgrader can read (it should hold the time of submission, "
                "e.g. 2026-01-10 10:00:00.000000 UTC, as nbgrader submit writes it)")
    return None


def _incomplete(course_dir: Path, failed: list[tuple[str, str]], errors: list[str], csv_path: Path) -> AutogradeIncomplete:
    names = ", ".join(f"{s}/{a}" for s, a in failed) or "(nbgrader named none)"
    # A notebook nbgrader cannot read gets grader grade's one sentence, not nbgrader's traceback.
    reasons = {(s, a): unreadable(course_dir, s, a) for s, a in failed}
    said = "\n".join(f"  {s}/{a}: {why}" for (s, a), why in reasons.items() if why)
    if not failed or not all(reasons.values()):
        said = "\n".join([*(f"  {line}" for line in said.splitlines()), "nbgrader said:", *(f"  {line}" for line in errors[-20:])])
    return AutogradeIncomplete(
        f"nbgrader could not grade {len(failed) or 'some'} submission(s): {names}. They have no autograded "
        f"notebook, and their score cells in {csv_path.name} are left empty:\n{said}\n"
        f"Fix those submissions (or, if the grader itself failed, nothing) and run again: "
        f"grader autograde --course {course_dir}; it grades only what is missing.",
        failed,
        csv_path,
    )


#: Bounds on one ``nbgrader autograde`` run, which grades the whole class in one process: the
#: sandbox bounds each submission (``Limits.submission_seconds``: loading plus every call), so the
#: run gets its start-up plus that bound and some slack per submission, never one fixed time for
#: the class (30 endless loops at 60 s each once used up nbgrader's 1800 s and lost every grade).
NBGRADER_START_SECONDS = 120.0
PER_SUBMISSION_SLACK_SECONDS = 30.0


def run_seconds(submissions: int, limits: Limits | None = None) -> float:
    """The time one ``nbgrader autograde`` run of ``submissions`` submissions may take."""
    per = (limits or Limits()).submission_seconds + PER_SUBMISSION_SLACK_SECONDS
    return NBGRADER_START_SECONDS + submissions * per


def limit_options(limits: Limits | None) -> list[str]:
    """nbgrader command-line options handing ``limits`` to :class:`SandboxGrade` (none: defaults)."""
    if limits is None:
        return []
    from grader.nbgrader_bridge.preprocessor import LIMIT_TRAITS

    return [f"--SandboxGrade.{name}={getattr(limits, name)!r}" for name in LIMIT_TRAITS]


def _timed_out(exc: subprocess.TimeoutExpired) -> subprocess.CompletedProcess:
    said = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    line = (f"[AutogradeApp | ERROR] grader: nbgrader autograde did not finish within {exc.timeout:g} s "
            "(the per-submission time bounds of the whole class) and was stopped; this is a grader fault")
    return subprocess.CompletedProcess(exc.cmd, -9, "", f"{said}\n{line}\n")


def autograde(course_dir: Path, assignment: str | None = None, force: bool = False, limits: Limits | None = None) -> Path:
    """Autograde ``submitted/`` into the gradebook and write ``grades.csv`` in the course folder.

    One ``nbgrader autograde`` call grades every student. nbgrader skips submissions already
    in ``autograded/`` unless their ``timestamp.txt`` is newer; ``force`` regrades everything.
    When nothing is left to grade by that rule, nbgrader is not started at all (nor ``nbgrader
    export``, if ``grades.csv`` is newer than the gradebook); if the grading code changed since
    the class was autograded, a note says that ``force`` would regrade it.
    Returns the CSV path. Raises ``NbgraderFailed`` if the course has not been released, and
    :class:`AutogradeIncomplete` (after writing the CSV for the others) if nbgrader could not
    grade some submission (e.g. not a notebook, or a fault of the grader). ``limits`` replace
    the sandbox's default limits for each submission (and so bound the run, see :func:`run_seconds`).
    """
    course_dir = Path(course_dir).resolve()
    names = gradebook_assignments(course_dir / "gradebook.db")  # read without importing nbgrader
    if names is None:
        raise NbgraderFailed(f"{course_dir} has no nbgrader gradebook.db; run: grader release --course {course_dir}")
    known = set(names)
    found = submissions(course_dir, assignment)
    for name in sorted(set(found) - known):
        print(f"grader: skipping submitted/*/{name}: no such assignment in the gradebook (release it first)", file=sys.stderr)
    failed: list[tuple[str, str]] = []
    errors: list[str] = []
    found = {name: ids for name, ids in found.items() if name in known}
    if not found:  # said, so an empty grades.csv is not taken for a graded class
        where = f"submitted/<student>/{assignment}/{assignment}.ipynb" if assignment else \
            "submitted/<student>/<assignment>/<assignment>.ipynb"
        print(f"grader: no submissions to grade in {course_dir / 'submitted'} (each goes at {where}, "
              "as nbgrader collect puts them)", file=sys.stderr)
    todo = [(s, a) for a, ids in found.items() for s in ids] if force else rerun.pending(course_dir, found)
    if found and not todo and rerun.code_changed(course_dir) and (course_dir / rerun.STAMP).exists():
        print("grader: the grading code changed since this class was autograded; only new submissions are graded "
              f"(grader autograde --course {course_dir} --force regrades every submission with it)", file=sys.stderr)
    graded: dict[str, list[str]] = {}
    proc = None
    if todo:
        # nbgrader is shown a checked copy of submitted/: links, oversized notebooks and unsafe
        # student folder names are refused here, before it sees them (see staging.py).
        with staged(course_dir, found) as stage:
            for message in stage.refused:
                print(f"grader: {message}", file=sys.stderr)
            graded = stage.accepted
            accepted = [(s, a) for s, a in todo if s in graded.get(a, ())]
            if accepted:
                register_students(course_dir, sorted({s for ids in graded.values() for s in ids}))
                # One call for the whole class ("*" is globbed by nbgrader): start-up costs ~3 s a call.
                target = assignment or "*"
                args = ["autograde", target, f"--CourseDirectory.submitted_directory={stage.folder}"]
                args += limit_options(limits) + (["--force"] if force else [])
                count = sum(len(ids) for ids in graded.values())
                since = time.time() - 1.0  # file times can lag the clock by a tick
                counter = fresh_files(course_dir / "autograded", "*/*/*.ipynb", since)
                try:
                    with watch("autograde", "submission", len(accepted), counter):
                        proc = run_nbgrader(args, course_dir, check=False, timeout=run_seconds(count, limits))
                except subprocess.TimeoutExpired as exc:  # a grader fault: say so, keep the grades made
                    proc = _timed_out(exc)
                rerun.stamp(course_dir)
    if proc is not None:
        failed = failed_submissions(course_dir, graded, proc.stderr or "")
        if proc.returncode != 0 or failed:
            lines = (proc.stderr or "").splitlines()
            errors = [line for line in lines if "ERROR" in line]
            if not errors and proc.returncode != 0:
                errors = lines[-20:] or [f"(nbgrader exited with status {proc.returncode})"]
            elif not errors:  # nothing failed in nbgrader: it found no notebook to grade there
                errors = ["(no error: is each submission's notebook named <assignment>.ipynb?)"]
    csv_path = course_dir / GRADES_CSV
    if proc is not None or not rerun.export_is_current(course_dir, csv_path):
        export_grades(course_dir, csv_path, ungraded=failed)
    if errors:
        raise _incomplete(course_dir, failed, errors, csv_path)
    return csv_path

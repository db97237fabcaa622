"""``grader demo``: release the course, autograde the sample class through nbgrader, report.

Everything goes through the real ``nbgrader`` commands and the real SQLite gradebook, with the
course's ``nbgrader_config.py`` putting the sandboxed judge in place of nbgrader's ``Execute``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.nbgrader_bridge.autograde import Score, autograde, read_scores
from grader.nbgrader_bridge.commands import NbgraderFailed
from grader.nbgrader_bridge.course import release
from grader.nbgrader_bridge.feedback import feedback
from grader.nbgrader_bridge.sample_class import SampleClassError, place_class
from grader.outputs import OutputError, check_dir, make_dir, write_text
from grader.reports.table import score_grid

MARKER = ".grader-demo"


def prepare_dest(dest: Path | None) -> Path:
    """A fresh, empty course folder: a new temporary one, or ``dest`` (a previous demo is replaced)."""
    if dest is None:
        return Path(tempfile.mkdtemp(prefix="grader-demo-"))
    dest = check_dir(Path(dest).absolute(), "demo course folder")
    if dest.exists() and any(dest.iterdir()):
        if not (dest / MARKER).is_file():
            raise NbgraderFailed(f"{dest} is not empty and is not a previous demo course; choose another --dest")
        shutil.rmtree(dest)
    return make_dir(dest, "demo course folder")


def score_table(scores: list[Score], assignments: list[str], students: list[str]) -> str:
    """Students down, assignments across (``missing`` = not handed in), and each total."""
    return score_grid({(s.student, s.assignment): (s.score, s.max_score) for s in scores}, assignments, students)


def run_demo(dest: Path | None = None) -> int:
    """Build the demo course in ``dest`` (default: a new temporary folder) and print the results.

    Returns the process exit status (0 on success).
    """
    started = time.monotonic()

    def step(text: str) -> None:
        print(f"[{time.monotonic() - started:5.1f}s] {text}", flush=True)

    try:
        course = prepare_dest(dest)
        write_text(course / MARKER, "written by grader demo; the folder is replaced by the next demo run\n")
        step(f"course folder: {course}")
        step("nbgrader generate_assignment: writing source/, the gradebook and release/")
        released = release(course)
        names = [p.parent.name for p in released]
        placed = place_class(course)
        students = sorted({s for s, _ in placed})
        step(f"placed {len(placed)} submissions of {len(students)} sample students under submitted/")
        step("nbgrader autograde (sandboxed judge in place of Execute), one call for the class")
        csv_path = autograde(course, force=True)
        step("nbgrader generate_feedback")
        pages = feedback(course)
    except (NbgraderFailed, SampleClassError, OutputError) as exc:
        print(f"grader demo: {exc}", file=sys.stderr)
        return 1
    step("done")
    print()
    print("Scores read back from the nbgrader gradebook (" + str(course / "gradebook.db") + "):")
    print(score_table(read_scores(course), names, students))
    print()
    print(f"Grades CSV (nbgrader export's columns; empty score = not submitted): {csv_path}")
    print(f"Feedback pages ({len(pages)}): {course / 'feedback'}/<student>/<assignment>/<assignment>.html")
    if pages:
        print(f"  for example: {pages[0]}")
    print(f"Autograded notebooks: {course / 'autograded'}")
    print("Who the sample students are and what each one gets wrong: samples/README.md")
    return 0

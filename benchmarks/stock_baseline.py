"""The stock-nbgrader baseline: the same checks, run the way stock nbgrader runs hidden tests.

Stock ``nbgrader autograde`` executes every cell of a submission in a Jupyter kernel, hidden tests
included, and takes a grade cell's score from its last expression (partial credit). The course's
source notebooks keep their hidden regions empty for stock nbgrader (they are graded by our
sandboxed judge), so this module builds a *stock* course whose hidden regions call
:func:`run_cell`: it runs the same battery checks of that cell, in the student's own
kernel, against the kernel's globals. That is deliberately insecure (student code can defeat it,
see docs/architecture.md): it is what stock nbgrader does, and only serves as a speed and score baseline.

The kernel imports this module, so the folder holding it must be on the kernel's PYTHONPATH
(:func:`stock_env` does that).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HIDDEN = re.compile(r"(### BEGIN HIDDEN TESTS\n).*?(### END HIDDEN TESTS)", re.S)
# The public checks before it (for students and nbgrader Validate) are left out of the baseline:
# a failing one zeroes the cell in stock nbgrader, while both graders compared here score a cell
# by its hidden checks only.
PUBLIC = re.compile(r"^# Public checks?:.*?(?=^### BEGIN HIDDEN TESTS)", re.S | re.M)
HERE = Path(__file__).resolve().parent

CONFIG = """\
c = get_config()  # noqa: F821 (provided by nbgrader)
# Stock nbgrader: the default autograde pipeline (hidden tests run in the student's kernel).
# Millisecond timestamps let the benchmark time each submission from the log.
c.Application.log_format = "%(asctime)s.%(msecs)03d [%(name)s | %(levelname)s] %(message)s"
"""


def run_cell(assignment: str, cell: str, namespace: dict[str, Any]) -> float:
    """Run the checks of grade cell ``cell`` in-process against ``namespace``; return the points.

    Called from the hidden region of a stock course's grade cell, with ``globals()`` of the
    student's kernel. The returned float is the cell's last expression, which stock nbgrader
    records as the cell's partial credit.
    """
    from grader import assignments
    from grader.checks.base import run_battery
    from grader.student import InProcessStudent

    checks = [c for c in assignments.get(assignment).battery().checks if c.cell == cell]
    # Stock nbgrader zeroes a cell with any stderr output; a RuntimeWarning from the student's
    # arithmetic on a hidden input must not cost points the sandboxed judge would give.
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_battery(checks, InProcessStudent(namespace))
    return float(sum(r.score for r in results))  # a Python float: nbgrader parses its repr


def stock_source(notebook_text: str, assignment: str) -> str:
    """The source notebook's text with each hidden region replaced by a call to :func:`run_cell`."""
    import nbformat

    nb = nbformat.reads(notebook_text, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and "### BEGIN HIDDEN TESTS" in cell.source:
            call = f"import stock_baseline\nstock_baseline.run_cell({assignment!r}, {meta['grade_id']!r}, globals())\n"
            cell.source = HIDDEN.sub(lambda m: m.group(1) + call + m.group(2), PUBLIC.sub("", cell.source))
    return nbformat.writes(nb)


def stock_env() -> dict[str, str]:
    """Environment for nbgrader and its kernels: this interpreter's ``bin`` first on PATH
    (nbgrader 0.9.6 runs ``alembic`` from PATH) and this folder on PYTHONPATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    # The repository root too, so a fresh clone works without installing the project.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), str(HERE.parent), env.get("PYTHONPATH", "")) if p)
    return env


def nbgrader(args: list[str], course: Path, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in ``course``; raise with the log tail if it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=stock_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{(proc.stderr + proc.stdout)[-3000:]}")
    return proc


def build_course(course: Path, assignment: str) -> Path:
    """Write a stock nbgrader course for ``assignment`` and release it; return the released notebook."""
    from grader import assignments

    source = assignments.get(assignment).notebook
    dest = course / "source" / assignment
    dest.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    (dest / source.name).write_text(stock_source(source.read_text(encoding="utf-8"), assignment), encoding="utf-8")
    nbgrader(["generate_assignment", assignment, "--force"], course)
    return course / "release" / assignment / source.name


def autograde(course: Path, assignment: str) -> tuple[float, str]:
    """Run stock ``nbgrader autograde`` on every submission; return (wall seconds, log text)."""
    start = time.perf_counter()
    proc = nbgrader(["autograde", assignment, "--force"], course)
    return time.perf_counter() - start, proc.stderr + proc.stdout


def cell_scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    """Autograded score of every grade cell, per student, read from the course gradebook."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course.resolve() / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                out[sub.student_id] = {g.name: float(g.score) for g in nb.grades if g.cell_type == "code"}
    return out

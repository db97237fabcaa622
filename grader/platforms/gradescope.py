"""A Gradescope autograder bundle that grades with this project's own engine.

The zip holds ``setup.sh`` (run once when Gradescope builds the image: installs Python and this
project), ``run_autograder`` (run per submission) and the project's source. ``run_autograder``
calls :func:`run_autograder` below, which finds the student's file under
``<root>/submission/``, grades it with :func:`grader.grading.grade_submission` and writes
``<root>/results/results.json`` in Gradescope's format. ``<root>`` is ``/autograder`` unless the
``GRADER_AUTOGRADER_ROOT`` environment variable says otherwise (tests use a temporary folder).

Hidden checks (every battery check unless it is marked ``visible``, and every quiz answer) get
``"visibility": "after_published"``, so students see their details only once grades are
published. Right after submitting, the student sees the total and, in the top-level output, the
names of the properties that failed (``summary="failed"``, the default; ``"score"`` shows the
total only): enough to know what to fix, without the hidden checks' messages.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from grader import assignments
from grader.outputs import write_bytes, write_text
from grader.paths import REPO_ROOT
from grader.platforms import PlatformError
from grader.results import SubmissionResult

ROOT_ENV = "GRADER_AUTOGRADER_ROOT"
DEFAULT_ROOT = Path("/autograder")
HIDDEN_VISIBILITY = "after_published"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
#: What a student sees at once, before the hidden details are published.
SUMMARIES = ("failed", "score")
SUMMARY = "failed"

#: What of the project goes into the bundle (paths relative to the repository root).
BUNDLE_FILES = ("pyproject.toml", "README.md")
BUNDLE_DIRS = ("grader", "solutions", "assignments")
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".git"}
_SKIP_SUFFIXES = (".pyc", ".pyo")
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # identical bundles for identical sources

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while building the autograder image; the zip is unpacked
# in /autograder/source. It installs Python >= 3.11 and this project into /autograder/venv.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y python3 python3-venv python3-pip
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu 22.04 images ship Python 3.10; the project needs 3.11.
    apt-get install -y python3.11 python3.11-venv
    PY=python3.11
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
# Editable, so the grader finds the assignments' source notebooks in /autograder/source.
/autograder/venv/bin/pip install -e /autograder/source
chmod +x /autograder/source/run_autograder
if [ -f /autograder/run_autograder ]; then chmod +x /autograder/run_autograder; fi
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission/ with the course
# grader and write /autograder/results/results.json. GRADER_AUTOGRADER_ROOT replaces
# /autograder (for tests); GRADER_PYTHON replaces the interpreter installed by setup.sh.
set -u
ROOT="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
PY="${{GRADER_PYTHON:-/autograder/venv/bin/python}}"
cd "$ROOT/source"
exec "$PY" -m grader.platforms.gradescope --assignment {assignment} --hidden-visibility {visibility} --summary {summary} --root "$ROOT"
"""


def _project_files(repo_root: Path) -> list[tuple[Path, str]]:
    files = [(repo_root / name, name) for name in BUNDLE_FILES if (repo_root / name).is_file()]
    for folder in BUNDLE_DIRS:
        for path in sorted((repo_root / folder).rglob("*")):
            rel = path.relative_to(repo_root)
            if path.is_file() and not (set(rel.parts) & _SKIP_PARTS) and not path.name.endswith(_SKIP_SUFFIXES):
                files.append((path, rel.as_posix()))
    return files


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_gradescope_bundle(
    assignment: str, out_zip: Path, hidden_visibility: str = HIDDEN_VISIBILITY, repo_root: Path = REPO_ROOT,
    summary: str = SUMMARY,
) -> Path:
    """Write the Gradescope autograder zip for ``assignment`` to ``out_zip``; returns its path.

    Raises :class:`PlatformError` for an unknown assignment or visibility.
    """
    try:
        assignments.get(assignment)
    except assignments.UnknownAssignment as exc:
        raise PlatformError(str(exc)) from None
    if hidden_visibility not in VISIBILITIES:
        raise PlatformError(f"unknown visibility {hidden_visibility!r}; choose one of: {', '.join(VISIBILITIES)}")
    if summary not in SUMMARIES:
        raise PlatformError(f"unknown summary {summary!r}; choose one of: {', '.join(SUMMARIES)}")
    if not (repo_root / "pyproject.toml").is_file():
        raise PlatformError(f"{repo_root} is not the project's source folder (no pyproject.toml); build the bundle from a checkout")
    out_zip = Path(out_zip)
    buffer = io.BytesIO()  # built in memory: a zip seeks back, which a device output cannot
    with zipfile.ZipFile(buffer, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
        script = RUN_AUTOGRADER.format(assignment=assignment, visibility=hidden_visibility, summary=summary)
        _add(zf, "run_autograder", script.encode(), executable=True)
        for path, name in _project_files(repo_root):
            _add(zf, name, path.read_bytes())
    return write_bytes(out_zip, buffer.getvalue())


# --- per submission, inside Gradescope ---------------------------------------------------------


class SubmissionNotFound(PlatformError):
    """No single gradable file in the submission folder; the message is shown to the student."""


def find_submission(submission_dir: Path, assignment: str) -> Path:
    """The student's file: ``<assignment>.ipynb`` or ``.py`` (anywhere in the folder), else the
    only notebook, else the only ``.py`` file. Raises :class:`SubmissionNotFound`."""
    from grader.batch import walk

    found = sorted(
        p
        for p in walk(Path(submission_dir))  # not rglob: it recursed once per nested folder
        if p.is_file()
        and p.suffix in (".ipynb", ".py")
        and not (set(p.relative_to(submission_dir).parts) & _SKIP_PARTS)
    )
    for suffix in (".ipynb", ".py"):
        named = [p for p in found if p.name == f"{assignment}{suffix}"]
        if len(named) == 1:
            return named[0]
    for suffix in (".ipynb", ".py"):
        some = [p for p in found if p.suffix == suffix]
        if len(some) == 1:
            return some[0]
        if some:
            names = ", ".join(p.relative_to(submission_dir).as_posix() for p in some[:5])
            raise SubmissionNotFound(f"found several {suffix} files ({names}); upload only your {assignment}.ipynb, or name it {assignment}.ipynb")
    raise SubmissionNotFound(f"no notebook found in your submission; upload your {assignment}.ipynb")


def _visible_check_names(assignment: str) -> set[str]:
    a = assignments.get(assignment)
    if a.kind != "code":
        return set()
    return {c.name for c in a.battery().checks if c.visible}


def gradescope_results(
    result: SubmissionResult, hidden_visibility: str = HIDDEN_VISIBILITY, visible_names: set[str] | None = None,
    execution_time: float | None = None, summary: str = SUMMARY,
) -> dict[str, Any]:
    """A :class:`SubmissionResult` as Gradescope's ``results.json`` object.

    Gradescope knows only ``passed``/``failed``: errors and timeouts are ``failed`` with the
    reason at the start of the output. The top-level output, which the student sees at once,
    carries the total and (``summary="failed"``) the names of the failed checks when their
    details are hidden until later.
    """
    visible_names = visible_names or set()
    tests = []
    for n, t in enumerate(result.tests, 1):
        prefix = {"error": "Error: ", "timeout": "Timed out: "}.get(t.status, "")
        tests.append(
            {
                "name": t.name,
                "number": str(n),
                "score": round(t.score, 6),
                "max_score": round(t.max_score, 6),
                "status": "passed" if t.status == "passed" else "failed",
                "output": prefix + t.output,
                "visibility": "visible" if t.name in visible_names else hidden_visibility,
            }
        )
    lines = []
    if result.status == "error":
        lines.append(f"Your submission could not be graded: {result.message}")
    lines += [f"Note: {note}" for note in result.notes]
    if result.tests and hidden_visibility != "visible":
        lines.append(f"Total: {result.score:g} / {result.max_score:g}.")
        failed = [t.name for t in result.tests if t.status != "passed" and t.name not in visible_names]
        if summary == "failed" and failed:
            lines.append("These properties failed (details once grades are published):")
            lines += [f"  - {name}" for name in failed]
        elif summary == "failed":
            lines.append("Every check passed.")
    out: dict[str, Any] = {
        "score": round(result.score, 6),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",  # nothing the grader prints is meant for students
        "tests": tests,
    }
    if execution_time is not None:
        out["execution_time"] = round(execution_time, 3)
    return out


def autograder_root() -> Path:
    """``$GRADER_AUTOGRADER_ROOT`` or ``/autograder``."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def run_autograder(
    assignment: str, root: Path | None = None, hidden_visibility: str = HIDDEN_VISIBILITY, summary: str = SUMMARY,
) -> dict[str, Any]:
    """Grade ``<root>/submission/`` and write ``<root>/results/results.json``; returns its content."""
    from grader.grading import error_result, grade_submission

    root = Path(root) if root is not None else autograder_root()
    start = time.monotonic()
    submission_dir = root / "submission"
    try:
        a = assignments.get(assignment)
        try:
            path = find_submission(submission_dir, assignment)
            result = grade_submission(path, assignment, label=path.relative_to(submission_dir).as_posix())
        except SubmissionNotFound as exc:
            result = error_result("submission", a, str(exc))
        data = gradescope_results(result, hidden_visibility, _visible_check_names(assignment), time.monotonic() - start,
                                  summary)
    except Exception:  # a grader fault: still write results, so the student is told something
        import traceback

        traceback.print_exc()
        data = {"score": 0.0, "output": "The autograder itself failed; please tell your instructor.",
                "stdout_visibility": "hidden", "tests": []}
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)  # Gradescope's own layout under the root
    write_text(out, json.dumps(data, indent=2, ensure_ascii=False))
    return data


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.platforms.gradescope --assignment A``: what ``run_autograder`` runs."""
    parser = argparse.ArgumentParser(prog="python -m grader.platforms.gradescope", description=run_autograder.__doc__)
    parser.add_argument("--assignment", required=True, choices=list(assignments.ASSIGNMENTS))
    parser.add_argument("--root", help=f"autograder root (default: ${ROOT_ENV} or {DEFAULT_ROOT})")
    parser.add_argument("--hidden-visibility", default=HIDDEN_VISIBILITY, choices=VISIBILITIES)
    parser.add_argument("--summary", default=SUMMARY, choices=SUMMARIES)
    args = parser.parse_args(argv)
    data = run_autograder(args.assignment, Path(args.root) if args.root else None, args.hidden_visibility, args.summary)
    print(f"graded: {data['score']:g} points, {len(data['tests'])} tests", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

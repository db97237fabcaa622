"""Writing an nbgrader course folder and releasing the assignments through ``nbgrader``."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from grader import assignments
from grader.nbgrader_bridge.commands import run_nbgrader

CONFIG_NAME = "nbgrader_config.py"

#: nbgrader 0.9.6's default ``Autograde.sanitize_preprocessors`` after ours, which restores the
#: submission's nbgrader cells by grade_id first: a duplicated or deleted autograder cell would
#: otherwise stop the whole run or lose its points (nbgrader issue #1083).
SANITIZE_PREPROCESSORS = (
    "grader.nbgrader_bridge.sanitize.RestoreGradeCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
)

#: nbgrader 0.9.6's default ``Autograde.autograde_preprocessors`` with ``Execute`` replaced by
#: ours: student code is never judged in the student's kernel (see DESIGN.md).
AUTOGRADE_PREPROCESSORS = (
    "grader.nbgrader_bridge.preprocessor.SandboxGrade",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
)

#: nbgrader 0.9.6's default ``GenerateAssignment.preprocessors`` with ``ClearSolutions`` replaced:
#: a quiz answer region is released as ``name = r""``, not a raise (Run All reaches the preview).
GENERATE_PREPROCESSORS = (
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "grader.nbgrader_bridge.answer_stubs.ClearSolutionsKeepAnswerNames",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
)

CONFIG_TEMPLATE = '''\
# nbgrader configuration written by `grader release`. Run every nbgrader command from this folder.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# Release: unanswered quiz answers are released as name = r"" instead of a raise, so Run All
# reaches the quiz's preview cell; code solutions keep nbgrader's stub.
c.GenerateAssignment.preprocessors = [
{generate}
]

# Sanitizing: duplicated, deleted or garbled nbgrader cells of a submission are restored from the
# gradebook by grade_id before nbgrader checks them (stock nbgrader stops the whole run instead).
c.Autograde.sanitize_preprocessors = [
{sanitize}
]

# Grading: the Execute step (which runs hidden tests inside the student's own kernel, where
# student code can defeat them) is replaced by the course grader's sandboxed judge.
c.Autograde.autograde_preprocessors = [
{preprocessors}
]

# Feedback: nbgrader's default, without the hidden-test region in the students' pages.
c.GenerateFeedback.preprocessors = [
{feedback}
]
'''


#: nbgrader's default ``GenerateFeedback.preprocessors`` plus ``ClearHiddenTests``: the hidden
#: region (restored by autograde) only holds the stock-nbgrader guard, which would puzzle students.
FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)


def _list(names: tuple[str, ...]) -> str:
    return "\n".join(f"    {name!r}," for name in names)


def config_text() -> str:
    """The text of the course's ``nbgrader_config.py``."""
    return CONFIG_TEMPLATE.format(
        generate=_list(GENERATE_PREPROCESSORS),
        sanitize=_list(SANITIZE_PREPROCESSORS),
        preprocessors=_list(AUTOGRADE_PREPROCESSORS),
        feedback=_list(FEEDBACK_PREPROCESSORS),
    )


def write_config(course_dir: Path) -> Path:
    """Write ``nbgrader_config.py`` into ``course_dir`` (created if needed)."""
    course_dir.mkdir(parents=True, exist_ok=True)
    path = course_dir / CONFIG_NAME
    path.write_text(config_text(), encoding="utf-8")
    return path


def gradebook_assignments(db: Path) -> list[str] | None:
    """Assignment names in an nbgrader gradebook, read without writing to it; ``None`` if ``db``
    is not an nbgrader gradebook."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"assignment", "student", "submitted_assignment"} <= tables:
                return None
            return [r[0] for r in con.execute("SELECT name FROM assignment")]
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return None


def copy_sources(course_dir: Path, names: list[str]) -> None:
    """Copy each assignment's source notebook to ``source/<a>/<a>.ipynb``."""
    for name in names:
        notebook = assignments.get(name).notebook
        dest = course_dir / "source" / name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, dest / notebook.name)


def release(course_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Create or refresh an nbgrader course: config, ``source/``, gradebook and ``release/``.

    ``nbgrader generate_assignment`` registers each assignment and its grade cells in the
    gradebook and writes the student version (solutions and hidden tests removed). Returns the
    released notebooks. Raises :class:`~grader.nbgrader_bridge.commands.NbgraderFailed`.
    """
    course_dir = Path(course_dir).resolve()
    names = list(names) if names else list(assignments.ASSIGNMENTS)
    write_config(course_dir)
    copy_sources(course_dir, names)
    sources = {p.name for p in (course_dir / "source").iterdir() if p.is_dir()}
    # One nbgrader call per assignment costs ~3 s of start-up; one glob call does them all.
    batches = [["*"]] if sources == set(names) else [[name] for name in names]
    for batch in batches:
        run_nbgrader(["generate_assignment", *batch, "--force"], course_dir)
    return [course_dir / "release" / name / f"{name}.ipynb" for name in names]

"""Writing an nbgrader course folder and releasing the assignments through ``nbgrader``."""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

from grader import assignments
from grader.nbgrader_bridge.commands import run_nbgrader
from grader.nbgrader_bridge.progress import fresh_files, watch
from grader.outputs import make_dir, write_bytes, write_text

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
#: ours: student code is never judged in the student's kernel (see docs/architecture.md).
AUTOGRADE_PREPROCESSORS = (
    "grader.nbgrader_bridge.preprocessor.SandboxGrade",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
)

#: The file ``grader release`` writes and rewrites: the grader's own nbgrader settings. The
#: course's ``nbgrader_config.py`` is the instructor's (course id, exchange, late penalties...);
#: it loads this file first, so a setting of the instructor's wins and none is ever dropped.
GENERATED_NAME = "grader_nbgrader_config.py"

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
# Written by `grader release`, which rewrites it: do not edit. Your own nbgrader settings go in
# nbgrader_config.py, which loads this file. Run every nbgrader command from this folder.
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

# Feedback: nbgrader's default, without the hidden-test region and the cells' raw scores.
c.GenerateFeedback.preprocessors = [
{feedback}
]
'''

#: The line of the instructor's ``nbgrader_config.py`` that brings in the grader's settings.
LOAD_LINE = f'load_subconfig("{GENERATED_NAME}")  # noqa: F821 (the grader\'s settings; keep this line)'

INSTRUCTOR_TEMPLATE = f'''\
# nbgrader configuration of this course: yours to edit. `grader release` never rewrites this file.
# The grader's own settings are in {GENERATED_NAME} (rewritten by `grader release`); the line
# below loads them first, so a setting of yours further down wins. Add the settings nbgrader's
# exchange needs here, e.g.:
#   c.CourseDirectory.course_id = "dl101"
#   c.Exchange.root = "/srv/nbgrader/exchange"
#   c.LateSubmissionPlugin.penalty_method = "zero"
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
{{load}}
'''


#: nbgrader's default ``GenerateFeedback.preprocessors`` plus ``ClearHiddenTests`` (the hidden
#: region, restored by autograde, only holds the stock-nbgrader guard, which would puzzle
#: students) and ``DropScoreOutputs`` (each autograder cell's score output, which nbgrader reads
#: during autograde, would show as a stray ``Out[ ]: 2`` under the check table).
FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "grader.nbgrader_bridge.clean_feedback.DropScoreOutputs",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)

#: The settings the generated file makes (section, name) and their values.
GENERATED_SETTINGS = {
    ("Autograde", "sanitize_preprocessors"): SANITIZE_PREPROCESSORS,
    ("Autograde", "autograde_preprocessors"): AUTOGRADE_PREPROCESSORS,
    ("GenerateFeedback", "preprocessors"): FEEDBACK_PREPROCESSORS,
}


def _list(names: tuple[str, ...]) -> str:
    return "\n".join(f"    {name!r}," for name in names)


#: Appended for a course definition other than the built-in one: nbgrader's own process (which
#: runs our preprocessor) must grade with the same definition as the `grader` command did.
DEFINITION_LINE = '''
# The course definition this course grades with (grader release --definition).
__import__("grader.assignments").assignments.use({root!r})
'''


def config_text() -> str:
    """The text of the generated ``grader_nbgrader_config.py`` (for the course definition in use)."""
    text = CONFIG_TEMPLATE.format(
        generate=_list(GENERATE_PREPROCESSORS),
        sanitize=_list(SANITIZE_PREPROCESSORS),
        preprocessors=_list(AUTOGRADE_PREPROCESSORS),
        feedback=_list(FEEDBACK_PREPROCESSORS),
    )
    definition = assignments.current()
    if definition.root != assignments.builtin().root:
        text += DEFINITION_LINE.format(root=str(definition.root))
    return text


def recorded_definition(course_dir: Path) -> str | None:
    """The definition folder ``grader release --definition`` recorded in the course's generated
    config (:data:`DEFINITION_LINE`), or None (the built-in unit, or no such file)."""
    try:
        text = (Path(course_dir) / GENERATED_NAME).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = re.search(r"^__import__\(\"grader\.assignments\"\)\.assignments\.use\((.+)\)$", text, re.M)
    try:
        return str(ast.literal_eval(found.group(1))) if found else None
    except (ValueError, SyntaxError):
        return None


def instructor_config_text() -> str:
    """The instructor's ``nbgrader_config.py`` as ``grader release`` first writes it."""
    return INSTRUCTOR_TEMPLATE.format(load=LOAD_LINE)


def write_config(course_dir: Path) -> Path:
    """Write the grader's ``grader_nbgrader_config.py`` into ``course_dir`` (created if missing;
    its parent must exist), and the instructor's ``nbgrader_config.py`` if there is none (an old
    grader's one-file config is migrated, see :mod:`~grader.nbgrader_bridge.instructor_config`).
    Returns the generated file."""
    from grader.nbgrader_bridge.instructor_config import migrate

    make_dir(course_dir, "course folder")
    path = write_text(course_dir / GENERATED_NAME, config_text())
    mine = course_dir / CONFIG_NAME
    if not mine.exists():
        write_text(mine, instructor_config_text())
    else:
        migrate(mine)
    return path


def copy_sources(course_dir: Path, names: list[str]) -> None:
    """Copy each assignment's source notebook to ``source/<a>/<a>.ipynb``."""
    from grader.notebooks import ensure_notebook  # a definition's notebooks may be generated from prose

    for name in names:
        notebook = ensure_notebook(assignments.get(name))
        dest = make_dir(make_dir(course_dir / "source") / name)
        write_bytes(dest / notebook.name, notebook.read_bytes())


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
    counter = fresh_files(course_dir / "release", "*/*.ipynb", time.time() - 1.0)
    with watch("release", "assignment", len(names), counter):
        for batch in batches:
            run_nbgrader(["generate_assignment", *batch, "--force"], course_dir)
    return [course_dir / "release" / name / f"{name}.ipynb" for name in names]

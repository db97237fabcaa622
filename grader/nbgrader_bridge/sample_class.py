"""The embedded sample class: small per-student files turned into submitted notebooks.

Each student is a folder under ``samples/class/``; each assignment is one file in it:

* ``<assignment>.py``: what the student typed, as sections headed ``# %% <grade_id>``. A section
  fills the next ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` placeholder of that cell
  of the *released* notebook (indented to match); ``# %% <grade_id> cell`` replaces the whole
  cell. Text before the first header is a comment about the student and is ignored.
* ``<assignment>.untouched``: the student submitted the released notebook unchanged.
* no file: the student did not submit that assignment.

Building on the released notebooks keeps the class in step with the notebooks: only the
student's answers live here, and a section naming a cell or placeholder that no longer exists
is an error, not a silently different notebook.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from grader.nbgrader_bridge.answer_stubs import ANSWER_STUB_PATTERN
from grader.nbgrader_cells import grade_id, is_solution, metadata
from grader.paths import SAMPLES_DIR

CLASS_DIR = SAMPLES_DIR / "class"

_HEADER = re.compile(r"^# %% (?P<gid>[A-Za-z0-9_\-]+)(?P<cell> cell)?[ \t]*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)(?:# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)|"
                          + ANSWER_STUB_PATTERN + r")[ \t]*$", re.MULTILINE)


class SampleClassError(ValueError):
    """A sample-class file does not fit the released notebook."""


def parse_sections(text: str) -> list[tuple[str, bool, str]]:
    """``(grade_id, whole_cell, code)`` for each ``# %%`` section of a student file, in order."""
    headers = list(_HEADER.finditer(text))
    sections = []
    for index, match in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        code = text[match.end():end].strip("\n")
        sections.append((match["gid"], bool(match["cell"]), code))
    return sections


def _fill_placeholder(source: str, code: str) -> str | None:
    match = _PLACEHOLDER.search(source)
    if match is None:
        return None
    indent = match["indent"]
    filled = "\n".join(indent + line if line.strip() else "" for line in code.splitlines())
    return source[: match.start()] + filled + source[match.end():]


def fill_notebook(released: nbformat.NotebookNode, text: str, label: str) -> nbformat.NotebookNode:
    """A copy of the released notebook with the student file's sections filled in."""
    nb = nbformat.from_dict(released)  # deep copy
    cells = {grade_id(c): c for c in nb.cells if metadata(c)}
    for gid, whole, code in parse_sections(text):
        cell = cells.get(gid)
        if cell is None or not is_solution(cell):
            raise SampleClassError(f"{label}: the released notebook has no solution cell {gid!r}")
        if whole:
            cell.source = code
            continue
        filled = _fill_placeholder(cell.source, code)
        if filled is None:
            raise SampleClassError(f"{label}: cell {gid!r} has no placeholder left to fill")
        cell.source = filled
    return nb


def students(class_dir: Path = CLASS_DIR) -> list[str]:
    """The sample students, sorted."""
    return sorted(p.name for p in class_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def place_class(course_dir: Path, class_dir: Path = CLASS_DIR) -> list[tuple[str, str]]:
    """Write ``submitted/<student>/<a>/<a>.ipynb`` from the course's released notebooks.

    Returns the (student, assignment) pairs written. Existing submissions of these students
    are replaced.
    """
    course_dir = Path(course_dir)
    written = []
    for student in students(class_dir):
        for release_dir in sorted((course_dir / "release").iterdir()):
            name = release_dir.name
            released_path = release_dir / f"{name}.ipynb"
            answers = class_dir / student / f"{name}.py"
            untouched = class_dir / student / f"{name}.untouched"
            if not released_path.is_file() or not (answers.is_file() or untouched.is_file()):
                continue
            released = nbformat.read(str(released_path), as_version=4)
            if answers.is_file():
                nb = fill_notebook(released, answers.read_text(encoding="utf-8"), f"{student}/{answers.name}")
            else:
                nb = released
            dest = course_dir / "submitted" / student / name
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            nbformat.write(nb, str(dest / f"{name}.ipynb"))
            written.append((student, name))
    return written

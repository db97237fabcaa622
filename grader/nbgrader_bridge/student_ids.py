"""Which folder names under an nbgrader ``submitted/`` folder can be student ids.

nbgrader takes a student id as a glob pattern and a path component (a folder named ``*`` cost
another student their grade), and writes it into ``grades.csv`` (where ``=2+5`` is a formula).
Such folders are refused with one sentence naming them; every other student is graded. Used by
``grader autograde`` (before nbgrader sees the class), by the nbgrader preprocessors (for runs of
nbgrader itself) and by ``grader grade`` on a ``submitted/`` tree.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

SUBMITTED = "submitted"
GLOB_CHARACTERS = "*?[]"
#: A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = "=+-@"


def student_id_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a student id (a phrase), or ``None`` if nothing is."""
    if not name.strip():
        return "is empty or only white space"
    if name != name.strip():
        return "starts or ends with white space"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "holds a control or invisible formatting character"
    if any(c in GLOB_CHARACTERS for c in name):
        return f"holds a glob character ({' '.join(GLOB_CHARACTERS)}), which nbgrader expands to other students"
    if "/" in name or "\\" in name or ".." in name:
        return "holds a path separator or '..'"
    if name[0] in FORMULA_STARTS:
        return f"starts with {name[0]!r}, which a spreadsheet opening grades.csv takes for a formula"
    return None


def refusal(name: str) -> str | None:
    """The one-sentence message refusing the student folder ``name``, or ``None`` if it is fine."""
    problem = student_id_problem(name)
    if problem is None:
        return None
    return (f"the student folder {SUBMITTED}/{name!r} was not graded: its name {problem}; "
            "rename it to the student's id and run again")


def student_folder(path: Path) -> str | None:
    """The student folder's name when ``path`` lies in an nbgrader tree below ``submitted/<student>/``."""
    parts = Path(path).absolute().parts
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == SUBMITTED:
            return parts[index + 1] if index + 1 < len(parts) - 1 else None
    return None


def refused_path(path: Path) -> str | None:
    """:func:`refusal` of the student folder ``path`` lies in, if it lies in a ``submitted/`` tree."""
    name = student_folder(path)
    return refusal(name) if name is not None else None

"""nbgrader's cell metadata (``cell.metadata["nbgrader"]``), read in one place.

The questions are nbgrader's own, with its answers on every cell nbgrader accepts
(``nbgrader.utils.is_grade``, ``is_solution``, ``is_locked``, ``is_task``;
tests/test_nbgrader_cells.py compares them). They are answered here rather than by calling
nbgrader.utils because importing nbgrader takes about 2 s, more than grading a class, and the
grading path never imports it; and because a submitted notebook is hostile: metadata that is a
list or a string where nbgrader's helpers expect a mapping makes them raise, while here such a
cell is an ordinary cell.
"""

from __future__ import annotations

from typing import Any


def metadata(cell: Any) -> dict[str, Any]:
    """The cell's nbgrader metadata; ``{}`` for an ordinary cell (or metadata that is not a mapping)."""
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    found = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return found if isinstance(found, dict) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's ``grade_id``, or ``None`` (an ordinary cell, or an id that is not a string)."""
    gid = metadata(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def is_grade(cell: Any) -> bool:
    """True for a grade cell (nbgrader.utils.is_grade)."""
    return bool(metadata(cell).get("grade", False))


def is_solution(cell: Any) -> bool:
    """True for a solution cell (nbgrader.utils.is_solution)."""
    return bool(metadata(cell).get("solution", False))


def is_task(cell: Any) -> bool:
    """True for a task cell (nbgrader.utils.is_task)."""
    return bool(metadata(cell).get("task", False))


def is_locked(cell: Any) -> bool:
    """True if nbgrader overwrites the cell's source with the release's (nbgrader.utils.is_locked):
    grade cells that are not solution cells, and cells marked ``locked``."""
    if not metadata(cell) or is_solution(cell):
        return False
    return is_grade(cell) or bool(metadata(cell).get("locked", False))


def is_autograder(cell: Any) -> bool:
    """True for a code cell nbgrader scores automatically: a grade cell that is not a solution cell."""
    return cell.get("cell_type") == "code" and is_grade(cell) and not is_solution(cell)


def points(cell: Any) -> float:
    """The points of a grade or task cell (0 when none are given)."""
    return float(metadata(cell).get("points", 0) or 0)

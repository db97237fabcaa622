"""The built-in unit's source notebooks are generated from its prose (assignments/*/*.md), not
committed: write them once before the tests read ``assignment.notebook``, as every grader
command does through :func:`grader.notebooks.ensure_notebook`."""

from grader.assignments import ASSIGNMENTS
from grader.notebooks import ensure_notebook


def pytest_configure(config) -> None:
    for assignment in ASSIGNMENTS.values():
        ensure_notebook(assignment)

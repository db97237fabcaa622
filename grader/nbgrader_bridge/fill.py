"""Filling a released notebook's solution cells from a module's source (synthetic submissions).

Used to turn the reference, its alternatives and the catalogued mutants into the notebooks a
student would hand in, for the end-to-end tests and the benchmark.
"""

from __future__ import annotations

import ast
import copy

import nbformat

from grader.nbgrader_cells import grade_id, is_solution


def split_functions(source: str, functions: tuple[str, ...]) -> dict[str, str]:
    """The code of each solution cell (named after its function) for a module's ``source``.

    Each cell gets its function's definition; the module's other top-level code (imports,
    helpers, constants; not the docstring) goes first in the first cell, which runs before any
    function is called. Raises ``ValueError`` if a function is missing.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    cells: dict[str, str] = {}
    prelude: list[str] = []
    for node in body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        text = "\n".join(lines[start : node.end_lineno])
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            cells[node.name] = text
        else:
            prelude.append(text)
    missing = [f for f in functions if f not in cells]
    if missing:
        raise ValueError(f"the source defines no {', '.join(missing)}")
    cells[functions[0]] = "\n\n".join(prelude + [cells[functions[0]]])
    return cells


def fill_solutions(released: nbformat.NotebookNode, source: str | None, functions: tuple[str, ...]) -> nbformat.NotebookNode:
    """A copy of ``released`` whose solution cells hold ``source`` split by function.

    ``source=None`` returns the untouched release (a student who did nothing).
    """
    nb = copy.deepcopy(released)
    if source is None:
        return nb
    cells = split_functions(source, functions)
    for cell in nb.cells:
        if is_solution(cell):
            cell.source = cells[grade_id(cell)]
    return nb

"""The source notebooks and the reference modules are one source of truth."""

import ast
import importlib
import inspect

import nbformat
import pytest

from grader.assignments import ASSIGNMENTS
from grader.extract import source_cells
from grader.nbgrader_cells import is_grade, is_solution, metadata

CODE = [a for a in ASSIGNMENTS.values() if a.kind == "code"]


def _cells(assignment):
    return nbformat.read(str(assignment.notebook), as_version=4).cells


@pytest.mark.parametrize("assignment", CODE, ids=lambda a: a.name)
def test_solution_cells_are_the_reference_functions_verbatim(assignment):
    reference = importlib.import_module(assignment.reference_module)
    solution_cells = [c for c in _cells(assignment) if is_solution(c)]
    by_id = {metadata(c)["grade_id"]: c.source.strip() for c in solution_cells}
    assert sorted(by_id) == sorted(assignment.functions)
    for name in assignment.functions:
        assert by_id[name] == inspect.getsource(getattr(reference, name)).strip(), name


@pytest.mark.parametrize("assignment", CODE, ids=lambda a: a.name)
def test_reference_module_has_nothing_the_notebook_lacks(assignment):
    """Every top-level statement of the reference is a graded function or the setup import."""
    reference = importlib.import_module(assignment.reference_module)
    tree = ast.parse(inspect.getsource(reference))
    setup, _ = source_cells(nbformat.read(str(assignment.notebook), as_version=4))
    setup_tree = ast.parse("\n".join(setup))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert node.name in assignment.functions
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            assert ast.dump(node) in {ast.dump(n) for n in setup_tree.body}
        else:
            assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # docstring


@pytest.mark.parametrize("assignment", CODE, ids=lambda a: a.name)
def test_autograder_cells_carry_the_battery_points(assignment):
    cells_points = assignment.battery().cells()
    cells = {
        metadata(c)["grade_id"]: float(metadata(c)["points"])
        for c in _cells(assignment)
        if is_grade(c) and not is_solution(c)
    }
    assert cells == pytest.approx(cells_points)


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS.values()), ids=lambda a: a.name)
def test_grade_ids_are_unique_and_hidden_regions_never_grade_in_the_kernel(assignment):
    cells = _cells(assignment)
    ids = [metadata(c)["grade_id"] for c in cells if metadata(c)]
    assert len(ids) == len(set(ids))
    for cell in cells:
        if is_grade(cell) and not is_solution(cell):
            hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            # stderr output makes stock nbgrader (run without our config) give zero, never full marks
            assert "file=sys.stderr" in hidden


def _graded_by_cell(assignment):
    """grade_id -> names of the checks (or quiz answers) whose points the cell carries."""
    out = {}
    if assignment.kind == "code":
        for c in assignment.battery().checks:
            out.setdefault(c.cell, []).append(c.name)
    else:
        from grader.quiz import quiz_of

        for q in quiz_of(assignment).questions.values():
            out.setdefault(q.cell, []).append(f"{q.name}: {q.title}")
    return out


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS.values()), ids=lambda a: a.name)
def test_autograder_cells_tell_students_what_they_check(assignment):
    """The visible part of each autograder cell lists exactly the checks behind its points."""
    expected = _graded_by_cell(assignment)
    for cell in _cells(assignment):
        if is_grade(cell) and not is_solution(cell):
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            listed = [line[len("# - "):].rsplit(" (", 1)[0] for line in visible.splitlines() if line.startswith("# - ")]
            assert listed == expected.pop(metadata(cell)["grade_id"])
    assert not expected, f"checks without an autograder cell: {expected}"

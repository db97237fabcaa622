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


# The cells of the built-in unit's notebooks as released before they were generated from prose:
# grade id and kind (M markdown, L locked code, S solution, G<points> autograder). Already
# released and submitted notebooks are graded against these ids, flags and points.
RELEASED = {
    "dropout": "intro:M setup:L forward_md:M dropout_forward:S backward_md:M dropout_backward:S autograder_md:M "
               "test_forward_shape:G1.5 test_train_mode:G3.5 test_test_mode:G1 test_seed:G1.5 test_backward:G2.5",
    "conv": "intro:M setup:L forward_md:M conv_forward_naive:S backward_md:M conv_backward_naive:S autograder_md:M "
            "test_forward_shape:G2 test_forward_values:G3 test_backward_shapes:G1 test_backward_values:G4",
    "quiz": "intro:M setup:L q_dropout:M answers_dropout:S q_inverted:M answers_dropout_inverted:S q_conv:M "
            "answers_conv_outputs:S q_size:M answers_output_size:S q_moments:M answers_moments:S preview_md:M "
            "preview:L autograder_md:M test_dropout_vanilla:G2 test_dropout_inverted:G2 test_conv_outputs:G4 "
            "test_output_size:G2 test_moments:G2",
}


def _kind(cell) -> str:
    meta = metadata(cell)
    if meta["solution"]:
        return "S" if cell.cell_type == "code" and not meta["locked"] else f"bad solution cell {meta}"
    if not meta["locked"]:
        return f"unlocked {meta}"
    if meta["grade"]:
        return f"G{meta['points']:g}" if cell.cell_type == "code" else f"graded markdown {meta}"
    return "M" if cell.cell_type == "markdown" else "L"


@pytest.mark.parametrize("name", sorted(RELEASED))
def test_generated_notebooks_keep_the_released_cells(name):
    """Generated from prose, the notebook has the released cells: order, ids, flags, points."""
    assert ASSIGNMENTS[name].notebook_prose is not None  # generated, not a committed file
    from grader.notebooks import build_notebook

    cells = build_notebook(ASSIGNMENTS[name]).cells
    assert " ".join(f"{metadata(c)['grade_id']}:{_kind(c)}" for c in cells) == RELEASED[name]


def _with_prose(tmp_path, name: str, prose: str):
    import dataclasses

    path = tmp_path / f"{name}.md"
    path.write_text(prose, encoding="utf-8")
    return dataclasses.replace(ASSIGNMENTS[name], notebook_prose=path)


def test_prose_blocks_become_public_checks_answer_lines_or_listings(tmp_path):
    from grader.notebooks import build_notebook

    nb = build_notebook(_with_prose(tmp_path, "dropout", (
        "<!-- markdown: intro -->\nText\n<!-- listing -->\n```python\nshown = 1\n```\n"
        "<!-- autograder: test_seed -->\n\n```python\nassert 1 + 1 == 2\n```\n")))
    cells = {metadata(c)["grade_id"]: c for c in nb.cells}
    assert cells["intro"].source == "Text\n```python\nshown = 1\n```"
    seed = cells["test_seed"].source.split("### BEGIN HIDDEN TESTS")[0]
    assert seed.startswith("# Autograder cell (1.5 points)") and seed.endswith("\nassert 1 + 1 == 2\n")
    assert "assert 1 + 1" not in cells["test_backward"].source  # placed by the default marker, no body
    quiz = build_notebook(_with_prose(tmp_path, "quiz", "<!-- answer both: O11, O12 -->\n```python\n# two\n```\n"))
    both = next(c for c in quiz.cells if metadata(c)["grade_id"] == "both")
    assert both.source == ('# two\n### BEGIN SOLUTION\nO11 = "X11*W11 + X12*W12 + X21*W21 + X22*W22"\n'
                           'O12 = "X12*W11 + X13*W12 + X22*W21 + X23*W22"\n### END SOLUTION\n')
    from grader.quiz import quiz_of

    others = [n for n in quiz_of(ASSIGNMENTS["quiz"]).names if n not in ("O11", "O12")]
    answers = [metadata(c)["grade_id"] for c in quiz.cells if is_solution(c)]
    assert answers == ["both"] + [f"answer_{n}" for n in others]  # answers the prose leaves out get a cell each


@pytest.mark.parametrize("marker", ["<!-- solution: dropout_forward -->\n<!-- solution: dropout_forward -->",
                                    "<!-- setup -->\n<!-- setup -->", "<!-- autograder -->\n<!-- autograder -->"])
def test_a_marker_placing_a_cell_a_second_time_is_an_error(tmp_path, marker):
    from grader.definition import DefinitionError
    from grader.notebooks import build_notebook

    with pytest.raises(DefinitionError, match=f"line 2: {marker.splitlines()[-1]} places .* a second time"):
        build_notebook(_with_prose(tmp_path, "dropout", marker + "\n"))
    with pytest.raises(DefinitionError, match="line 2: <!-- answer: O12, O11 --> places O11 a second time"):
        build_notebook(_with_prose(tmp_path, "quiz", "<!-- answer: O11 -->\n<!-- answer: O12, O11 -->\n"))


@pytest.mark.parametrize("marker", ["<!-- autograder: test_nothing -->", "<!-- solution: dropout_backwards -->",
                                    "<!-- autograder: test_seed -->\n<!-- autograder: test_seed -->"])
def test_a_marker_naming_what_the_definition_lacks_is_an_error_naming_it(tmp_path, marker):
    from grader.definition import DefinitionError
    from grader.notebooks import build_notebook

    with pytest.raises(DefinitionError, match=marker.splitlines()[-1].split(": ")[1].rstrip(" ->")):
        build_notebook(_with_prose(tmp_path, "dropout", marker + "\n"))

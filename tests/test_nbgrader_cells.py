"""grader.nbgrader_cells answers nbgrader's own questions about a cell as nbgrader.utils does,
and takes hostile metadata (where nbgrader's helpers raise) as an ordinary cell."""

import itertools

import nbformat
import pytest
from nbgrader import utils

from grader import nbgrader_cells
from grader.paths import REPO_ROOT

QUESTIONS = ("is_grade", "is_solution", "is_locked", "is_task")
NOTEBOOKS = sorted(p for p in REPO_ROOT.glob("*/**/*.ipynb") if ".venv" not in p.parts)


def _crafted():
    """Every combination of the flags (absent, false, true), on code and markdown cells."""
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {}})]
    for values in itertools.product((None, False, True), repeat=4):
        meta = {k: v for k, v in zip(("grade", "solution", "locked", "task"), values) if v is not None}
        meta.update(grade_id="c", points=2)
        cells += [nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": dict(meta)}),
                  nbformat.v4.new_markdown_cell("x", metadata={"nbgrader": dict(meta)})]
    return cells


def test_the_shipped_notebooks_have_nbgrader_cells():
    assert len(NOTEBOOKS) >= 3
    assert all(any(nbgrader_cells.metadata(c) for c in nbformat.read(str(p), as_version=4).cells) for p in NOTEBOOKS)


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_agree_with_nbgrader_on_every_shipped_and_crafted_cell(question):
    cells = _crafted() + [c for p in NOTEBOOKS for c in nbformat.read(str(p), as_version=4).cells]
    ours = [getattr(nbgrader_cells, question)(c) for c in cells]
    theirs = [bool(getattr(utils, question)(c)) for c in cells]
    assert ours == theirs
    assert True in ours and False in ours  # both answers occur: the comparison can fail


@pytest.mark.parametrize("hostile", [[1, 2], "grade", 3, None])
def test_metadata_that_is_not_a_mapping_is_an_ordinary_cell(hostile):
    cell = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": hostile})
    if hostile:  # positive control: nbgrader's own helper raises on it
        with pytest.raises((AttributeError, TypeError)):
            utils.is_grade(cell)
    assert [getattr(nbgrader_cells, q)(cell) for q in QUESTIONS] == [False] * 4
    assert (nbgrader_cells.metadata(cell), nbgrader_cells.grade_id(cell), nbgrader_cells.points(cell)) == ({}, None, 0.0)


def test_grade_id_autograder_and_points():
    test = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t", "points": 2}})
    answer = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade": True, "solution": True, "grade_id": "s", "points": 1}})
    prose = nbformat.v4.new_markdown_cell("", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "m"}})
    assert [nbgrader_cells.is_autograder(c) for c in (test, answer, prose)] == [True, False, False]
    assert [nbgrader_cells.grade_id(c) for c in (test, answer, prose)] == ["t", "s", "m"]
    assert [nbgrader_cells.points(c) for c in (test, answer, prose)] == [2.0, 1.0, 0.0]
    answer.metadata.nbgrader["grade_id"] = 7
    assert nbgrader_cells.grade_id(answer) is None

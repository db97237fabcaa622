"""Extracting student code and quiz answers from submissions, without running them."""

import json

import nbformat
import pytest

from grader.assignments import ASSIGNMENTS
from grader.extract import ExtractionError, extract_answers, extract_code, string_assignments
from grader.nbgrader_cells import grade_id

DROPOUT = ASSIGNMENTS["dropout"]


def _submission(tmp_path, edit=None, name="sub.ipynb"):
    nb = nbformat.read(str(DROPOUT.notebook), as_version=4)
    if edit:
        edit(nb)
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def test_notebook_code_is_setup_plus_solution_cells(tmp_path):
    extracted = extract_code(_submission(tmp_path), DROPOUT.notebook)
    labels = [label for label, _ in extracted.blocks]
    assert labels == ["setup cell 1", "cell 'dropout_forward'", "cell 'dropout_backward'"]
    assert "import numpy as np" in extracted.blocks[0][1]
    assert extracted.notes == []


def test_edited_setup_cell_is_replaced_by_the_trusted_one(tmp_path):
    def edit(nb):
        nb.cells[1].source = "import numpy as np\nabs = lambda v: 0"

    extracted = extract_code(_submission(tmp_path, edit), DROPOUT.notebook)
    assert all("abs = lambda" not in code for _, code in extracted.blocks)


def test_the_trusted_setup_is_read_again_when_the_source_notebook_changes(tmp_path):
    source = tmp_path / "source" / "dropout.ipynb"
    source.parent.mkdir()
    source.write_text(DROPOUT.notebook.read_text(encoding="utf-8"), encoding="utf-8")
    submission = _submission(tmp_path)
    assert "import numpy as np" in extract_code(submission, source).blocks[0][1]
    nb = nbformat.read(str(source), as_version=4)
    nb.cells[1].source = "import numpy as np  # edited by the instructor"
    nbformat.write(nb, str(source))
    assert extract_code(submission, source).blocks[0][1].endswith("# edited by the instructor")


def test_added_cells_are_reported_not_graded(tmp_path):
    def edit(nb):
        nb.cells.insert(3, nbformat.v4.new_code_cell("def helper():\n    return 1"))

    extracted = extract_code(_submission(tmp_path, edit), DROPOUT.notebook)
    assert any("was added" in n for n in extracted.notes)
    assert all("def helper" not in code for _, code in extracted.blocks)


def test_deleted_and_duplicated_solution_cells_are_reported(tmp_path):
    def edit(nb):
        forward = [c for c in nb.cells if grade_id(c) == "dropout_forward"][0]
        nb.cells = [c for c in nb.cells if grade_id(c) != "dropout_backward"]
        nb.cells.append(forward)

    notes = extract_code(_submission(tmp_path, edit), DROPOUT.notebook).notes
    assert any("'dropout_backward' is missing" in n for n in notes)
    assert any("'dropout_forward' appears more than once" in n for n in notes)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not valid UTF-8"),
        (json.dumps({"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(), "not a valid notebook"),
    ],
)
def test_unreadable_notebooks_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=message):
        extract_code(path, DROPOUT.notebook)


def test_notebook_without_solution_cells_is_an_error(tmp_path):
    def edit(nb):
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)

    with pytest.raises(ExtractionError, match="no solution cells"):
        extract_code(_submission(tmp_path, edit), DROPOUT.notebook)


def test_py_module_is_one_block(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("x = 1\n")
    assert extract_code(path, DROPOUT.notebook).blocks == [("sub.py", "x = 1\n")]


def test_quiz_answers_are_read_as_literals_without_running_anything(tmp_path):
    code = 'import os\nforward = r"H = D*Y"\nbackward = "a" "b"\nO11 = os.system("echo hi")\nO12 = f"{forward}"\n'
    answers, notes = string_assignments(code, ("forward", "backward", "O11", "O12"))
    assert answers == {"forward": "H = D*Y", "backward": "ab"}
    assert len(notes) == 2 and all("plain string" in n for n in notes)


def test_quiz_syntax_error_is_a_note(tmp_path):
    path = tmp_path / "answers.py"
    path.write_text('forward = "H = D*Y"\nbackward = (\n')
    extracted = extract_answers(path, ("forward", "backward"))
    assert extracted.answers == {}
    assert any("syntax error" in n for n in extracted.notes)


QUIZ_NAMES = ("forward", "backward", "forward_inverted", "O11")


def test_annotated_and_tuple_assignments_are_read_with_a_note():
    code = 'forward: str = r"H = D*Y"\nbackward, O11 = "dLdH*D", "X11*W11"\n'
    answers, notes = string_assignments(code, QUIZ_NAMES)
    assert answers == {"forward": "H = D*Y", "backward": "dLdH*D", "O11": "X11*W11"}
    assert notes == ['forward was read from the annotated assignment forward: ... = "..."']


@pytest.mark.parametrize("code,note", [
    ('Forward = "D*Y"', "Forward is not an answer name (did you mean forward?)"),
    ('forward_Inverted = "D*Y/p"', "did you mean forward_inverted?"),
    ('answer1 = "D*Y"', "answer1 is not one of the answer names; the string assigned to it was not graded"),
    ('"H = D*Y"', "a string on its own was not graded"),
    ("forward: str", "forward is declared without a value"),
    ('forward = ""\nforward += "D*Y"', "forward is changed with Add-assignment"),
    ("forward: str = 3", "forward must be a plain string"),
    ("forward, backward = make()", "forward must be a plain string"),
])
def test_every_attempt_at_an_answer_gets_a_note(code, note):
    _, notes = string_assignments(code, QUIZ_NAMES)
    assert any(note in n for n in notes), notes


def test_helper_variables_get_no_note():
    assert string_assignments("x = 1\nscale = 2 * x\n", QUIZ_NAMES) == ({}, [])


def test_the_last_assignment_wins_in_source_order():
    code = 'forward = "D"\nif True:\n    forward = "D*Y"\nforward: str = "Y*D"\n'
    assert string_assignments(code, QUIZ_NAMES)[0] == {"forward": "Y*D"}


def test_an_annotated_answer_in_a_notebook_is_graded(tmp_path):
    from grader.assignments import builtin
    from grader.quiz import quiz_of
    from grader.quiz.grade import grade_answers

    QUIZ = quiz_of(builtin().assignments["quiz"])
    path = tmp_path / "answers.py"
    path.write_text('forward_inverted: str = r"H = \\frac{D \\odot Y}{p}"\n', encoding="utf-8")
    extracted = extract_answers(path, QUIZ_NAMES)
    result = next(r for r in grade_answers(QUIZ, extracted.answers) if r.name.startswith("forward_inverted:"))
    assert (result.status, result.score) == ("passed", 1.0)

"""The source notebooks (reference solutions filled in) run in a real Jupyter kernel."""

import nbformat
import pytest
from nbclient import NotebookClient

from grader import assignments
from grader.nbgrader_cells import grade_id, is_grade, is_solution

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_source_notebook_runs_and_its_public_checks_pass(name, tmp_path):
    nb = nbformat.read(str(assignments.get(name).notebook), as_version=4)
    # raises CellExecutionError if any cell (a failing public check) raises
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    autograder = [
        c for c in nb.cells
        if c.cell_type == "code" and is_grade(c) and not is_solution(c)
    ]
    assert autograder
    for cell in autograder:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        # every autograder cell of a code assignment runs public checks; the quiz's have none
        assert ("public checks passed" in text) == (assignments.get(name).kind == "code"), grade_id(cell)

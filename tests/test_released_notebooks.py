"""The notebooks students get, released by the real nbgrader and run in a real kernel: the quiz
runs to its preview without the grader, and nbgrader's Validate fails on stubs and gross bugs."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from grader import assignments
from grader.nbgrader_bridge.course import release
from grader.nbgrader_bridge.fill import fill_solutions
from grader.nbgrader_cells import grade_id, is_grade, is_solution
from grader.quiz import quiz_of

#: The answer names, in grading order (contract: docs/architecture.md, "Quiz answer names").
ANSWER_NAMES = ("forward", "backward", "forward_inverted", "backward_inverted", "O11", "O12", "O21", "O22",
                "Hout", "Wout", "expectation", "variance")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    return {path.parent.name: path for path in release(course)}


# --- the quiz: Run All reaches the preview, which needs neither the grader nor any key ---------

BLOCK_GRADER = "import sys\nsys.modules['grader'] = None\nsys.modules['solutions'] = None  # imports now fail"


def _run(nb, tmp_path):
    """Run All up to and including the preview cell. The public checks after it fail while
    answers are missing, as they should (Validate then says so), but Run All reaches the preview first."""
    nb = nbformat.from_dict(nb)
    ids = [grade_id(c) for c in nb.cells]
    first_check = min(i for i, c in enumerate(nb.cells) if is_grade(c))
    assert ids.index("preview") < first_check  # the preview comes before every public check
    nb.cells = [nbformat.v4.new_code_cell(BLOCK_GRADER)] + nb.cells[: ids.index("preview") + 1]
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb  # raises CellExecutionError if a cell raises: Run All would stop there


def _preview_outputs(nb):
    cell = next(c for c in nb.cells if grade_id(c) == "preview")
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    latex = [o["data"]["text/latex"] for o in cell.outputs if o.output_type == "display_data"]
    return text, latex


def test_nbgrader_release_uses_the_answer_stubs_and_the_preview_cell(released):
    from grader.quiz.student_cell import cell_source

    nb = nbformat.read(str(released["quiz"]), as_version=4)
    sources = {grade_id(c): c.source for c in nb.cells}
    assert sources["setup"] == cell_source(quiz_of(assignments.get("quiz")))
    text = "\n".join(c.source for c in nb.cells)
    assert re.findall(r'^(\w+) = r""$', text, re.MULTILINE) == list(ANSWER_NAMES)
    assert "NotImplementedError" not in text and "BEGIN SOLUTION" not in text


def test_untouched_quiz_runs_all_to_the_preview(released, tmp_path):
    nb = _run(nbformat.read(str(released["quiz"]), as_version=4), tmp_path)
    text, latex = _preview_outputs(nb)
    assert [line.split(":")[0] for line in text.splitlines()] == list(ANSWER_NAMES)
    assert all(line.endswith("no answer yet") for line in text.splitlines()) and not latex


ANSWERS = {
    "forward": "H = D ⊙ Y.",
    "forward_inverted": r"H = \frac{D \odot Y}{p}",
    "backward_inverted": r"\frac{\partial L}{\partial H} \odot \frac{D}{p}",
    "Hout": "1 + (H + 2 pad - HH) // stride",
}


def test_answered_quiz_previews_every_answer_as_valid_latex(released, tmp_path):
    nb = nbformat.read(str(released["quiz"]), as_version=4)
    for cell in nb.cells:
        for name, answer in ANSWERS.items():
            cell.source = cell.source.replace(f'{name} = r""', f"{name} = {answer!r}")
    text, latex = _preview_outputs(_run(nb, tmp_path))
    assert len(latex) == len(ANSWERS)
    labels = [re.search(r"\\mathtt\{(.*?)\}:", item).group(1) for item in latex]
    assert labels == [n.replace("_", r"\_") for n in ANSWER_NAMES if n in ANSWERS]
    # MathJax rejects a bare "_" in a name and \texttt in math mode: neither is left
    assert not any(re.search(r"(?<!\\)_", label) for label in labels) and not any(r"\texttt" in item for item in latex)
    assert "note: the punctuation at the end was ignored" in text
    assert text.count("no answer yet") == len(ANSWER_NAMES) - len(ANSWERS)


# --- nbgrader Validate on the code assignments ----------------------------------------------------


def _validate(released_path, tmp_path, source):
    """nbgrader's Validator (what the Validate button runs) on the released notebook, its solution
    cells filled from ``source`` (None: untouched). Returns the grade_ids of the failed cells."""
    from nbgrader.validator import Validator

    name = released_path.parent.name
    nb = fill_solutions(nbformat.read(str(released_path), as_version=4), source, assignments.get(name).functions)
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    results = Validator().validate(str(path))
    assert "changed" not in results and "type_changed" not in results
    ids = {c.source.strip(): grade_id(c) for c in nb.cells if is_grade(c)}
    return {ids[failed["source"]] for failed in results.get("failed", [])}


def _mutant(name, mutant):
    a = assignments.get(name)
    return next(m for m in a.mutants().MUTANTS + a.mutants().ALTERNATIVES if m.name == mutant).source(a.reference())


def _reference(name):
    import inspect

    return inspect.getsource(assignments.get(name).reference())


@pytest.mark.parametrize("name", ["dropout", "conv"])
def test_validate_fails_every_cell_of_an_untouched_notebook_and_passes_the_reference(released, tmp_path, name):
    graded = {grade_id(c) for c in nbformat.read(str(released[name]), as_version=4).cells
              if is_grade(c)}
    assert _validate(released[name], tmp_path, None) == graded
    assert _validate(released[name], tmp_path, _reference(name)) == set()


# (assignment, catalogued implementation, the autograder cells whose public checks must fail)
GROSS_BUGS = [
    ("dropout", "no_rescale", {"test_train_mode"}),
    ("dropout", "drop_probability", {"test_train_mode"}),
    ("dropout", "dropout_in_test_mode", {"test_test_mode"}),
    ("dropout", "backward_forgets_scale", {"test_backward"}),
    ("dropout", "ignored_seed", {"test_seed"}),
    ("conv", "flipped_kernel", {"test_forward_values"}),
    ("conv", "missing_bias", {"test_forward_values"}),
    ("conv", "stride_ignored_forward", {"test_forward_values"}),
    ("conv", "dx_assigned_not_accumulated", {"test_backward_values"}),
]


@pytest.mark.parametrize("name,mutant,cells", GROSS_BUGS, ids=[f"{n}-{m}" for n, m, _ in GROSS_BUGS])
def test_validate_fails_on_gross_bugs(released, tmp_path, name, mutant, cells):
    assert cells <= _validate(released[name], tmp_path, _mutant(name, mutant))


@pytest.mark.parametrize("name,alternative", [("dropout", "binomial"), ("conv", "im2col")])
def test_validate_passes_correct_alternatives(released, tmp_path, name, alternative):
    assert _validate(released[name], tmp_path, _mutant(name, alternative)) == set()


def test_nbgrader_validate_command_says_so(released, tmp_path):
    path = tmp_path / "dropout.ipynb"
    path.write_bytes(released["dropout"].read_bytes())
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert "VALIDATION FAILED" in proc.stdout and "NotImplementedError" in proc.stdout
    assert "Success!" not in proc.stdout


def _quiz_validate(released, tmp_path, answers: dict[str, str]) -> set[str]:
    """nbgrader's Validator on the released quiz with ``answers`` typed into its answer cells."""
    from nbgrader.validator import Validator

    nb = nbformat.read(str(released["quiz"]), as_version=4)
    for cell in nb.cells:
        if is_solution(cell):
            names = [n for n in ANSWER_NAMES if re.search(rf"^{n} = ", cell.source, re.M)]
            cell.source = "\n".join(f"{n} = {answers[n]!r}" for n in names if n in answers) or cell.source
    path = tmp_path / "quiz.ipynb"
    nbformat.write(nb, str(path))
    results = Validator().validate(str(path))
    ids = {c.source.strip(): grade_id(c) for c in nb.cells if is_grade(c)}
    return {ids[failed["source"]] for failed in results.get("failed", [])}


def test_validate_fails_an_untouched_quiz_and_unreadable_answers_and_passes_answers_it_can_read(released, tmp_path):
    """The quiz's public check says only "given and readable", never "right": an untouched quiz
    fails every cell, an answer the grader cannot read fails its cell, a wrong but readable
    answer passes (the hidden grading judges it)."""
    import runpy

    reference = {n: v for n, v in runpy.run_path(str(assignments.get("quiz").reference_path)).items() if n in ANSWER_NAMES}
    graded = {grade_id(c) for c in nbformat.read(str(released["quiz"]), as_version=4).cells
              if is_grade(c)}
    assert _quiz_validate(released, tmp_path, {}) == graded
    assert _quiz_validate(released, tmp_path, reference) == set()
    assert _quiz_validate(released, tmp_path, {**reference, "Hout": "1 + (H + 2*pad - HH) @ stride"}) == {"test_output_size"}
    assert _quiz_validate(released, tmp_path, {**reference, "forward": "D * Y * Y"}) == set()  # wrong, but readable

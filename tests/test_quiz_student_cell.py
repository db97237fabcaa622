"""The released quiz notebook previews answers with only SymPy and carries no answer key."""

from __future__ import annotations

import ast
import re
import sys

import nbformat
import pytest
import sympy

from grader.assignments import ASSIGNMENTS
from grader.nbgrader_bridge.answer_stubs import ClearSolutionsKeepAnswerNames, answer_names
from grader.quiz import quiz_of
from grader.quiz.student_cell import SETUP_ID, cell_source, preview_source

QUIZ = ASSIGNMENTS["quiz"].notebook
DEFINITION = quiz_of(ASSIGNMENTS["quiz"])
MIN_NEEDLE = 6  # shorter forms ("Y", "p", "D*Y") occur in any text; longer ones must not


def _released() -> nbformat.NotebookNode:
    """The quiz as students get it, through the same preprocessors as `grader release`."""
    from nbgrader.preprocessors import ClearHiddenTests

    nb = nbformat.read(str(QUIZ), as_version=4)
    for preprocessor in (ClearSolutionsKeepAnswerNames(), ClearHiddenTests()):
        nb, _ = preprocessor.preprocess(nb, {})
    return nb


def test_setup_cell_is_the_generated_preview_code():
    """The quiz notebook is generated from assignments/quiz/quiz.md, with this setup cell."""
    nb = nbformat.read(str(QUIZ), as_version=4)
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == SETUP_ID)
    assert setup.source == cell_source(DEFINITION)


def test_preview_code_imports_only_the_standard_library_sympy_and_ipython():
    allowed = {"__future__", "ast", "contextvars", "re", "unicodedata", "dataclasses", "functools", "signal", "threading",
               "time", "contextlib", "typing", "sympy", "IPython", "IPython.display"}
    imported = set()
    for node in ast.walk(ast.parse(preview_source(DEFINITION))):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= allowed, imported - allowed


def test_preview_cell_runs_without_the_grader(monkeypatch, capsys):
    for name in ("grader", "solutions"):  # importing either now fails
        monkeypatch.setitem(sys.modules, name, None)
    namespace: dict = {}
    exec(cell_source(DEFINITION), namespace)
    namespace["preview"]("H = D ⊙ Y.", "forward")
    out = capsys.readouterr().out
    assert "understood as D*Y" in out and "punctuation at the end was ignored" in out


def _needles() -> set[str]:
    """Every typed key, and each key and misconception that is more than one symbol, as SymPy
    writes it (text and LaTeX)."""
    import solutions.quiz
    keys = DEFINITION.keys
    exprs = list(keys.values.values())
    exprs += [e for name in DEFINITION.names for _, group in keys.candidates[name] for e in group]
    LATEX_NAMES = DEFINITION.notation.latex_names
    forms = {v for k, v in vars(solutions.quiz).items() if not k.startswith("_") and isinstance(v, str)}
    for expr in exprs:
        if expr.is_Atom:  # a lone symbol (dL/dH, Y) is named by the questions themselves
            continue
        forms |= {sympy.sstr(expr), str(expr), sympy.latex(expr), sympy.latex(expr, symbol_names=LATEX_NAMES)}
    squashed = {re.sub(r"\s+", "", f) for f in forms}
    return {f for f in squashed if len(f) >= MIN_NEEDLE}


def test_released_quiz_holds_no_key_and_no_misconception():
    nb = _released()
    haystack = re.sub(r"\s+", "", "\n".join(c.source for c in nb.cells))
    needles = _needles()
    assert len(needles) > 40  # the search is not vacuous
    found = sorted(n for n in needles if n in haystack)
    assert not found, found
    # the solution regions are gone, every answer is an empty string
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assigned = [name for s in stubs for name in re.findall(r'^(\w+) = r""$', s, re.MULTILINE)]
    assert assigned == list(DEFINITION.names) and len(assigned) == 12


def test_the_search_finds_a_key_when_one_is_there():
    nb = _released()
    nb.cells[3].source += '\nforward_inverted = r"H = \\frac{D \\odot Y}{p}"'
    haystack = re.sub(r"\s+", "", "\n".join(c.source for c in nb.cells))
    assert any(n in haystack for n in _needles())


@pytest.mark.parametrize("code,names", [
    ('a = "x"\nb: str = r"y"', ["a", "b"]),
    ('a = "x"\na = "z"', ["a"]),
    ("a = 1", None),
    ('a = "x"\nprint(a)', None),
    ("def f():\n    return 1", None),
    ("", None),
])
def test_only_regions_of_string_answers_get_answer_stubs(code, names):
    assert answer_names(code) == names


@pytest.mark.parametrize("name", ["dropout", "conv"])
def test_code_regions_keep_nbgraders_stub(name):
    from nbgrader.preprocessors import ClearSolutions

    ours, stock = (nbformat.read(str(ASSIGNMENTS[name].notebook), as_version=4) for _ in range(2))
    ours, _ = ClearSolutionsKeepAnswerNames().preprocess(ours, {})
    stock, _ = ClearSolutions().preprocess(stock, {})
    assert [c.source for c in ours.cells] == [c.source for c in stock.cells]
    assert "raise NotImplementedError()" in "\n".join(c.source for c in ours.cells)


def test_the_setup_cell_of_a_hand_written_quiz_notebook_of_any_definition_is_rewritten(tmp_path):
    import subprocess

    from grader.definition import load

    (tmp_path / "questions.toml").write_text('[[question]]\nname = "a"\nsymbols = ["x"]\nkey = "2*x"\n')
    (tmp_path / "course.toml").write_text('[[assignment]]\nname = "q"\nkind = "quiz"\nquestions = "questions.toml"\n'
                                          'notebook = "q.ipynb"\n')
    setup = nbformat.v4.new_code_cell("# stale", metadata={"nbgrader": {"grade_id": SETUP_ID, "locked": True}})
    nbformat.write(nbformat.v4.new_notebook(cells=[setup]), str(tmp_path / "q.ipynb"))
    command = [sys.executable, "-m", "grader.quiz.student_cell"]
    ran = subprocess.run(command + ["q"], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1 and ran.stderr == "grader.quiz.student_cell: unknown assignment 'q'; choose one of: dropout, conv, quiz\n"
    ran = subprocess.run(command + ["--definition", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    cell = nbformat.read(str(tmp_path / "q.ipynb"), as_version=4).cells[0]
    assert cell.source == cell_source(quiz_of(load(tmp_path).assignments["q"]))

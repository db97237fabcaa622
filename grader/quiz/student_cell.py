"""The quiz notebook's preview code: the answer reader as one cell that needs only SymPy.

Students preview their answers on their own machines, where the grader (whose package ships the
reference solutions and so the answer keys) must not be. The released quiz notebook therefore
carries the reader itself: :mod:`grader.quiz.guard`, :mod:`grader.quiz.parse` and
:mod:`grader.quiz.preview`, without docstrings, plus the quiz's notation and each question's
symbols, taken from its definition. Nothing here imports the keys, the misconceptions or the
references; a test searches the released notebook for every key and misconception.

A quiz notebook generated from prose (:mod:`grader.notebooks`) gets this cell by construction.
For a hand-written one, ``python -m grader.quiz.student_cell [ASSIGNMENT] [--definition DIR]``
rewrites its setup cell (default: the only quiz assignment of the definition) after a change to
those modules or to the quiz's symbols.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

#: The modules embedded, in dependency order.
MODULES = ("grader.quiz.guard", "grader.quiz.parse", "grader.quiz.preview")
SETUP_ID = "setup"

HEADER = '''\
# Quiz preview: preview(answer, name) shows how an answer is read, not whether it is right.
# Generated from the course grader's answer reader (grader/quiz/guard.py, parse.py, preview.py);
# it needs only SymPy and holds no answers. Run this cell; you do not need to read it.
'''

LOADER = '''
def _load_preview():
    import types
    from sys import modules
    module = types.ModuleType("quiz_preview")
    modules["quiz_preview"] = module  # dataclasses look their module up there
    exec(compile(_PREVIEW_SOURCE, "quiz_preview", "exec"), module.__dict__)
    return module.preview, module.understood


try:
    preview, _understood = _load_preview()
except ImportError as _missing:  # SymPy is not installed in this environment
    _understood = None

    def preview(answer, name=None, _why=str(_missing)):
        print(f"{name}: {answer!r} (cannot preview: {_why}; install SymPy with: pip install sympy)")


def check_answered(*names):
    """The quiz's public check (nbgrader's Validate runs it): each answer is given and, with
    SymPy, can be read. It says nothing about whether an answer is right."""
    for name in names:
        answer = globals().get(name)
        assert isinstance(answer, str) and answer.strip(), f"{name}: no answer yet"
        if _understood is not None:
            said = _understood(answer, name)
            assert not said.splitlines()[0].startswith(f"{name}: not understood"), said
'''


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _module_code(module_name: str) -> str:
    import importlib

    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    tree.body = [
        node for node in tree.body
        if not (isinstance(node, ast.ImportFrom) and (node.module == "__future__" or (node.module or "").startswith("grader")))
    ]
    return ast.unparse(_without_docstrings(tree))


def preview_source(quiz) -> str:
    """The preview code of ``quiz`` (a :class:`~grader.quiz.questions.Quiz`) as one module's text
    (what the cell executes)."""
    symbols_of = {q.name: q.symbols for q in quiz.questions.values()}
    parts = ["from __future__ import annotations"]
    parts += [_module_code(name) for name in MODULES]
    parts += [f"_PREVIEWER = Previewer(Notation(**{quiz.notation.as_dict()!r}), {symbols_of!r})",
              "preview, understood = _PREVIEWER.preview, _PREVIEWER.understood"]
    return "\n".join(parts) + "\n"


def cell_source(quiz) -> str:
    """The source of the setup cell of ``quiz``'s notebook."""
    source = preview_source(quiz)
    if "'''" in source:  # the cell quotes the code with '''
        raise ValueError("the preview code contains ''' and cannot be embedded as it is")
    return HEADER + "_PREVIEW_SOURCE = r'''\n" + source + "'''\n" + LOADER


def write_notebook(path: Path, quiz) -> None:
    """Replace the setup cell of the quiz notebook at ``path`` with :func:`cell_source`."""
    import nbformat

    from grader.nbgrader_cells import grade_id

    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if grade_id(c) == SETUP_ID)
    cell.source = cell_source(quiz)
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True  # collapsed in JupyterLab
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    import argparse
    import contextlib
    import sys

    from grader import assignments
    from grader.definition import DefinitionError
    from grader.quiz import quiz_of

    parser = argparse.ArgumentParser(prog="python -m grader.quiz.student_cell",
                                     description="Rewrite the setup cell of a hand-written quiz notebook.")
    parser.add_argument("assignment", nargs="?", help="the quiz assignment (default: the only one)")
    parser.add_argument("--definition", metavar="DIR", help="course definition folder (default: the built-in unit)")
    args = parser.parse_args()
    try:
        with assignments.use(args.definition) if args.definition else contextlib.nullcontext():
            quizzes = [name for name, a in assignments.ASSIGNMENTS.items() if a.kind == "quiz"]
            if args.assignment is None and len(quizzes) != 1:
                sys.exit(f"name the quiz assignment: one of {', '.join(quizzes) or '(none)'}")
            assignment = assignments.get(args.assignment or quizzes[0])
            if assignment.notebook_prose is not None:  # generated: the setup cell is always current
                from grader.notebooks import ensure_notebook

                print(f"{ensure_notebook(assignment)} is generated from {assignment.notebook_prose.name}; it is up to date")
            else:
                write_notebook(assignment.notebook, quiz_of(assignment))
                print(f"wrote the preview cell of {assignment.notebook}")
    except (DefinitionError, assignments.UnknownAssignment) as exc:
        sys.exit(f"grader.quiz.student_cell: {exc}")

"""``grader check-solutions`` for a quiz: its definition reads, every question has a key, no
misconception is its key, and the typed reference answers (the reference solution, and the
notebook's solution cells when the notebook is written by hand) agree with the keys and score
full marks. Every problem is one line starting ``SURPRISE`` that names the question and what to
update; the run goes on.
"""

from __future__ import annotations

from typing import Callable

import sympy

from grader.definition import Assignment, DefinitionError
from grader.extract import answers_from_notebook, extract_answers, read_notebook
from grader.quiz.grade import grade_answers
from grader.quiz.keys import check_typed_keys
from grader.quiz.questions import Quiz, quiz_of


def _same(a: sympy.Expr, b: sympy.Expr) -> bool:
    try:
        return sympy.simplify(a - b) == 0
    except Exception:  # SymPy failing proves nothing
        return False


def _definition_surprises(assignment: Assignment, quiz: Quiz, say: Callable[[str], None]) -> int:
    keys, surprises = quiz.keys, 0
    for name, problem in keys.problems:
        surprises += 1
        say(f"SURPRISE {assignment.name} question {name}: {problem}" if name else f"SURPRISE {assignment.name}: {problem}")
    for name, found in keys.candidates.items():
        for misconception, exprs in found:
            if any(_same(expr, keys.values[name]) for expr in exprs):
                surprises += 1
                say(f"SURPRISE {assignment.name} question {name}: the misconception {misconception.slug} is equivalent "
                    f"to the key; fix one of them in {quiz.path.name}")
    return surprises


def _typed_sources(assignment: Assignment, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    sources = {}
    if assignment.reference_path is not None:
        sources[assignment.reference_path.name] = extract_answers(assignment.reference_path, names).answers
    if assignment.notebook_prose is None and assignment.notebook.is_file():  # a notebook written by hand
        sources[assignment.notebook.name] = answers_from_notebook(read_notebook(assignment.notebook), names).answers
    return sources


def check_quiz(assignment: Assignment, say: Callable[[str], None]) -> int:
    """The surprises of a quiz assignment (each said as one line)."""
    try:
        quiz = quiz_of(assignment)
    except DefinitionError as exc:
        say(f"SURPRISE {assignment.name}: {exc}")
        return 1
    surprises = _definition_surprises(assignment, quiz, say)
    keyless = {name for name in quiz.names if name not in quiz.keys.values}  # reported above
    sources = _typed_sources(assignment, quiz.names)
    if not sources:
        surprises += 1
        say(f"SURPRISE {assignment.name}: no typed reference answers to check the keys against; "
            "add reference = \"...\" (a .py file assigning each answer) to its [[assignment]]")
    for where, typed in sources.items():
        problems = check_typed_keys(quiz, typed)
        problems += [f"{n}: no typed answer" for n in quiz.names if n not in typed]
        results = grade_answers(quiz, typed)
        problems += [f"{r.name} scored {r.score:g}/{r.max_score:g}" for r in results
                     if r.score < r.max_score and r.name.split(":")[0] not in keyless and r.name.split(":")[0] in typed]
        if problems:
            surprises += 1
            say(f"SURPRISE {assignment.name} keys in {where}: {'; '.join(problems)} "
                f"(update {where} or the key in {quiz.path.name})")
        else:
            say(f"ok       {assignment.name} keys in {where} agree with the {_kinds(quiz)} keys and score full marks")
    return surprises


def _kinds(quiz: Quiz) -> str:
    derived = quiz.keys.derived
    if derived and len(derived) == len(quiz.keys.values):
        return "SymPy-derived"
    return "given and derived" if derived else "given"

"""``grader check-solutions``: the batteries against the references, alternatives and mutants.

References and correct alternatives must score full marks on every unseeded run; every mutant
must lose points on the check it names; the quiz's typed answer keys must agree with keys
re-derived by SymPy. Any surprise makes the command exit non-zero.
"""

from __future__ import annotations

import inspect
import sys
from typing import Callable

import numpy as np

from grader.assignments import ASSIGNMENTS, Assignment
from grader.checks.base import run_battery
from grader.extract import read_notebook, answers_from_notebook
from grader.student import InProcessStudent


def _sandboxed(source: str):
    from grader.sandbox.judge import SandboxedStudent

    return SandboxedStudent([("module", source)])


def check_code_assignment(assignment: Assignment, repeats: int, say: Callable[[str], None]) -> int:
    """Return the number of surprises for one code assignment."""
    battery = assignment.battery()
    reference = assignment.reference()
    mutants = assignment.mutants()
    total = sum(c.points for c in battery.checks)
    surprises = 0
    rng = np.random.default_rng()

    correct = [("reference", inspect.getsource(reference))]
    correct += [(f"alternative {m.name}", m.source(reference)) for m in mutants.ALTERNATIVES]
    for label, source in correct:
        failures = []
        for _ in range(repeats):
            results = run_battery(battery.checks, InProcessStudent.from_source(source), rng)
            failures += [f"{r.name}: {r.output}" for r in results if r.status != "passed"]
        with _sandboxed(source) as student:
            results = run_battery(battery.checks, student, rng)
        failures += [f"(sandboxed) {r.name}: {r.output}" for r in results if r.status != "passed"]
        if failures:
            surprises += 1
            say(f"SURPRISE {assignment.name} {label} lost points: {failures[0]}")
        else:
            say(f"ok       {assignment.name} {label}: {total:g}/{total:g} on {repeats} unseeded runs + sandbox")

    for mutant in mutants.MUTANTS:
        try:
            named = battery.by_id(mutant.caught_by)
        except KeyError:
            surprises += 1
            say(f"SURPRISE {assignment.name} mutant {mutant.name} names unknown check {mutant.caught_by!r}")
            continue
        with _sandboxed(mutant.source(reference)) as student:
            results = run_battery(battery.checks, student, rng)
        by_name = {r.name: r for r in results}
        score = sum(r.score for r in results)
        if by_name[named.name].status == "passed":
            surprises += 1
            say(f"SURPRISE {assignment.name} mutant {mutant.name} passed {mutant.caught_by} ({score:g}/{total:g})")
        else:
            say(f"ok       {assignment.name} mutant {mutant.name}: caught by {mutant.caught_by} ({score:g}/{total:g})")
    return surprises


def check_quiz(say: Callable[[str], None]) -> int:
    """Re-derive the quiz keys and compare them with every typed copy; grade the reference."""
    from grader.quiz import ANSWER_NAMES
    from grader.quiz.grade import grade_answers
    from grader.quiz.keys import check_typed_keys
    from grader.extract import extract_answers
    from grader.paths import REPO_ROOT

    surprises = 0
    typed_sources = {
        "solutions/quiz.py": extract_answers(REPO_ROOT / "solutions" / "quiz.py", ANSWER_NAMES).answers,
        "assignments/quiz/quiz.ipynb": answers_from_notebook(
            read_notebook(ASSIGNMENTS["quiz"].notebook), ANSWER_NAMES
        ).answers,
    }
    for where, typed in typed_sources.items():
        problems = check_typed_keys(typed)
        missing = [n for n in ANSWER_NAMES if n not in typed]
        problems += [f"{n}: no typed answer" for n in missing]
        results = grade_answers(typed)
        problems += [f"{r.name} scored {r.score:g}/{r.max_score:g}" for r in results if r.score < r.max_score]
        if problems:
            surprises += 1
            say(f"SURPRISE quiz keys in {where}: {'; '.join(problems)}")
        else:
            say(f"ok       quiz keys in {where} agree with the SymPy-derived keys and score full marks")
    return surprises


def check_solutions(repeats: int = 20, say: Callable[[str], None] = print) -> int:
    """Run every check; return the process exit status (0: no surprises)."""
    surprises = 0
    for assignment in ASSIGNMENTS.values():
        if assignment.kind == "code":
            surprises += check_code_assignment(assignment, repeats, say)
        else:
            surprises += check_quiz(say)
    say(f"{surprises} surprise(s)" if surprises else "all solutions, alternatives, mutants and keys behave as expected")
    sys.stdout.flush()
    return 1 if surprises else 0

"""``grader check-solutions``: the batteries against the references, alternatives and mutants.

References and correct alternatives must score full marks on every unseeded run; every mutant
must lose points on the check it names, and every check must be failed by some mutant; a quiz's
typed reference answers must agree with its keys (given, or derived with SymPy); a notebook
generated from prose must build. Any surprise makes the command exit non-zero.
"""

from __future__ import annotations

import inspect
import sys
from typing import Callable

import numpy as np

from grader.assignments import ASSIGNMENTS, Assignment
from grader.definition import DefinitionError
from grader.checks.base import CheckBug, run_battery
from grader.student import InProcessStudent


def _in_process(checks, source: str, rng) -> list:
    """The checks run on catalogued (trusted) code in this process; the numpy warnings a mutant's
    arithmetic raises (a division by 1 - p at p = 1) are its expected misbehaviour, not news."""
    with np.errstate(all="ignore"):
        return run_battery(checks, InProcessStudent.from_source(source), rng)


def _sandboxed(source: str):
    from grader.sandbox.judge import SandboxedStudent

    return SandboxedStudent([("module", source)])


def _full_marks(label: str, source: str, assignment: Assignment, battery, repeats: int, rng, say) -> int:
    """Surprises (0 or 1) of a variant that must score full marks on every run, sandboxed once."""
    total = sum(c.points for c in battery.checks)
    failures = []
    try:
        for _ in range(repeats):
            results = _in_process(battery.checks, source, rng)
            failures += [f"{r.name}: {r.output}" for r in results if r.status != "passed"]
        with _sandboxed(source) as student:
            results = run_battery(battery.checks, student, rng)
    except CheckBug as exc:
        say(f"SURPRISE {assignment.name} {label}: {exc}")
        return 1
    failures += [f"(sandboxed) {r.name}: {r.output}" for r in results if r.status != "passed"]
    if failures:
        say(f"SURPRISE {assignment.name} {label} lost points: {failures[0]}")
        return 1
    say(f"ok       {assignment.name} {label}: {total:g}/{total:g} on {repeats} unseeded runs + sandbox")
    return 0


def _mutant(mutant, source: str, assignment: Assignment, battery, repeats: int, rng, say) -> tuple[int, set[str]]:
    """(surprises, ids of the checks it failed) of a mutant: sandboxed once, then ``repeats - 1``
    more runs in-process (it is catalogued, trusted code) that must give the same score."""
    total = sum(c.points for c in battery.checks)
    try:
        named = battery.by_id(mutant.caught_by)
    except KeyError:
        where = f" ({mutant.where})" if mutant.where else ""
        say(f"SURPRISE {assignment.name} mutant {mutant.name}{where} names unknown check {mutant.caught_by!r}; "
            f"its checks: {', '.join(c.id for c in battery.checks)}")
        return 1, set()
    try:
        with _sandboxed(source) as student:
            runs = [run_battery(battery.checks, student, rng)]
        runs += [_in_process(battery.checks, source, rng) for _ in range(repeats - 1)]
    except CheckBug as exc:
        say(f"SURPRISE {assignment.name} mutant {mutant.name}: {exc}")
        return 1, {named.id}  # one line for it: not also "its check is failed by no mutant"
    scores = sorted({sum(r.score for r in results) for results in runs})
    failed = {c.id for results in runs for c, r in zip(battery.checks, results) if r.status != "passed"}
    score = scores[0]
    if named.id not in {c.id for c, r in zip(battery.checks, runs[0]) if r.status != "passed"}:
        say(f"SURPRISE {assignment.name} mutant {mutant.name} passed {mutant.caught_by} ({score:g}/{total:g})")
        return 1, failed
    if len(scores) > 1:
        say(f"SURPRISE {assignment.name} mutant {mutant.name} scored differently on {len(runs)} runs: "
            f"{', '.join(f'{s:g}' for s in scores)} of {total:g}; make its checks' draws decide it the same way every run")
        return 1, failed
    say(f"ok       {assignment.name} mutant {mutant.name}: caught by {mutant.caught_by} ({score:g}/{total:g})")
    return 0, failed


def check_code_assignment(assignment: Assignment, repeats: int, say: Callable[[str], None],
                          mutant_repeats: int = 3, every_check_caught: bool = True) -> int:
    """Return the number of surprises for one code assignment (each is said as one line)."""
    try:
        battery = assignment.battery()
        reference = assignment.reference()
        mutants = assignment.mutants()
    except DefinitionError as exc:
        say(f"SURPRISE {assignment.name}: {exc}")
        return 1
    surprises = 0
    rng = np.random.default_rng()
    for problem in getattr(mutants, "problems", []):
        surprises += 1
        say(f"SURPRISE {assignment.name} {problem}")
    reference_source = inspect.getsource(reference)
    surprises += _full_marks("reference", reference_source, assignment, battery, repeats, rng, say)
    failed: set[str] = set()
    for kind, variants in (("alternative", mutants.ALTERNATIVES), ("mutant", mutants.MUTANTS)):
        for variant in variants:
            try:
                source = variant.source(reference)
            except ValueError as exc:  # an edit the changed reference no longer matches
                surprises += 1
                say(f"SURPRISE {assignment.name} {exc}")
                continue
            if kind == "alternative":
                surprises += _full_marks(f"alternative {variant.name}", source, assignment, battery, repeats, rng, say)
            else:
                found, caught = _mutant(variant, source, assignment, battery, max(1, mutant_repeats), rng, say)
                surprises += found
                failed |= caught
    if every_check_caught:
        for check in battery.checks:
            if check.id not in failed:
                surprises += 1
                say(f"SURPRISE {assignment.name} check {check.id} is failed by no mutant; add a mutant it catches")
    return surprises


def check_notebook(assignment: Assignment, say: Callable[[str], None]) -> int:
    """Surprises (0 or 1) of a notebook generated from prose: it must build (every marker names a
    function or question, every listed function is in the reference)."""
    if assignment.notebook_prose is None:
        return 0
    from grader.notebooks import build_notebook

    try:
        build_notebook(assignment)
    except DefinitionError as exc:
        say(f"SURPRISE {assignment.name} notebook: {exc}")
        return 1
    return 0


def check_assignment(assignment: Assignment, repeats: int, say: Callable[[str], None], mutant_repeats: int = 3) -> int:
    """The surprises of one assignment of any definition (each said as one line)."""
    if assignment.kind == "code":
        surprises = check_code_assignment(assignment, repeats, say, mutant_repeats)
    else:
        from grader.quiz.check import check_quiz

        surprises = check_quiz(assignment, say)
    return surprises + check_notebook(assignment, say)


def check_solutions(repeats: int = 20, say: Callable[[str], None] = print, mutant_repeats: int = 3) -> int:
    """Check every assignment of the definition in use; return the exit status (0: no surprises)."""
    surprises = sum(check_assignment(a, repeats, say, mutant_repeats) for a in ASSIGNMENTS.values())
    say(f"{surprises} surprise(s)" if surprises else "all solutions, alternatives, mutants and keys behave as expected")
    sys.stdout.flush()
    return 1 if surprises else 0

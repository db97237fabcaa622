"""Grade quiz answers: one :class:`~grader.results.TestResult` per answer name.

Per answer: parse (:mod:`.parse`), compare with the derived key (:mod:`.equivalence`), then with
the named misconceptions (:mod:`.misconceptions`), all under a time limit. Never raises on any
answer text: what cannot be read, and what the grader cannot decide, is an ``error`` result
with a message for the student. The comparison points are seeded from the answer itself, so
the same answer gets the same verdict on every run.
"""

from __future__ import annotations

import random

from grader.quiz import ANSWER_NAMES, NO_ANSWER
from grader.quiz.equivalence import Comparison, seed_for
from grader.quiz.guard import AnswerTimeout, time_limit
from grader.quiz.keys import derive_keys
from grader.quiz.misconceptions import candidates
from grader.quiz.parse import AnswerError, Parsed, parse_answer
from grader.quiz.questions import QUESTIONS
from grader.results import TestResult

TIME_LIMIT = 2.0  # seconds per answer; normal answers take milliseconds
POINTS = 1.0


def _listing(names) -> str:
    names = sorted(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _seen(parsed: Parsed) -> str:
    """"Understood as ..." plus how the answer was read where that was not literal."""
    notes = "".join(f" Note: {note}." for note in parsed.notes)
    return f"Understood as {parsed.text}.{notes}"


def _judge(name: str, parsed: Parsed, rng: random.Random) -> tuple[float, str, str, str]:
    """(score, status, output, misconception label) of an understood answer."""
    question = QUESTIONS[name]
    seen = _seen(parsed)
    comparison = Comparison(parsed, question.domain, question.symbols, rng)
    verdict = comparison.matches(derive_keys()[name], symbolic=True)
    if verdict:
        return POINTS, "passed", f"Right. {seen}", ""
    for misconception, exprs in candidates(name):
        if any(comparison.matches(expr) for expr in exprs):
            output = f"{seen} Not right: {misconception.message}."
            if misconception.credit:
                output += f" Partial credit: {misconception.credit * POINTS:g} of {POINTS:g} point."
            return misconception.credit * POINTS, "failed", output, misconception.label
    if verdict is None:
        return 0.0, "error", (
            f"{seen} The grader cannot decide whether this is right: it uses roots, fractional powers "
            "or floor/ceiling, and SymPy could neither prove it equal to the expected answer nor find "
            "a value where they differ. Write it without them (every answer of this quiz can be)."
        ), ""
    output = f"{seen} This is not equivalent to the expected answer (compared symbolically and at random values)."
    foreign = parsed.names - set(question.symbols)
    if foreign:
        output += (f" It uses {_listing(foreign)}, which this question does not involve "
                   f"(its symbols are {_listing(question.symbols)}).")
    return 0.0, "failed", output, ""


def grade_answer(name: str, answer: object, rng: random.Random | None = None) -> TestResult:
    """Grade one answer (``None`` when it was not given). Never raises.

    Without ``rng``, the comparison points are seeded from the answer (deterministic verdicts).
    """
    question = QUESTIONS[name]
    result = TestResult(f"{name}: {question.title}", 0.0, POINTS, "failed", cell=question.cell)
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        result.output = NO_ANSWER
        return result
    try:
        rng = rng or random.Random(seed_for(name, answer))
        with time_limit(TIME_LIMIT):
            parsed = parse_answer(answer)
            result.understood = parsed.latex
            result.score, result.status, result.output, result.misconception = _judge(name, parsed, rng)
    except AnswerError as exc:
        result.status = "error"
        result.output = f"Not understood: {exc}. The notebook's preview shows how an answer is read."
    except AnswerTimeout:
        result.status = "error"
        result.output = (f"Checking this answer took more than {TIME_LIMIT:g} s, so it was stopped; "
                         "write it in a simpler form.")
    except Exception as exc:  # a grader fault must cost this answer, not the whole submission
        result.status = "error"
        result.output = f"The grader could not check this answer ({type(exc).__name__}); tell your instructor."
    return result


def grade_answers(answers: dict[str, str]) -> list[TestResult]:
    """One result per name in :data:`~grader.quiz.ANSWER_NAMES`, in that order.

    Missing answers fail with "no answer given"; names outside ANSWER_NAMES are ignored.
    """
    derive_keys()  # once per process, outside the per-answer time limit
    for name in ANSWER_NAMES:
        candidates(name)
    return [grade_answer(name, answers.get(name)) for name in ANSWER_NAMES]

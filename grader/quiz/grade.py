"""Grade quiz answers: one :class:`~grader.results.TestResult` per question of a quiz.

Per answer: parse (:mod:`.parse`, in the quiz's notation), compare with the key
(:mod:`.equivalence`, on the question's domain), then with the named misconceptions
(:mod:`.keys`), all under a time limit. Never raises on any answer text: what cannot be read,
and what the grader cannot decide, is an ``error`` result with a message for the student. The
comparison points are seeded from the answer itself, so the same answer gets the same verdict
on every run.
"""

from __future__ import annotations

import random

from grader.quiz import NO_ANSWER
from grader.quiz.equivalence import Comparison, seed_for
from grader.quiz.guard import AnswerTimeout, time_limit
from grader.quiz.parse import AnswerError, Parsed, parse_answer
from grader.quiz.questions import Question, Quiz
from grader.results import TestResult

TIME_LIMIT = 2.0  # seconds per answer; normal answers take milliseconds


def _listing(names) -> str:
    names = sorted(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _seen(parsed: Parsed) -> str:
    """"Understood as ..." plus how the answer was read where that was not literal."""
    notes = "".join(f" Note: {note}." for note in parsed.notes)
    return f"Understood as {parsed.text}.{notes}"


def _judge(quiz: Quiz, question: Question, parsed: Parsed, rng: random.Random) -> tuple[float, str, str, str]:
    """(score, status, output, misconception label) of an understood answer."""
    points, seen = question.points, _seen(parsed)
    comparison = Comparison(parsed, question.domain, question.symbols, rng)
    verdict = comparison.matches(quiz.keys.values[question.name], symbolic=True)
    if verdict:
        return points, "passed", f"Right. {seen}", ""
    for misconception, exprs in quiz.keys.candidates.get(question.name, ()):
        if any(comparison.matches(expr) for expr in exprs):
            output = f"{seen} Not right: {misconception.message}."
            if misconception.credit:
                output += (f" Partial credit: {misconception.credit * points:g} of {points:g} "
                           f"point{'' if points == 1 else 's'}.")
            return misconception.credit * points, "failed", output, misconception.label
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


def grade_answer(quiz: Quiz, name: str, answer: object, rng: random.Random | None = None) -> TestResult:
    """Grade the answer to question ``name`` of ``quiz`` (``None`` when it was not given).
    Never raises.

    Without ``rng``, the comparison points are seeded from the answer (deterministic verdicts).
    """
    question = quiz.questions[name]
    result = TestResult(f"{name}: {question.title}", 0.0, question.points, "failed", cell=question.cell)
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        result.output = NO_ANSWER
        return result
    if name not in quiz.keys.values:  # the definition's fault, reported by check-solutions
        result.status = "error"
        result.output = "The grader could not check this answer (it has no answer key); tell your instructor."
        return result
    try:
        rng = rng or random.Random(seed_for(name, answer))
        with time_limit(TIME_LIMIT):
            parsed = parse_answer(answer, quiz.notation)
            result.understood = parsed.latex
            result.score, result.status, result.output, result.misconception = _judge(quiz, question, parsed, rng)
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


def grade_answers(quiz: Quiz, answers: dict[str, str]) -> list[TestResult]:
    """One result per question of ``quiz``, in its order.

    Missing answers fail with "no answer given"; names that are not questions are ignored.
    """
    quiz.keys  # derived once per process, outside the per-answer time limit
    return [grade_answer(quiz, name, answers.get(name)) for name in quiz.names]

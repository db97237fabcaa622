"""Quiz questions declared as data in a course definition (``questions = "questions.toml"``).

Format (docs/authoring.md, "A quiz as data")::

    [[question]]
    name = "pool_Hout"                     # the answer's variable name in the submission
    title = "output height of max pooling"
    symbols = ["H", "pool_height", "stride"]
    domain = "sizes"                       # "real" or "sizes" (positive integers)
    divides = ["stride", "H - pool_height"]  # sizes: the first divides the second evenly
    key = "1 + (H - pool_height) / stride"
    points = 1                             # default 1
    cell = "test_pool_Hout"                # autograder cell (default test_<name>)
    misconceptions = [{ answer = "H / stride", message = "...", credit = 0.0 }]

Answers are read with Quiz 8's parser (:func:`grader.quiz.parse.parse_declared`: text or LaTeX,
never executed) and compared by exact evaluation at sampled points of the domain:

* ``real``: integers in [-10**6, 10**6]; a wrong answer (a rational function of degree at most
  40, the parser's cap) agrees with the key at a random point with probability below
  40 / (2 * 10**6) (Schwartz-Zippel), so at all REAL_POINTS = 6 with probability below 1e-27.
* ``sizes``: ``divides = [d, e]`` is solved for the first symbol of ``e`` not in ``d``
  (``H = pool_height + stride * k``), and the other symbols and ``k`` are drawn: SMALL_POINTS
  small realistic ones (1..5) and LARGE_POINTS in 1..10**6. Without floor, Schwartz-Zippel bounds
  a false accept by (40 / 10**6) ** 40; with floor (``//``), by the 2**-40 < 1e-12 argument of
  :mod:`grader.quiz.equivalence` for answers agreeing on at most half the large points.
A right answer is never rejected: it equals the key wherever both are defined.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sympy

from grader.definition import Assignment, DefinitionError
from grader.quiz.guard import AnswerTimeout, time_limit
from grader.quiz.parse import AnswerError, Parsed, parse_declared
from grader.results import TestResult

REAL_POINTS = 6
SMALL_POINTS = 20
LARGE_POINTS = 40
BIG = 10**6
TIME_LIMIT = 2.0  # seconds per answer, as for Quiz 8


@dataclass(frozen=True)
class Misconception:
    answer: str
    message: str
    credit: float = 0.0


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    symbols: tuple[str, ...]
    key: str
    domain: str = "real"
    divides: tuple[str, str] | None = None
    points: float = 1.0
    cell: str = ""
    misconceptions: tuple[Misconception, ...] = ()


def load_questions(path: Path) -> list[Question]:
    """The questions in ``path``; raises :class:`DefinitionError` with one sentence."""
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("question", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"cannot read the quiz questions in {path}: {exc}") from None
    questions = []
    for i, q in enumerate(entries, 1):
        where = f"{path.name}, question {q.get('name', i)!r}"
        try:
            misconceptions = tuple(Misconception(m["answer"], m["message"], float(m.get("credit", 0.0)))
                                   for m in q.get("misconceptions", []))
            question = Question(
                name=q["name"], title=q.get("title", q["name"]), symbols=tuple(q["symbols"]), key=q["key"],
                domain=q.get("domain", "real"), divides=tuple(q["divides"]) if "divides" in q else None,
                points=float(q.get("points", 1.0)), cell=q.get("cell", f"test_{q['name']}"),
                misconceptions=misconceptions,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DefinitionError(f"{where} is incomplete or malformed ({type(exc).__name__}: {exc}); "
                                  "each needs name, symbols and key") from None
        if not question.name.isidentifier() or not all(s.isidentifier() for s in question.symbols):
            raise DefinitionError(f"{where}: the name and every symbol must be identifiers")
        if question.domain not in ("real", "sizes") or (question.divides and len(question.divides) != 2):
            raise DefinitionError(f"{where}: domain must be real or sizes, divides a pair [d, e]")
        questions.append(question)
    if not questions:
        raise DefinitionError(f"{path} declares no [[question]]")
    return questions


def questions_of(assignment: Assignment) -> list[Question]:
    """The declared questions of a quiz assignment."""
    return load_questions(assignment.questions_path)


def _points(question: Question, rng: random.Random) -> list[dict[sympy.Symbol, sympy.Integer]]:
    symbols = {name: sympy.Symbol(name) for name in question.symbols}
    if question.domain == "real":
        return [{s: sympy.Integer(rng.randint(-BIG, BIG)) for s in symbols.values()} for _ in range(REAL_POINTS)]
    derived, k = None, sympy.Symbol("_k")
    if question.divides:
        d, e = (parse_declared(text, question.symbols).expr for text in question.divides)
        target = next(s for s in symbols.values() if s in e.free_symbols and s not in d.free_symbols)
        derived = (target, sympy.solve(sympy.Eq(e, d * k), target)[0])
    points = []
    for top, count in ((5, SMALL_POINTS), (BIG, LARGE_POINTS)):
        for _ in range(count):
            point = {s: sympy.Integer(rng.randint(1, top)) for s in symbols.values()}
            if derived:
                point[k] = sympy.Integer(rng.randint(0, top))
                point[derived[0]] = derived[1].xreplace(point)
                del point[k]
            points.append(point)
    return points


def _value(expr: sympy.Expr, point) -> sympy.Expr | None:
    value = expr.xreplace(point)
    return value if value.is_Number and value.is_finite else None


def equivalent(answer: Parsed, key: Parsed, points) -> bool:
    """Whether ``answer`` equals ``key`` at every point where the key is defined (and is defined there)."""
    if not answer.has_floor and answer.terms <= 200 and sympy.expand(answer.expr - key.expr) == 0:
        return True  # proved symbolically (when cheap); otherwise the sampled values decide
    compared = 0
    for point in points:
        want = _value(key.expr, point)
        if want is None:
            continue
        if _value(answer.expr, point) != want:
            return False
        compared += 1
    return compared > 0


def grade_question(question: Question, answer: object, rng: random.Random | None = None) -> TestResult:
    """One answer's result (``None``: not given). Never raises for anything the answer holds."""
    result = TestResult(f"{question.name}: {question.title}", 0.0, question.points, "failed", cell=question.cell)
    if not isinstance(answer, str) or not answer.strip():
        result.output = "no answer given"
        return result
    rng = rng or random.Random()
    try:
        with time_limit(TIME_LIMIT):
            parsed = parse_declared(answer, question.symbols)
            result.understood = parsed.latex
            points = _points(question, rng)
            seen = f"Understood as {parsed.text}."
            if equivalent(parsed, parse_declared(question.key, question.symbols), points):
                result.score, result.status, result.output = question.points, "passed", f"Right. {seen}"
                return result
            for m in question.misconceptions:
                if equivalent(parsed, parse_declared(m.answer, question.symbols), points):
                    result.score = m.credit * question.points
                    result.output = f"{seen} Not right: {m.message}."
                    result.misconception = m.message
                    return result
            result.output = f"{seen} This is not equivalent to the expected answer (compared at many values)."
    except AnswerError as exc:
        result.status, result.output = "error", f"Not understood: {exc}."
    except AnswerTimeout:
        result.status, result.output = "error", f"Checking this answer took more than {TIME_LIMIT:g} s; write it in a simpler form."
    return result


def grade_declared(assignment: Assignment, answers: dict[str, str]) -> list[TestResult]:
    """One result per declared question, in order."""
    rng = random.Random()
    return [grade_question(q, answers.get(q.name), rng) for q in questions_of(assignment)]


def check_declared_quiz(assignment: Assignment, say: Callable[[str], None]) -> int:
    """Surprises of a declared quiz: keys and misconceptions must parse, no misconception may equal
    its key, and the reference answers must score full marks. One line each; the run goes on."""
    from grader.extract import extract_answers

    try:
        questions = questions_of(assignment)
    except DefinitionError as exc:
        say(f"SURPRISE {assignment.name}: {exc}")
        return 1
    surprises = 0
    rng = random.Random()
    for q in questions:
        try:
            key = parse_declared(q.key, q.symbols)
            points = _points(q, rng)
            same = [m.answer for m in q.misconceptions if equivalent(parse_declared(m.answer, q.symbols), key, points)]
        except (AnswerError, IndexError, NotImplementedError) as exc:
            surprises += 1
            say(f"SURPRISE {assignment.name} question {q.name}: its key, domain or a misconception cannot be read ({exc})")
            continue
        for answer in same:
            surprises += 1
            say(f"SURPRISE {assignment.name} question {q.name}: the misconception {answer!r} is equivalent to the key; fix one of them")
    if assignment.reference_path is not None:
        typed = extract_answers(assignment.reference_path, tuple(q.name for q in questions)).answers
        for result in grade_declared(assignment, typed):
            if result.score < result.max_score:
                surprises += 1
                say(f"SURPRISE {assignment.name} reference answer {result.name} scored {result.score:g}/{result.max_score:g}: "
                    f"{result.output}; update {assignment.reference_path.name} or the key")
    if not surprises:
        say(f"ok       {assignment.name}: {len(questions)} declared question(s), keys and misconceptions read, "
            "reference answers score full marks")
    return surprises

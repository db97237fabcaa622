"""Answer keys and the misconceptions' expressions of a quiz, from its definition.

A question's key is given (``key = "..."``) or derived: the quiz's ``derive`` functions receive
its reference modules and symbols and return named SymPy expressions; a question without a
given key takes the one named after it. Misconceptions are expressions over the symbols, those
names and ``key``. Nothing here raises: a derivation that fails, a key that is missing, a
misconception that cannot be read are :attr:`Keys.problems` (one sentence each, naming the
question and what to update), and the questions concerned cannot be graded ("no key").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import SimpleNamespace

import sympy

from grader.definition import DefinitionError, load_module
from grader.quiz.equivalence import Comparison, seed_for
from grader.quiz.parse import AnswerError, parse_answer
from grader.quiz.questions import Misconception, Question, Quiz, read_expression


@dataclass
class Keys:
    """What a quiz is graded against.

    - values: question name -> key (questions whose key could not be had are absent).
    - derived: the names of the keys that were derived (the others were given).
    - named: every expression a misconception may name (derived ones and the keys).
    - candidates: question name -> each misconception with its expressions, in order.
    - problems: (question name or ``""``, one sentence) for everything that went wrong.
    """

    values: dict[str, sympy.Expr] = field(default_factory=dict)
    derived: set[str] = field(default_factory=set)
    named: dict[str, sympy.Expr] = field(default_factory=dict)
    candidates: dict[str, tuple[tuple[Misconception, tuple[sympy.Expr, ...]], ...]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def _run_derivations(quiz: Quiz, keys: Keys) -> list[str]:
    """Run every ``derive`` function; return a description of each that failed."""
    failures = []
    try:
        references = SimpleNamespace(**{name: load_module(path) for name, path in quiz.references.items()})
    except DefinitionError as exc:
        return [f"a reference cannot be loaded ({exc})"] if quiz.derivations else []
    for path, function in quiz.derivations:
        where = f"{path.name}:{function}"
        try:
            derived = getattr(load_module(path), function)(references, dict(quiz.notation.symbols))
            if not isinstance(derived, dict) or not all(isinstance(k, str) and isinstance(v, sympy.Expr)
                                                       for k, v in derived.items()):
                raise TypeError("it must return a dict of names to SymPy expressions")
        except Exception as exc:  # the instructor's code: whatever it raises is a problem to report
            said = (str(exc).strip().splitlines() or [""])[0][:300]  # one line, however the hook failed
            failures.append(f"{where} failed ({type(exc).__name__}: {said})")
            continue
        keys.named.update(derived)
    return failures


def _key(quiz: Quiz, question: Question, keys: Keys, failures: list[str]) -> None:
    if question.key:
        try:
            names = {**quiz.notation.symbols, **keys.named}
            keys.values[question.name] = read_expression(question.key, names, f"question {question.name}: key")
        except DefinitionError as exc:
            keys.problems.append((question.name, f"its given key cannot be read: {exc}; fix key in {quiz.path.name}"))
        return
    if question.name in keys.named:
        keys.values[question.name] = keys.named[question.name]
        keys.derived.add(question.name)
        return
    if failures:
        keys.problems.append((question.name, f"no key: {'; '.join(failures)}; update the reference it is derived "
                                             f"from or the derivation"))
    else:
        keys.problems.append((question.name, f"no key: give key = \"...\" in {quiz.path.name} or derive one named "
                                             f"{question.name} in a [quiz] derive function"))


def _drop_each_term(expr: sympy.Expr) -> list[sympy.Expr]:
    return [expr - term for term in sympy.Add.make_args(expr)]


def _candidates(quiz: Quiz, question: Question, keys: Keys) -> tuple:
    names = {**quiz.notation.symbols, **keys.named, **keys.values, "key": keys.values[question.name]}
    found = []
    for m in question.misconceptions:
        where = f"question {question.name}, misconception {m.slug}"
        try:
            subs = {sympy.Symbol(s): read_expression(v, quiz.notation.symbols, where) for s, v in m.subs}
            exprs = [read_expression(a.replace("{name}", question.name), names, where).xreplace(subs) for a in m.answers]
        except DefinitionError as exc:
            keys.problems.append((question.name, f"{exc}; fix it in {quiz.path.name} or the derivation"))
            continue
        if m.drop_a_term:
            exprs = [e for expr in exprs for e in _drop_each_term(expr)]
        found.append((m, tuple(exprs)))
    return tuple(found)


def derive(quiz: Quiz) -> Keys:
    """Every question's key and misconception expressions (see the module docstring)."""
    keys = Keys()
    failures = _run_derivations(quiz, keys)
    for question in quiz.questions.values():
        _key(quiz, question, keys, failures)
    for question in quiz.questions.values():
        if question.name in keys.values:
            keys.candidates[question.name] = _candidates(quiz, question, keys)
    return keys


def check_typed_keys(quiz: Quiz, typed: dict[str, str]) -> list[str]:
    """Problems with typed answer keys (a reference solution); empty when all agree with the
    quiz's keys. Names absent from ``typed``, and questions without a key, are not reported."""
    keys, problems = quiz.keys, []
    for name, question in quiz.questions.items():
        if name not in typed or name not in keys.values:
            continue
        try:
            parsed = parse_answer(typed[name], quiz.notation)
        except AnswerError as exc:
            problems.append(f"{name}: typed key not understood: {exc}")
            continue
        comparison = Comparison(parsed, question.domain, question.symbols, random.Random(seed_for(name, typed[name])))
        if not comparison.matches(keys.values[name], symbolic=True):
            kind = "derived" if name in keys.derived else "given"
            problems.append(f"{name}: typed key {parsed.text} disagrees with the {kind} key {sympy.sstr(keys.values[name])}")
    return problems

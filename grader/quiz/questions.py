"""A quiz as data: the questions of a quiz assignment, read from its ``questions`` file.

The format is documented in docs/authoring.md ("A quiz as data"); in short, a TOML file with

* ``[[question]]`` tables: ``name`` (the answer's variable), ``title``, ``cell`` (its nbgrader
  autograder cell, default ``test_<name>``), ``points`` (default 1), ``symbols``, ``domain``
  (``"real"``, ``"sizes"`` or a domain declared under ``[domain.NAME]``), ``key`` (an
  expression; without it the key is derived, see ``derive``) and ``misconceptions`` (slugs of
  ``[misconception.SLUG]`` tables, or tables of their own, with optional ``answer``/``answers``
  and ``subs`` that override the shared entry's);
* ``[quiz]``: ``derive = ["keys.py:function", ...]`` (functions that receive the ``references``
  modules and the quiz's symbols and return named SymPy expressions), ``references`` (name ->
  path), and default ``masks``/``probabilities`` for every question's domain;
* ``[notation]``: ``latex`` (symbol -> how it is shown), ``labels`` (regular expressions of
  what an answer's left-hand side may be), ``summary`` (the symbols as error messages list them);
* ``[domain.NAME]`` and ``[misconception.SLUG]`` tables shared by several questions.

Paths are relative to the questions file. Every problem is a :class:`DefinitionError` of one
sentence naming the file and the entry.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr

from grader.definition import Assignment, DefinitionError
from grader.quiz.equivalence import Domain, step
from grader.quiz.parse import Notation

SMALL_SIZES = (1, 5)  # lowest and highest small value of an integer size not declared otherwise
_GLOBALS = {"Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational, "floor": sympy.floor,
            "ceiling": sympy.ceiling, "sqrt": sympy.sqrt, "__builtins__": {}}
_QUESTION_KEYS = {"name", "title", "cell", "points", "symbols", "domain", "divides", "integers", "masks",
                  "probabilities", "key", "misconceptions"}
_MISCONCEPTION_KEYS = {"use", "slug", "label", "message", "credit", "answer", "answers", "subs", "drop_a_term"}


@dataclass(frozen=True)
class Misconception:
    """A named wrong answer: its expressions (``answers``, read with :func:`read_expression`
    over the quiz's symbols, its named expressions, ``key`` and ``{name}`` for the question's
    name), each changed by ``subs`` (symbol -> expression) and, with ``drop_a_term``, each with
    one of its terms left out. ``credit`` is the fraction of the question's points it earns."""

    slug: str
    label: str
    message: str
    credit: float = 0.0
    answers: tuple[str, ...] = ("key",)
    subs: tuple[tuple[str, str], ...] = ()
    drop_a_term: bool = False


@dataclass(frozen=True)
class Question:
    """One quiz answer: ``name``, ``title`` (the result reads ``"<name>: <title>"``), ``cell``,
    ``points``, ``symbols``, ``domain``, ``key`` (an expression, or ``""`` when derived) and its
    ``misconceptions`` in the order they are tried."""

    name: str
    title: str
    cell: str
    points: float
    symbols: tuple[str, ...]
    domain: Domain
    key: str = ""
    misconceptions: tuple[Misconception, ...] = ()


@dataclass(eq=False)
class Quiz:
    """A loaded quiz: its questions in order, notation, derivations and reference modules."""

    path: Path
    questions: dict[str, Question]
    notation: Notation
    derivations: tuple[tuple[Path, str], ...] = ()
    references: dict[str, Path] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The answer names, in grading order."""
        return tuple(self.questions)

    @functools.cached_property
    def keys(self):
        """The :class:`grader.quiz.keys.Keys` (derived once per process, never raising)."""
        from grader.quiz.keys import derive

        return derive(self)


def read_expression(text: Any, names: dict[str, sympy.Expr], where: str) -> sympy.Expr:
    """An expression of the definition (trusted text: keys, misconceptions, divisibility) over
    ``names`` only; raises :class:`DefinitionError` naming ``where``."""
    if not isinstance(text, (str, int, float)):
        raise DefinitionError(f"{where}: {text!r} is not an expression (write it as a string)")
    try:
        expr = parse_expr(str(text), local_dict=dict(names), global_dict=dict(_GLOBALS),
                          transformations=(auto_number, convert_xor))
        expr = sympy.sympify(expr)
    except NameError as exc:
        raise DefinitionError(f"{where}: {text!r} names something that is not a symbol or named expression "
                              f"of the quiz ({exc})") from None
    except Exception as exc:
        raise DefinitionError(f"{where}: {text!r} cannot be read as an expression ({type(exc).__name__}: {exc})") from None
    if not isinstance(expr, sympy.Expr):
        raise DefinitionError(f"{where}: {text!r} is not an expression")
    return expr


def _strings(value: Any, where: str, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"{where}: {what} must be a list of strings, not {value!r}")
    return tuple(value)


def _identifiers(value: Any, where: str, what: str) -> tuple[str, ...]:
    names = _strings(value, where, what)
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise DefinitionError(f"{where}: {what} must be identifiers, not {', '.join(map(repr, bad))}")
    return names


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise DefinitionError(f"{where} must be a table, not {value!r}")
    return value


def _integers(value: Any, where: str) -> tuple[tuple[str, int, int], ...]:
    entries = []
    for name, bounds in _table(value, f"{where}: integers").items():
        if not (name.isidentifier() and isinstance(bounds, list) and len(bounds) == 2
                and all(type(b) is int for b in bounds) and bounds[0] <= bounds[1]):
            raise DefinitionError(f"{where}: integers must map each size to [lowest, highest small value], "
                                  f"not {name} = {bounds!r}")
        entries.append((name, bounds[0], bounds[1]))
    return tuple(entries)


def _divides(value: Any, integers: tuple[tuple[str, int, int], ...], where: str) -> tuple:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        value = [value]  # one assumption written as a pair
    if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
        raise DefinitionError(f"{where}: divides must be a pair [d, e] (d divides e evenly) or a list of pairs")
    names = {n: sympy.Symbol(n) for n, _, _ in integers}
    solved_pairs = []
    for index, (d_text, e_text) in enumerate(value):
        d = read_expression(d_text, names, f"{where}, divides")
        e = read_expression(e_text, names, f"{where}, divides")
        target = next((n for n, _, _ in integers if names[n] in e.free_symbols and names[n] not in d.free_symbols), None)
        solutions = sympy.solve(sympy.Eq(e, d * step(index)), names[target]) if target else []
        if len(solutions) != 1:
            raise DefinitionError(f"{where}: divides [{d_text!r}, {e_text!r}] cannot be solved for a size of {e_text!r}")
        solved_pairs.append((d, target, solutions[0]))
    return tuple(solved_pairs)


def _domain(entry: dict, symbols: tuple[str, ...], defaults: dict, where: str) -> Domain:
    """A domain from a question or a ``[domain.NAME]`` table (``kind`` given or implied)."""
    kind = entry.get("kind", entry.get("domain", "real"))
    if kind not in ("real", "sizes"):
        raise DefinitionError(f"{where}: domain must be real, sizes or a declared [domain.NAME], not {kind!r}")
    masks = _identifiers(entry.get("masks", defaults.get("masks", [])), where, "masks")
    probabilities = _identifiers(entry.get("probabilities", defaults.get("probabilities", [])), where, "probabilities")
    if kind == "real":
        if "divides" in entry or "integers" in entry:
            raise DefinitionError(f"{where}: divides and integers belong to a sizes domain (domain = \"sizes\")")
        return Domain("real", masks, probabilities)
    integers = (_integers(entry["integers"], where) if "integers" in entry
                else tuple((s, *SMALL_SIZES) for s in symbols))
    divides = _divides(entry["divides"], integers, where) if "divides" in entry else ()
    return Domain("sizes", masks, probabilities, integers, divides)


def _misconception(entry: Any, shared: dict[str, dict], where: str, index: int) -> Misconception:
    if isinstance(entry, str):
        entry = {"use": entry}
    entry = _table(entry, f"{where}, misconception {index}")
    unknown = set(entry) - _MISCONCEPTION_KEYS
    if unknown:
        raise DefinitionError(f"{where}, misconception {index} has unknown key(s) {', '.join(sorted(unknown))}")
    if "use" in entry:
        if not isinstance(entry["use"], str) or entry["use"] not in shared:
            raise DefinitionError(f"{where}: misconception {entry['use']!r} is not declared as [misconception.{entry['use']}]")
        declared = _table(shared[entry["use"]], f"{where}: [misconception.{entry['use']}]")
        entry = {**declared, "slug": entry["use"], **{k: v for k, v in entry.items() if k != "use"}}
    here = f"{where}, misconception {entry.get('slug', index)!r}"
    if not isinstance(entry.get("message"), str) or not entry["message"]:
        raise DefinitionError(f"{here} needs a message (what is wrong and the usual cause)")
    answers = entry.get("answers", [entry["answer"]] if "answer" in entry else ["key"])
    credit = entry.get("credit", 0.0)
    if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0 <= credit < 1:
        raise DefinitionError(f"{here}: credit must be a number from 0 to below 1, not {credit!r}")
    subs = _table(entry.get("subs", {}), f"{here}: subs")
    if not all(isinstance(k, str) and k.isidentifier() and isinstance(v, (str, int)) for k, v in subs.items()):
        raise DefinitionError(f"{here}: subs must map symbols to expressions, e.g. {{ p = \"1 - p\" }}")
    return Misconception(
        slug=str(entry.get("slug", f"misconception_{index}")), label=str(entry.get("label", entry["message"])),
        message=entry["message"], credit=float(credit), answers=_strings(answers, here, "answers"),
        subs=tuple((k, str(v)) for k, v in subs.items()), drop_a_term=bool(entry.get("drop_a_term", False)),
    )


def _question(q: Any, index: int, data: dict, path: Path) -> Question:
    where = f"{path.name}, question {index}"
    q = _table(q, where)
    if not isinstance(q.get("name"), str) or not q["name"].isidentifier():
        raise DefinitionError(f"{where} needs a name that is a Python identifier (the answer's variable), not {q.get('name')!r}")
    where = f"{path.name}, question {q['name']!r}"
    unknown = set(q) - _QUESTION_KEYS
    if unknown:
        raise DefinitionError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}")
    if "symbols" not in q:
        raise DefinitionError(f"{where} needs symbols = [...], the symbols its answer is written in")
    symbols = _identifiers(q["symbols"], where, "symbols")
    defaults = data.get("quiz", {})
    domain_name = q.get("domain", "real")
    declared = data.get("domain", {})
    if not isinstance(domain_name, str):
        raise DefinitionError(f"{where}: domain must be a name, not {domain_name!r}")
    if domain_name in declared:
        domain = _domain({"kind": "sizes", **_table(declared[domain_name], f"[domain.{domain_name}]")}, symbols,
                         defaults, f"{path.name}, [domain.{domain_name}]")
    else:
        domain = _domain(q, symbols, defaults, where)
    points = q.get("points", 1.0)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        raise DefinitionError(f"{where}: points must be a positive number, not {points!r}")
    key = q.get("key", "")
    if not isinstance(key, str):
        raise DefinitionError(f"{where}: key must be an expression written as a string, not {key!r}")
    shared = data.get("misconception", {})
    entries = q.get("misconceptions", [])
    if not isinstance(entries, list):
        raise DefinitionError(f"{where}: misconceptions must be a list")
    return Question(
        name=q["name"], title=str(q.get("title", q["name"])), cell=str(q.get("cell", f"test_{q['name']}")),
        points=float(points), symbols=symbols, domain=domain, key=key,
        misconceptions=tuple(_misconception(m, shared, where, i) for i, m in enumerate(entries, 1)),
    )


def _notation(data: dict, questions: list[Question], path: Path) -> Notation:
    where = f"{path.name}, [notation]"
    entry = _table(data.get("notation", {}), where)
    unknown = set(entry) - {"latex", "labels", "summary"}
    if unknown:
        raise DefinitionError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}")
    names = tuple(dict.fromkeys(s for q in questions for s in q.symbols))
    latex = _table(entry.get("latex", {}), f"{where}: latex")
    if not all(isinstance(v, str) for v in latex.values()) or set(latex) - set(names):
        raise DefinitionError(f"{where}: latex must map symbols of the questions to LaTeX strings")
    labels = _strings(entry.get("labels", []), where, "labels")
    for label in labels:
        try:
            re.compile(label)
        except re.error as exc:
            raise DefinitionError(f"{where}: the label {label!r} is not a regular expression ({exc})") from None
    return Notation(names, tuple(latex.items()), labels, str(entry.get("summary", "")))


def _derivations(entry: dict, path: Path) -> tuple[tuple[Path, str], ...]:
    found, where = [], f"{path.name}, [quiz]"
    for item in _strings(entry.get("derive", []), where, "derive"):
        file, _, function = item.partition(":")
        if not function.isidentifier():
            raise DefinitionError(f"{where}: derive entries are \"file.py:function\", not {item!r}")
        file_path = (path.parent / file).resolve()
        if not file_path.is_file():
            raise DefinitionError(f"{where}: derive names {file!r}, which does not exist under {path.parent}")
        found.append((file_path, function))
    return tuple(found)


def load_quiz(path: Path) -> Quiz:
    """The quiz in ``path``; raises :class:`DefinitionError` with one sentence."""
    path = Path(path).resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"cannot read the quiz questions in {path}: {exc}") from None
    unknown = set(data) - {"quiz", "notation", "domain", "misconception", "question"}
    if unknown:
        raise DefinitionError(f"{path.name} has unknown table(s) {', '.join(sorted(unknown))}")
    for name in ("quiz", "notation", "domain", "misconception"):
        _table(data.get(name, {}), f"{path.name}, [{name}]")
    entries = data.get("question", [])
    if not isinstance(entries, list) or not entries:
        raise DefinitionError(f"{path} declares no [[question]]")
    questions = [_question(q, i, data, path) for i, q in enumerate(entries, 1)]
    names = [q.name for q in questions]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{path.name} declares question {next(n for n in names if names.count(n) > 1)!r} twice")
    quiz_entry = data.get("quiz", {})
    unknown = set(quiz_entry) - {"derive", "references", "masks", "probabilities"}
    if unknown:
        raise DefinitionError(f"{path.name}, [quiz] has unknown key(s) {', '.join(sorted(unknown))}")
    references = {}
    for name, file in _table(quiz_entry.get("references", {}), f"{path.name}, [quiz] references").items():
        reference = (path.parent / str(file)).resolve()
        if not reference.is_file():
            raise DefinitionError(f"{path.name}, [quiz] references: {name} = {file!r} does not exist")
        references[name] = reference
    return Quiz(path, {q.name: q for q in questions}, _notation(data, questions, path),
                _derivations(quiz_entry, path), references)


@functools.lru_cache(maxsize=None)
def _cached(path: Path, mtime: int) -> Quiz:
    return load_quiz(path)


def quiz_of(assignment: Assignment) -> Quiz:
    """The quiz of a quiz assignment (loaded once per process and file version)."""
    if assignment.questions_path is None:
        raise DefinitionError(f"quiz assignment {assignment.name!r} has no questions; add questions = \"questions.toml\" "
                              "to its [[assignment]] in course.toml")
    path = Path(assignment.questions_path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return _cached(path.resolve(), mtime)

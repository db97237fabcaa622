"""Is a student's expression the same function as a key? The same verdict on every run.

A question's :class:`Domain` (declared with it, docs/authoring.md) says how its variables range:
``real`` (free real variables; ``masks`` take only 0 and 1, ``probabilities`` lie in (0, 1]) or
``sizes`` (integer sizes, each at least its declared lowest value, with ``divides = [d, e]``
assumptions: ``d`` divides ``e`` evenly, so ``e = d*k`` for an integer k >= 0, solved for the
first of the domain's integers in ``e`` that is not in ``d``, the *target*).

Every expression the parser accepts is in one of two classes (:func:`is_rational`):

**Rational functions** (numbers, symbols, ``+ - * /`` and integer powers): exact evaluation at
random points, after ``expand`` of the difference (when cheap) has had its chance to prove it.

* ``real`` domains: every variable is a random integer in [-10**6, 10**6] except the masks,
  which take every 0/1 combination (so ``m**2 == m``, as for a real mask). A wrong answer's
  difference from the key is a non-zero rational function whose numerator has degree at most
  ~2 * MAX_DEGREE = 40 on some mask slice, so by Schwartz-Zippel it vanishes at a random point
  with probability <= 40 / (2 * 10**6 + 1) < 2.1e-5; it must vanish at all REAL_POINTS = 4
  independent points to be accepted: false-accept probability < 2e-19. A right answer is
  never rejected (the difference is exactly zero everywhere it is defined).
* ``sizes`` domains: integer tuples on which every divisibility assumption holds: the targets
  are computed from the other integers and a step count k per assumption. The difference is a
  rational function of those free integers and the k of degree <= 80 once the targets are
  substituted; SIZE_POINTS = 6 large tuples, each variable from >= 10**6 values: false-accept
  probability < (80 / 10**6)**6 < 3e-25. A few small realistic tuples (every integer in its
  declared small range, every target at least its lowest value) must be defined too.

The points are drawn from a generator seeded with a digest of the answer (:func:`seed_for`),
so the same answer gets the same verdict on every run. The bound is then over answers: a wrong
answer passes only if its own points, fixed by SHA-256 of its text, all happen to be roots of
its difference, which has probability < 2e-19 for any answer not built to collide with the
hash (finding one means hashing ~10**18 candidates).

**Everything else** (roots and fractional powers, ``floor``/``ceiling``): Schwartz-Zippel does
not hold (``sqrt((m*a)**2)/q`` equals ``m*a/q`` wherever a >= 0, and ``floor(q) = q`` at every
integer), so nothing is accepted by sampling:

* *equal* only when proved: ``simplify`` of the difference is 0 with the domain as
  assumptions (every variable real; probabilities > 0; each mask replaced by 0 and by 1; in
  sizes domains every integer at least its lowest value and each target ``(e solved) with
  d*k``, k an integer >= 0);
* *not equal* only when shown: a point of the domain where both sides are real and differ
  (exactly, or by more than 1e-20 relative in 30-digit arithmetic). The points cover every
  sign pattern of the real variables (all of them for up to 6 variables, else 64 drawn ones;
  each value a random fraction), every mask combination and several probabilities in (0, 1];
  for sizes, a grid of small realistic tuples (the first assumption's integers each at their
  three lowest values, k in 0, 1, 3; the other integers walking their own) and 40 random
  realistic tuples;
* otherwise *undecided* (:meth:`Comparison.matches` returns ``None``): the student is told
  the grader cannot decide it and how to write it instead. A proof or a counterexample is
  certain, so these verdicts carry no error probability at all.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Iterable

import sympy

from grader.quiz.parse import Parsed

REAL_POINTS = 4
SIZE_POINTS = 6
SMALL_SIZE_POINTS = 8
RANDOM_SIZE_TUPLES = 40  # realistic tuples tried as counterexamples for floor/root answers
MAX_SIGN_VARIABLES = 6  # every sign pattern up to this many real variables, else SIGN_PATTERNS
SIGN_PATTERNS = 64
P_VALUES = 2  # keep probabilities tried per sign pattern
BIG = 10**6
MAX_EXPAND_TERMS = 200  # expand only what is cheap to expand
_MAX_REDRAWS = 50
_DIGITS = 30
_TOLERANCE = sympy.Float("1e-20", _DIGITS)

Point = dict[sympy.Symbol, sympy.Expr]
GRID_STEPS = (0, 1, 3)  # step counts k of the grid of small sizes


@dataclass(frozen=True)
class Domain:
    """How a question's variables range (see the module docstring).

    - kind: ``"real"`` or ``"sizes"``.
    - masks: symbols that are 0 or 1 (a mask that keeps or drops).
    - probabilities: symbols in (0, 1] (positive in proofs).
    - integers: the sizes, in draw order, each ``(name, lowest, highest small value)``.
    - divides: ``(divisor, target, solved)`` per assumption: ``target = solved`` with the
      step-count symbol ``k0``, ``k1``, ... (see :func:`step`) standing for e / d.
    """

    kind: str = "real"
    masks: tuple[str, ...] = ()
    probabilities: tuple[str, ...] = ()
    integers: tuple[tuple[str, int, int], ...] = ()
    divides: tuple[tuple[sympy.Expr, str, sympy.Expr], ...] = ()

    @cached_property
    def targets(self) -> dict[str, int]:
        """Each target's assumption index."""
        return {target: i for i, (_, target, _) in enumerate(self.divides)}

    @cached_property
    def lowest(self) -> dict[str, int]:
        return {name: low for name, low, _ in self.integers}

    @cached_property
    def free(self) -> list[tuple[str, int, int]]:
        """The integers drawn (the targets are computed)."""
        return [entry for entry in self.integers if entry[0] not in self.targets]

    @cached_property
    def mask_values(self) -> list[Point]:
        """Every 0/1 combination of the masks ([{}] without masks)."""
        masks = [sympy.Symbol(m) for m in self.masks]
        return [dict(zip(masks, map(sympy.Integer, bits))) for bits in itertools.product((0, 1), repeat=len(masks))]


def step(index: int) -> sympy.Symbol:
    """The step count of a domain's ``index``-th divisibility assumption (e = d * step)."""
    return sympy.Symbol(f"k{index}", integer=True, nonnegative=True)


def seed_for(*parts: str) -> int:
    """A deterministic seed from the answer (name and text): same answer, same points."""
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).digest()[:8], "big")


def is_rational(expr: sympy.Expr) -> bool:
    """Whether ``expr`` is a rational function: only + - * / and integer powers of symbols."""
    if expr.has(sympy.floor, sympy.ceiling):
        return False
    if any(not isinstance(f, sympy.Pow) for f in expr.atoms(sympy.Function)):
        return False
    return all(power.exp.is_Integer for power in expr.atoms(sympy.Pow))


def _value(expr: sympy.Expr, point: Point) -> sympy.Expr | None:
    """Exact value of ``expr`` at ``point``, or ``None`` where it is undefined."""
    value = expr.xreplace(point)
    if not value.is_Number or value.has(sympy.zoo, sympy.nan) or not value.is_finite:
        return None
    return value


def _real_points(domain: Domain, names: Iterable[str], rng: random.Random) -> list[Point]:
    free = [sympy.Symbol(n) for n in sorted(names) if n not in domain.masks]
    base = {s: sympy.Integer(rng.randint(-BIG, BIG)) for s in free}
    return [{**base, **masks} for masks in domain.mask_values]


def _complete(domain: Domain, point: dict[str, int], steps: list[int], small: bool) -> None:
    """Compute the targets of ``point`` from its free integers and step counts; on small
    (realistic) tuples, add steps until each target is at least its lowest value."""
    values = {sympy.Symbol(n): sympy.Integer(v) for n, v in point.items()}
    for index, (divisor, target, solved) in enumerate(domain.divides):
        values[step(index)] = sympy.Integer(steps[index])
        value = solved.xreplace(values)
        if small:
            d = divisor.xreplace(values)
            low = domain.lowest.get(target, 1)
            if value < low and d > 0:
                steps[index] += int(sympy.ceiling((low - value) / d))
                values[step(index)] = sympy.Integer(steps[index])
                value = solved.xreplace(values)
        values[sympy.Symbol(target)] = value
        point[target] = int(value)


def _size_point(domain: Domain, names: Iterable[str], rng: random.Random, small: bool) -> list[Point]:
    point = {name: rng.randint(low, high if small else BIG) for name, low, high in domain.free}
    steps = [rng.randint(0, 5 if small else BIG) for _ in domain.divides]
    _complete(domain, point, steps, small)
    values: Point = {sympy.Symbol(n): sympy.Integer(v) for n, v in point.items()}
    for name in sorted(names):  # symbols foreign to the domain still need values
        values.setdefault(sympy.Symbol(name), sympy.Integer(rng.randint(-BIG, BIG)))
    return [values]


@lru_cache(maxsize=64)
def _grid(domain: Domain) -> list[dict[str, int]]:
    """Every small realistic tuple of the first assumption's integers (each at its three lowest
    values, k in GRID_STEPS), so floor tricks that are wrong only at the smallest sizes cannot
    slip past random draws; the other integers and step counts walk their own values."""
    if domain.divides:
        divisor, _, solved = domain.divides[0]
        first = {s.name for s in divisor.free_symbols | solved.free_symbols}
    else:
        first = {name for name, _, _ in domain.free[:4]}
    head = [(n, low) for n, low, _ in domain.free if n in first]
    rest = [(n, low) for n, low, _ in domain.free if n not in first]
    grid = []
    combos = itertools.product(*[range(low, low + 3) for _, low in head], GRID_STEPS if domain.divides else (0,))
    for index, (*values, k) in enumerate(combos):
        point = dict(zip((n for n, _ in head), values))
        point.update({name: low + (index + j) % 3 for j, (name, low) in enumerate(rest)})
        steps = [k] + [GRID_STEPS[(index // 3 + i) % 3] for i in range(1, len(domain.divides))]
        first_steps = steps[0]
        _complete(domain, point, steps, small=True)
        if not domain.divides or steps[0] == first_steps:  # the first assumption's tuple was realistic as drawn
            grid.append(point)
    return grid


def _grid_points(domain: Domain, names: Iterable[str], rng: random.Random) -> list[Point]:
    points = []
    for values in _grid(domain):
        point = {sympy.Symbol(n): sympy.Integer(v) for n, v in values.items()}
        for name in sorted(names):
            point.setdefault(sympy.Symbol(name), sympy.Integer(rng.randint(-BIG, BIG)))
        points.append(point)
    return points


@lru_cache(maxsize=256)
def _proof_substitutions(domain: Domain, names: frozenset[str]) -> list[dict[sympy.Symbol, sympy.Expr]]:
    """The domain as SymPy assumptions for the symbols ``names``, one substitution per mask
    combination (see the module docstring).

    Sizes are integers (targets: the solved divisibility) only in sizes domains: anywhere else a
    size symbol is foreign to the question, a real variable like any other.
    """
    subs: dict[sympy.Symbol, sympy.Expr] = {sympy.Symbol(n): sympy.Symbol(n, real=True) for n in names}
    for n in domain.probabilities:
        subs[sympy.Symbol(n)] = sympy.Symbol(n, positive=True)
    if domain.kind == "sizes":
        for name, low, _ in domain.integers:
            if name not in domain.targets:
                assumption = {"positive": True} if low >= 1 else {"nonnegative": True} if low == 0 else {}
                subs[sympy.Symbol(name)] = sympy.Symbol(name, integer=True, **assumption)
        for index, (_, target, solved) in enumerate(domain.divides):
            subs[sympy.Symbol(target)] = solved.xreplace(subs)
    return [{**subs, **masks} for masks in domain.mask_values]


def proved_equal(a: sympy.Expr, b: sympy.Expr, domain: Domain) -> bool:
    """Whether SymPy proves ``a == b`` on the question's domain; False means not proved, not
    necessarily different."""
    try:
        a, b = sympy.sympify(a), sympy.sympify(b)
        substitutions = _proof_substitutions(domain, frozenset(s.name for s in a.free_symbols | b.free_symbols))
        return all(sympy.simplify((a - b).xreplace(subs)) == 0 for subs in substitutions)
    except Exception:  # SymPy failing on an odd expression proves nothing
        return False


def _real_value(expr: sympy.Expr, point: Point) -> sympy.Expr | None:
    """The value of ``expr`` at ``point``: exact when rational, else 30 digits; ``None`` where it
    is undefined or not real."""
    value = expr.xreplace(point)
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or not value.is_number:
        return None
    if value.is_Rational:
        return value
    value = value.evalf(_DIGITS)
    return value if value.is_real and value.is_finite else None


def _differ(a: sympy.Expr, b: sympy.Expr) -> bool:
    if a.is_Rational and b.is_Rational:
        return a != b
    return abs(sympy.N(a - b, _DIGITS)) > _TOLERANCE * (1 + abs(a) + abs(b))


def _witness_points(domain: Domain, names: Iterable[str], rng: random.Random) -> list[Point]:
    """Points of the domain where a non-rational answer is compared (see the module docstring)."""
    if domain.kind == "sizes":
        return _grid_points(domain, names, rng) + [
            pt for _ in range(RANDOM_SIZE_TUPLES) for pt in _size_point(domain, names, rng, small=True)
        ]
    fixed = set(domain.masks) | set(domain.probabilities)
    free = [sympy.Symbol(n) for n in sorted(names) if n not in fixed]
    if len(free) <= MAX_SIGN_VARIABLES:
        patterns = list(itertools.product((-1, 1), repeat=len(free)))
    else:
        patterns = [tuple(rng.choice((-1, 1)) for _ in free) for _ in range(SIGN_PATTERNS)]
    points = []
    for signs in patterns:
        for _ in range(P_VALUES):
            # non-integer values too, so floor and ceiling of a real variable show what they do
            base = {s: sympy.Rational(sign * rng.randint(1, 1000), rng.randint(1, 9)) for s, sign in zip(free, signs)}
            for n in domain.probabilities:
                base[sympy.Symbol(n)] = sympy.Rational(rng.randint(1, 1000), 1000)
            points += [{**base, **masks} for masks in domain.mask_values]
    return points


class Comparison:
    """One student answer, evaluated once at points of the question's domain, compared with any
    number of keys.

    ``domain`` is the question's :class:`Domain`; ``names`` are the symbols
    that may occur in the expressions compared (the question's and the student's); ``rng``
    should be seeded with :func:`seed_for` so that the verdict is the same on every run.
    """

    def __init__(self, student: Parsed, domain: Domain, names: Iterable[str], rng: random.Random) -> None:
        self.student = student
        self.domain = domain
        self.rational = is_rational(student.expr)
        names = set(names) | set(student.names)
        self.points: list[Point] = []
        self.values: list[sympy.Expr | None] = []
        self.undefined = False  # undefined where it must not be: it matches nothing
        if not self.rational:
            self.points = _witness_points(domain, names, rng)
            self.values = [_real_value(student.expr, point) for point in self.points]
            return
        if domain.kind != "sizes":
            draws = [lambda: _real_points(domain, names, rng)] * REAL_POINTS
        else:
            draws = [lambda: _size_point(domain, names, rng, small=True)] * SMALL_SIZE_POINTS
            draws += [lambda: _size_point(domain, names, rng, small=False)] * SIZE_POINTS
        for draw in draws:
            for _ in range(_MAX_REDRAWS):
                points = draw()
                values = [_value(student.expr, pt) for pt in points]
                if all(v is not None for v in values):
                    self.points += points
                    self.values += values
                    break
            else:
                self.undefined = True
                return

    def matches(self, key: sympy.Expr, symbolic: bool = False) -> bool | None:
        """Whether the student's expression equals ``key`` on the question's domain; ``None``
        when that cannot be decided (a non-rational answer neither proved nor refuted).

        ``symbolic`` first tries ``expand`` of the difference (when cheap): a zero proves it.
        Points where ``key`` is undefined are skipped (keys are expected to be undefined only on
        a set of probability ~1e-6 per point, such as a probability drawn as 0; at least one
        point must define it).
        """
        if not self.rational:
            return self._decide(key)
        if self.undefined:
            return False
        if symbolic and self.student.terms <= MAX_EXPAND_TERMS:
            if sympy.expand(self.student.expr - key) == 0:
                return True
        for point, value in zip(self.points, self.values):
            expected = _value(key, point)
            if expected is not None and expected != value:
                return False
        return any(_value(key, pt) is not None for pt in self.points)

    def _decide(self, key: sympy.Expr) -> bool | None:
        """A non-rational answer: refuted by a point where both sides are real and differ,
        accepted only by a proof, else undecided."""
        for point, value in zip(self.points, self.values):
            if value is None:
                continue
            expected = _real_value(key, point)
            if expected is not None and _differ(value, expected):
                return False
        if proved_equal(self.student.expr, key, self.domain):
            return True
        return None

"""Is a student's expression the same function as a key? The same verdict on every run.

Every expression the parser accepts is in one of two classes (:func:`is_rational`):

**Rational functions** (numbers, symbols, ``+ - * /`` and integer powers): exact evaluation at
random points, after ``expand`` of the difference (when cheap) has had its chance to prove it.

* ``real`` questions: every variable is a random integer in [-10**6, 10**6] except the mask
  ``D``, which takes both 0 and 1 (so ``D**2 == D``, as for a real mask). A wrong answer's
  difference from the key is a non-zero rational function whose numerator has degree at most
  ~2 * MAX_DEGREE = 40 on some D-slice, so by Schwartz-Zippel it vanishes at a random point
  with probability <= 40 / (2 * 10**6 + 1) < 2.1e-5; it must vanish at all REAL_POINTS = 4
  independent points to be accepted: false-accept probability < 2e-19. A right answer is
  never rejected (the difference is exactly zero everywhere it is defined).
* ``size`` questions (Hout, Wout): integer sizes on which the stride divides
  ``H + 2*pad - HH`` (and ``W + 2*pad - WW``) evenly, as the quiz states: H = HH - 2*pad +
  stride*k. The difference is a rational function of (k, HH, pad, stride) of degree <= 80
  once H is substituted; SIZE_POINTS = 6 large tuples, each variable from >= 10**6 values:
  false-accept probability < (80 / 10**6)**6 < 3e-25. A few small realistic tuples must be
  defined too.

The points are drawn from a generator seeded with a digest of the answer (:func:`seed_for`),
so the same answer gets the same verdict on every run. The bound is then over answers: a wrong
answer passes only if its own points, fixed by SHA-256 of its text, all happen to be roots of
its difference, which has probability < 2e-19 for any answer not built to collide with the
hash (finding one means hashing ~10**18 candidates).

**Everything else** (roots and fractional powers, ``floor``/``ceiling``): Schwartz-Zippel does
not hold (``sqrt((D*Y)**2)/p`` equals ``D*Y/p`` wherever Y >= 0, and ``floor(p) = p`` at every
integer), so nothing is accepted by sampling:

* *equal* only when proved: ``simplify`` of the difference is 0 with the domain as
  assumptions (every variable real; p > 0; D replaced by 0 and by 1; in size questions
  H = HH - 2*pad + stride*k with integers k >= 0, HH >= 1, pad >= 0, stride >= 1);
* *not equal* only when shown: a point of the domain where both sides are real and differ
  (exactly, or by more than 1e-20 relative in 30-digit arithmetic). The points cover every
  sign pattern of the real variables (all of them for up to 6 variables, else 64 drawn ones;
  each value a random fraction), both mask values D = 0 and 1 and several p in (0, 1]; for
  sizes, the grid of small realistic tuples (stride 1..3, pad 0..2, kernel 1..3) and 40
  random realistic tuples;
* otherwise *undecided* (:meth:`Comparison.matches` returns ``None``): the student is told
  the grader cannot decide it and how to write it instead. A proof or a counterexample is
  certain, so these verdicts carry no error probability at all.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from typing import Iterable

import sympy

from grader.quiz.parse import SYMBOLS, Parsed

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


def _real_points(names: Iterable[str], rng: random.Random) -> list[Point]:
    free = [SYMBOLS[n] for n in sorted(names) if n != "D"]
    base = {s: sympy.Integer(rng.randint(-BIG, BIG)) for s in free}
    return [{**base, SYMBOLS["D"]: sympy.Integer(d)} for d in (0, 1)]


def _size_point(names: Iterable[str], rng: random.Random, small: bool) -> list[Point]:
    top = 4 if small else BIG
    stride, pad = rng.randint(1, top), rng.randint(0, 3 if small else BIG)
    point: Point = {SYMBOLS["stride"]: sympy.Integer(stride), SYMBOLS["pad"]: sympy.Integer(pad)}
    for size, kernel in (("H", "HH"), ("W", "WW")):
        k = rng.randint(0, 5 if small else BIG)
        ksize = rng.randint(1, 5 if small else BIG)
        # Small tuples are realistic (size >= 1); large ones only need the divisibility.
        if small:
            ksize = max(ksize, 1 + 2 * pad - stride * k)
        point[SYMBOLS[size]] = sympy.Integer(ksize - 2 * pad + stride * k)
        point[SYMBOLS[kernel]] = sympy.Integer(ksize)
    for name in names:  # symbols foreign to the question still need values
        point.setdefault(SYMBOLS[name], sympy.Integer(rng.randint(-BIG, BIG)))
    return [point]


def _grid_tuples() -> list[tuple[int, int, int, int]]:
    """(size, kernel, pad, stride) for every small realistic case, so floor tricks that are wrong
    only for pad = 0 or stride = 1 cannot slip past random draws."""
    grid = []
    for stride in (1, 2, 3):
        for pad in (0, 1, 2):
            for kernel in (1, 2, 3):
                for k in (0, 1, 3):
                    size = kernel - 2 * pad + stride * k
                    if size >= 1:
                        grid.append((size, kernel, pad, stride))
    return grid


_GRID = _grid_tuples()


def _grid_points(names: Iterable[str], rng: random.Random) -> list[Point]:
    points = []
    for index, (size, kernel, pad, stride) in enumerate(_GRID):
        # The width side shares pad and stride and walks its own kernels and step counts.
        wkernel, wk = (1, 2, 3)[index % 3], (0, 1, 3)[(index // 3 + 1) % 3]
        wsize = wkernel - 2 * pad + stride * wk
        while wsize < 1:
            wsize += stride
        values = {"H": size, "HH": kernel, "W": wsize, "WW": wkernel, "pad": pad, "stride": stride}
        point = {SYMBOLS[n]: sympy.Integer(v) for n, v in values.items()}
        for name in names:
            point.setdefault(SYMBOLS[name], sympy.Integer(rng.randint(-BIG, BIG)))
        points.append(point)
    return points


def _proof_substitutions(domain: str) -> list[dict[sympy.Symbol, sympy.Expr]]:
    """The domain as SymPy assumptions, one substitution per mask value (see the docstring).

    Sizes are integers (H = HH - 2*pad + stride*k) only in size questions: anywhere else a size
    symbol is foreign to the question, a real variable like any other.
    """
    subs: dict[sympy.Symbol, sympy.Expr] = {s: sympy.Symbol(n, real=True) for n, s in SYMBOLS.items()}
    subs[SYMBOLS["p"]] = sympy.Symbol("p", positive=True)
    if domain != "real":
        stride = sympy.Symbol("stride", integer=True, positive=True)
        pad = sympy.Symbol("pad", integer=True, nonnegative=True)
        subs.update({SYMBOLS["stride"]: stride, SYMBOLS["pad"]: pad})
        for size, kernel, steps in (("H", "HH", "k"), ("W", "WW", "kw")):
            ksize = sympy.Symbol(kernel, integer=True, positive=True)
            k = sympy.Symbol(steps, integer=True, nonnegative=True)
            subs.update({SYMBOLS[kernel]: ksize, SYMBOLS[size]: ksize - 2 * pad + stride * k})
    return [{**subs, SYMBOLS["D"]: sympy.Integer(d)} for d in (0, 1)]


_PROOF_SUBSTITUTIONS = {domain: _proof_substitutions(domain) for domain in ("real", "size")}


def proved_equal(a: sympy.Expr, b: sympy.Expr, domain: str = "real") -> bool:
    """Whether SymPy proves ``a == b`` on the question's domain (``real`` or a size question's);
    False means not proved, not necessarily different."""
    substitutions = _PROOF_SUBSTITUTIONS["real" if domain == "real" else "size"]
    try:
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


def _witness_points(domain: str, names: Iterable[str], rng: random.Random) -> list[Point]:
    """Points of the domain where a non-rational answer is compared (see the docstring)."""
    if domain != "real":
        return _grid_points(names, rng) + [
            pt for _ in range(RANDOM_SIZE_TUPLES) for pt in _size_point(names, rng, small=True)
        ]
    free = [SYMBOLS[n] for n in sorted(names) if n not in ("D", "p")]
    if len(free) <= MAX_SIGN_VARIABLES:
        patterns = list(itertools.product((-1, 1), repeat=len(free)))
    else:
        patterns = [tuple(rng.choice((-1, 1)) for _ in free) for _ in range(SIGN_PATTERNS)]
    points = []
    for signs in patterns:
        for _ in range(P_VALUES):
            # non-integer values too, so floor and ceiling of a real variable show what they do
            base = {s: sympy.Rational(sign * rng.randint(1, 1000), rng.randint(1, 9)) for s, sign in zip(free, signs)}
            base[SYMBOLS["p"]] = sympy.Rational(rng.randint(1, 1000), 1000)
            points += [{**base, SYMBOLS["D"]: sympy.Integer(d)} for d in (0, 1)]
    return points


class Comparison:
    """One student answer, evaluated once at points of the question's domain, compared with any
    number of keys.

    ``domain`` is the question's (``real`` or ``height``/``width``); ``names`` are the symbols
    that may occur in the expressions compared (the question's and the student's); ``rng``
    should be seeded with :func:`seed_for` so that the verdict is the same on every run.
    """

    def __init__(self, student: Parsed, domain: str, names: Iterable[str], rng: random.Random) -> None:
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
        if domain == "real":
            draws = [lambda: _real_points(names, rng)] * REAL_POINTS
        else:
            draws = [lambda: _size_point(names, rng, small=True)] * SMALL_SIZE_POINTS
            draws += [lambda: _size_point(names, rng, small=False)] * SIZE_POINTS
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
        Points where ``key`` is undefined are skipped; the keys here are undefined only on a
        set of probability ~1e-6 per point (p = 0), and realistic size tuples never.
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

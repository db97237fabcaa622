"""Is a student's expression the same function as a key? Symbolic first, exact sampling second.

``expand`` of the difference proves equality cheaply for the usual answers. When it does not
(rational functions written differently, ``D**2`` for a 0/1 mask, ``floor``), the verdict
comes from exact evaluation at random points, in the answer's real domain:

* ``real`` questions: every variable is a random integer in [-10**6, 10**6] except the mask
  ``D``, which takes both 0 and 1 (so ``D**2 == D``, as for a real mask). A wrong answer's
  difference from the key is a non-zero rational function whose numerator has degree at most
  ~2 * MAX_DEGREE = 40 on some D-slice, so by Schwartz-Zippel it vanishes at a random point
  with probability <= 40 / (2 * 10**6 + 1) < 2.1e-5; it must vanish at all REAL_POINTS = 4
  independent points to be accepted: false-accept probability < 2e-19. A right answer is
  never rejected (the difference is exactly zero everywhere it is defined).
* ``size`` questions (Hout, Wout): integer sizes on which the stride divides
  ``H + 2*pad - HH`` (and ``W + 2*pad - WW``) evenly, as the quiz states: H = HH - 2*pad +
  stride*k. Without floor the same Schwartz-Zippel bound applies over the large tuples
  (SIZE_POINTS = 6, each variable from >= 10**6 values: < 1e-25), plus a few small realistic
  tuples. With floor, Schwartz-Zippel does not apply: the answer must agree on every small
  realistic tuple of a fixed grid (stride 1..3, pad 0..2, kernel 1..3: catches answers wrong
  only for pad = 0 or stride = 1) and on FLOOR_POINTS = 40 large random tuples; a floor answer
  that agrees on at most half of the large tuples (parity-type coincidences) is accepted with
  probability < 2**-40 < 1e-12.
"""

from __future__ import annotations

import random
from typing import Iterable

import sympy

from grader.quiz.parse import SYMBOLS, Parsed

REAL_POINTS = 4
SIZE_POINTS = 6
FLOOR_POINTS = 40
SMALL_SIZE_POINTS = 8
BIG = 10**6
MAX_EXPAND_TERMS = 200  # expand only what is cheap to expand
_MAX_REDRAWS = 50

Point = dict[sympy.Symbol, sympy.Integer]


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


class Comparison:
    """One student answer, evaluated once at random points, compared with any number of keys.

    ``domain`` is the question's (``real`` or ``height``/``width``); ``names`` are the symbols
    that may occur in the expressions compared (the question's and the student's).
    """

    def __init__(self, student: Parsed, domain: str, names: Iterable[str], rng: random.Random) -> None:
        self.student = student
        names = set(names) | set(student.names)
        fixed: list[Point] = []  # every one must be defined: realistic cases
        if domain == "real":
            draws = [lambda: _real_points(names, rng)] * REAL_POINTS
        elif student.has_floor:
            fixed = _grid_points(names, rng)
            draws = [lambda: _size_point(names, rng, small=False)] * FLOOR_POINTS
        else:
            draws = [lambda: _size_point(names, rng, small=True)] * SMALL_SIZE_POINTS
            draws += [lambda: _size_point(names, rng, small=False)] * SIZE_POINTS
        self.points: list[Point] = []
        self.values: list[sympy.Expr] = []
        self.undefined = False  # undefined where it must not be: it matches nothing
        for point in fixed:
            value = _value(student.expr, point)
            if value is None:
                self.undefined = True
                return
            self.points.append(point)
            self.values.append(value)
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

    def matches(self, key: sympy.Expr, symbolic: bool = False) -> bool:
        """Whether the student's expression equals ``key`` on the question's domain.

        ``symbolic`` first tries ``expand`` of the difference (when cheap): a zero proves it.
        Points where ``key`` is undefined are skipped; the keys here are undefined only on a
        set of probability ~1e-6 per point (p = 0), and realistic size tuples never.
        """
        if self.undefined:
            return False
        if symbolic and not self.student.has_floor and self.student.terms <= MAX_EXPAND_TERMS:
            if sympy.expand(self.student.expr - key) == 0:
                return True
        for point, value in zip(self.points, self.values):
            expected = _value(key, point)
            if expected is not None and expected != value:
                return False
        return any(_value(key, pt) is not None for pt in self.points)
